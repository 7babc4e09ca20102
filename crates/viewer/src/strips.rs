//! A row drawn as a thin strip (the overview and the minimap): per pixel column, the deepest
//! span there (`[P]`/`[D]` virtual spans deepest of all, later starts over earlier ones), as
//! runs of equal name. Viewer-local until `timeline`'s overview cells land in this branch.
//!
//! Cost: O(k log k + width) for the k spans in the window, whatever their widths: spans are
//! taken deepest first and each column is claimed once (a "next free column" union-find),
//! so a row of a hundred thousand overlapping spans costs what sorting them does.

use timeline::{LaneIndex, Track, Viewport};

/// One run of columns `[x0, x1)` whose deepest span has name `name` (and kind `kind`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub x0: u32,
    pub x1: u32,
    pub name: u32,
    pub kind: u8,
}

/// Columns computed at most (a wider strip is cut to this).
pub const MAX_COLS: usize = 1 << 14;

/// Reused buffers, so a frame allocates nothing once warm.
#[derive(Default)]
pub struct Scratch {
    spans: Vec<u32>,
    next: Vec<u32>,
    owner: Vec<u32>,
}

fn find(next: &mut [u32], mut c: u32) -> u32 {
    let mut root = c;
    while (root as usize) < next.len() && next[root as usize] != root {
        root = next[root as usize];
    }
    // Path compression.
    while (c as usize) < next.len() && next[c as usize] != root {
        let n = next[c as usize];
        next[c as usize] = root;
        c = n;
    }
    root
}

/// The runs of `track` (indexed collapsed by `index`) over `view`, `width` columns wide.
pub fn strip_runs(
    track: &Track,
    index: &LaneIndex,
    view: &Viewport,
    width: f64,
    s: &mut Scratch,
) -> Vec<Run> {
    let cols = (width.max(0.0).ceil() as usize).min(MAX_COLS);
    let mut out = Vec::new();
    if cols == 0 || track.is_empty() {
        return out;
    }
    index.spans(track, 0, view.t0, view.t1, &mut s.spans);
    let depth = |i: u32| -> u64 {
        let i = i as usize;
        let pd = track.pd_role(i).is_some() as u64;
        (pd << 33) | track.depth[i] as u64
    };
    s.spans.sort_unstable_by(|&a, &b| {
        depth(b)
            .cmp(&depth(a))
            .then(track.start[b as usize].total_cmp(&track.start[a as usize]))
    });
    s.next.clear();
    s.next.extend(0..=cols as u32);
    s.owner.clear();
    s.owner.resize(cols, u32::MAX);
    for &i in &s.spans {
        let x0 = view.x(track.start[i as usize]).floor().max(0.0);
        let x1 = view.x(track.end[i as usize]).ceil().max(x0 + 1.0);
        let (x0, x1) = (x0.min(cols as f64) as u32, x1.min(cols as f64) as u32);
        let mut c = find(&mut s.next, x0);
        while c < x1 {
            s.owner[c as usize] = i;
            s.next[c as usize] = c + 1;
            c = find(&mut s.next, c + 1);
        }
    }
    let mut c = 0;
    while c < cols {
        let i = s.owner[c];
        if i == u32::MAX {
            c += 1;
            continue;
        }
        let name = track.name[i as usize];
        let start = c;
        while c < cols && s.owner[c] != u32::MAX && track.name[s.owner[c] as usize] == name {
            c += 1;
        }
        out.push(Run {
            x0: start as u32,
            x1: c as u32,
            name,
            kind: track.kind[i as usize],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use timeline::track_lanes;

    fn track(spans: &[(f64, f64, u32, u32)]) -> Track {
        Track {
            start: spans.iter().map(|s| s.0).collect(),
            end: spans.iter().map(|s| s.1).collect(),
            name: spans.iter().map(|s| s.2).collect(),
            kind: vec![0; spans.len()],
            lane: spans.iter().map(|s| s.3).collect(),
            depth: spans.iter().map(|s| s.3).collect(),
        }
    }

    #[test]
    fn the_deepest_span_owns_its_columns() {
        // A root over [0, 100] with a child over [40, 60]: root, child, root.
        let t = track(&[(0.0, 100.0, 0, 0), (40.0, 60.0, 1, 1)]);
        let ix = LaneIndex::new(&t, &track_lanes(&t), false);
        let view = Viewport {
            t0: 0.0,
            t1: 100.0,
            width: 100.0,
        };
        let runs = strip_runs(&t, &ix, &view, 100.0, &mut Scratch::default());
        let names: Vec<(u32, u32, u32)> = runs.iter().map(|r| (r.x0, r.x1, r.name)).collect();
        assert_eq!(names, vec![(0, 40, 0), (40, 60, 1), (60, 100, 0)]);
    }

    #[test]
    fn many_overlapping_spans_cost_what_sorting_them_does() {
        // 200 000 spans each covering the whole width: each column is claimed once. Bound:
        // well under 5 s in a debug build (the per-column loop would be 200 000 × 1 000).
        let n = 200_000;
        let spans: Vec<(f64, f64, u32, u32)> =
            (0..n).map(|i| (0.0, 1000.0, (i % 7) as u32, 0)).collect();
        let t = track(&spans);
        let ix = LaneIndex::new(&t, &track_lanes(&t), false);
        let view = Viewport {
            t0: 0.0,
            t1: 1000.0,
            width: 1000.0,
        };
        let t0 = std::time::Instant::now();
        let runs = strip_runs(&t, &ix, &view, 1000.0, &mut Scratch::default());
        assert!(t0.elapsed().as_secs_f64() < 5.0);
        assert_eq!(runs.len(), 1);
        assert_eq!((runs[0].x0, runs[0].x1), (0, 1000));
    }
}
