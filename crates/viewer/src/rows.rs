//! The open file as the page holds it: per row its head and columns (from the worker's
//! batches), display lanes and time indexes (built here once per row), the file's names and
//! attempts, and the few facts of the summary. No `trace` rows: attributes, ids and sample
//! fields stay in the worker and are asked for on selection.

use timeline::{track_lanes, LaneIndex, RowLanes};

use crate::protocol::{RowData, RowHead, Summary, Tables};

/// One row, ready to draw: columns plus the indexes drawing and hit testing search.
pub struct PageRow {
    pub data: RowData,
    pub lanes: RowLanes,
    /// Items by display lane (expanded) and all in one lane (collapsed), each in start order
    /// with a max-end tree: a frame finds the visible window by binary search.
    pub expanded: LaneIndex,
    pub collapsed: LaneIndex,
    /// The row as an overview strip over its own time extent, at two fixed resolutions
    /// (coarse, then fine), made when the row arrives, so an overview frame never computes
    /// one (`strips.rs` paints from the coarsest whose columns are at most a pixel wide).
    pub summaries: [Summary1d; 2],
}

/// A strip's dominant names at a fixed resolution: `cells` (in columns of `(t1 - t0) / cols`
/// seconds) as `timeline::overview_cells` gives them for that viewport.
pub struct Summary1d {
    pub t0: f64,
    pub t1: f64,
    pub cols: usize,
    pub cells: Vec<timeline::Cell>,
}

impl PageRow {
    pub fn new(data: RowData) -> PageRow {
        let lanes = track_lanes(&data.track);
        let expanded = LaneIndex::new(&data.track, &lanes, true);
        let collapsed = LaneIndex::new(&data.track, &lanes, false);
        let summaries = summarize(&data.track, &collapsed);
        PageRow {
            data,
            lanes,
            expanded,
            collapsed,
            summaries,
        }
    }

    pub fn lane_index(&self, expanded: bool) -> &LaneIndex {
        if expanded {
            &self.expanded
        } else {
            &self.collapsed
        }
    }

    /// Display lanes when expanded: at least 1, at most one per item.
    pub fn lane_count(&self) -> u32 {
        let cap = u32::try_from(self.data.track.len().max(1)).unwrap_or(u32::MAX);
        self.lanes.count.clamp(1, cap)
    }
}

/// A file whose rows are on screen.
pub struct Loaded {
    pub name: String,
    pub heads: Vec<RowHead>,
    pub rows: Vec<PageRow>,
    pub tables: Tables,
    pub sample_count: usize,
    pub global_start: Option<f64>,
    pub global_end: Option<f64>,
    pub warnings: Vec<trace::Warning>,
    pub analysis: trace::metrics::Analysis,
    /// Indices into `timeline::PD_PHASES` of the phases the file names.
    pub pd_phases: Vec<usize>,
    /// The most frequent span names, with counts (the legend).
    pub legend: Vec<(u32, usize)>,
}

impl Loaded {
    /// The file once every batch and the summary arrived.
    pub fn new(
        summary: Summary,
        heads: Vec<RowHead>,
        rows: Vec<PageRow>,
        tables: Tables,
    ) -> Loaded {
        let legend = legend(&rows, &tables.names);
        Loaded {
            name: summary.name,
            heads,
            rows,
            tables,
            sample_count: summary.sample_count,
            global_start: summary.global_start,
            global_end: summary.global_end,
            warnings: summary.warnings,
            analysis: summary.analysis,
            pd_phases: summary.pd_phases,
            legend,
        }
    }

    pub fn name_of(&self, id: u32) -> &str {
        self.tables.names.text(id)
    }

    pub fn origin(&self) -> f64 {
        self.global_start.unwrap_or(0.0)
    }
}

/// Which value (a file's [`Loaded`]) something kept was made for. Its address alone is not
/// enough: once that value is freed, a file opened later may be given the same address (and
/// the same name count), and would be taken for it. The weak reference keeps the allocation
/// (not the value's contents), so while it is held no other value can be where it was.
pub struct Same<T>(std::sync::Weak<T>);

impl<T> Default for Same<T> {
    fn default() -> Self {
        Same(std::sync::Weak::new())
    }
}

impl<T> Same<T> {
    /// Whether `v` is the value last [`Same::set`].
    pub fn is(&self, v: &std::sync::Arc<T>) -> bool {
        std::ptr::eq(self.0.as_ptr(), std::sync::Arc::as_ptr(v))
    }

    pub fn set(&mut self, v: &std::sync::Arc<T>) {
        self.0 = std::sync::Arc::downgrade(v);
    }
}

/// Span counts per name, the 14 most frequent (ties by name).
fn legend(rows: &[PageRow], names: &timeline::Names) -> Vec<(u32, usize)> {
    let mut counts = vec![0usize; names.len()];
    for r in rows {
        let t = &r.data.track;
        for i in 0..t.len() {
            if t.is_span(i) {
                if let Some(c) = counts.get_mut(t.name[i] as usize) {
                    *c += 1;
                }
            }
        }
    }
    let mut v: Vec<(u32, usize)> = counts
        .into_iter()
        .enumerate()
        .filter(|(_, c)| *c > 0)
        .map(|(i, c)| (i as u32, c))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(names.text(a.0).cmp(names.text(b.0))));
    v.truncate(14);
    v
}

/// Columns of a strip's two summaries. The fine one is painted from while a row whose extent
/// is the whole rollout is up to ≈ 10 plot widths wide (a shorter row's, longer): the first
/// zooms of the overview, where the most rows and the most of their items are on screen, so
/// computing exact cells would cost the most (a single summary of 4 096 columns left frames
/// of the 1 M-span benchmark dump computing them). The coarse one is painted from further
/// out, so a frame walks at most 2 048 cells of a row (the fine one's 16 384 would be up to
/// 10–15 a pixel). The cells are runs of equal names: a row holds at most as many as it has
/// pieces of spans, and at most one per column (24 bytes each).
const SUMMARY_COLS: [usize; 2] = [2048, timeline::MAX_COLS];

/// The row's summaries at each of [`SUMMARY_COLS`], over its extent (found once).
fn summarize(t: &timeline::Track, collapsed: &LaneIndex) -> [Summary1d; 2] {
    let t0 = t.start.iter().copied().fold(f64::INFINITY, f64::min);
    let t1 = t.end.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    SUMMARY_COLS.map(|cols| summary(t, collapsed, (t0, t1), cols))
}

fn summary(
    t: &timeline::Track,
    collapsed: &LaneIndex,
    (t0, t1): (f64, f64),
    cols: usize,
) -> Summary1d {
    let cells = if t1 > t0 {
        let view = timeline::Viewport {
            t0,
            t1,
            width: cols as f64,
        };
        let mut cells = timeline::overview_cells(t, collapsed, &view, cols as f64);
        cells.shrink_to_fit();
        cells
    } else {
        Vec::new()
    };
    Summary1d {
        t0,
        t1,
        cols,
        cells,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Same;

    /// A value freed, then values made (and kept) until one is given its address, or a
    /// thousand are made: none is taken for it.
    #[test]
    fn a_freed_value_is_not_taken_for_one_made_later_at_its_address() {
        let mut of = Same::default();
        let first = Arc::new([1u64; 40]);
        assert!(!of.is(&first));
        of.set(&first);
        assert!(of.is(&first));
        let at = Arc::as_ptr(&first) as usize;
        drop(first);
        let mut kept = Vec::new();
        for _ in 0..1000 {
            let later = Arc::new([2u64; 40]);
            assert!(!of.is(&later), "a later value taken for the freed one");
            if Arc::as_ptr(&later) as usize == at {
                break;
            }
            kept.push(later);
        }
    }
}
