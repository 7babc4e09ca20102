//! Two runs side by side (`rollscope run A B`, `rollscope.compare_runs`): each run read as the
//! run table reads one, then the train dumps of every aligned train rollout read again with
//! their per-token values (two files at a time per job, under the run table's memory budget)
//! and compared by `trace::run::pair`.

use serde_json::{Map, Value as J};
use trace::run::{compare_train, pair_json, rollout_record, Align, RunOptions, RunSide};
use trace::run::{SampleMatch, TrainPair};

use crate::listing::LocalRun;
use crate::table::{par_map, read_run, read_train_with, DumpResult};
use crate::Src;

/// One run read for a comparison: its name, its records, and where its train files are.
pub struct ReadRun {
    pub name: String,
    pub rollouts: Vec<Map<String, J>>,
    pub samples: Vec<Map<String, J>>,
    pub results: Vec<DumpResult>,
    root: std::path::PathBuf,
}

/// `rollscope run A B --json`: the run folders `dirs` (each listed as `rollscope run DIR`
/// lists it, named by its path as given) read and compared.
pub fn compare_dirs(
    dirs: [&std::path::Path; 2],
    jobs: usize,
    opts: &RunOptions,
    templates: &trace::run::Templates,
    (by, matched): (Align, SampleMatch),
) -> Result<J, String> {
    let mut sides = Vec::with_capacity(2);
    for d in dirs {
        let mut run = crate::listing::list_local_with(&[d.to_path_buf()], true, templates)?;
        sides.push(read_side(&mut run, d.display().to_string(), jobs, opts));
    }
    Ok(compare(&sides[0], &sides[1], by, matched, jobs))
}

/// Reads one run of a comparison (as `rollscope run` reads it).
pub fn read_side(run: &mut LocalRun, name: String, jobs: usize, opts: &RunOptions) -> ReadRun {
    let results = read_run(run, jobs, opts);
    let rollouts = results.iter().map(|r| rollout_record(&r.summary)).collect();
    let samples = results.iter().flat_map(|r| r.samples.clone()).collect();
    ReadRun {
        name,
        rollouts,
        samples,
        results,
        root: run.root.clone(),
    }
}

/// The comparison document of two runs read ([`trace::run::pair_json`]); train dumps that
/// cannot be read again leave their rollout without log prob differences.
pub fn compare(a: &ReadRun, b: &ReadRun, by: Align, matched: SampleMatch, jobs: usize) -> J {
    let train = |r: &ReadRun, i: usize| {
        let d = r.results.get(i)?.summary.dump.as_ref()?;
        (d.kind == trace::run::DumpKind::Train)
            .then(|| Some((d.rollout_id, r.root.join(d.train_file.as_ref()?))))?
    };
    let work: Vec<_> = trace::run::align(&a.rollouts, &b.rollouts, by)
        .into_iter()
        .filter_map(|(i, j)| Some((train(a, i?)?, train(b, j?)?)))
        .collect();
    let pairs: Vec<(i64, i64, TrainPair)> = par_map(&work, jobs, |((x, pa), (y, pb))| {
        let ta = read_train_with(&Src::Path(pa.clone()), true).ok()?;
        let tb = read_train_with(&Src::Path(pb.clone()), true).ok()?;
        Some((*x, *y, compare_train(&ta, &tb, matched)))
    })
    .into_iter()
    .flatten()
    .collect();
    pair_json(&a.side(), &b.side(), by, matched, &pairs)
}

impl ReadRun {
    fn side(&self) -> RunSide<'_> {
        RunSide {
            name: &self.name,
            rollouts: &self.rollouts,
            samples: &self.samples,
        }
    }
}
