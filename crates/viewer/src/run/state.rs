//! The run explorer's signals (one `Copy` struct, like the timeline's `State`): the run's
//! dumps and one summary per dump, the open step and sample, the compare pair. The page keeps
//! summaries and the open step only; samples of other dumps stay in their files.

use std::sync::Arc;

use leptos::prelude::*;
use trace::run::{DumpRef, RolloutSummary, SampleDetail, StepData, TrainPair};

#[derive(Clone, Copy)]
pub struct RunState {
    /// The run's name (its folder, or the index URL); `None`: no run open.
    pub name: RwSignal<Option<String>>,
    pub dumps: RwSignal<Arc<Vec<DumpRef>>>,
    /// Per dump (same index), its summary once the worker sent it.
    pub summaries: RwSignal<Arc<Vec<Option<Arc<RolloutSummary>>>>>,
    /// The layout's notes and the worker's (tokenizer), one line each.
    pub notes: RwSignal<Vec<String>>,
    pub done: RwSignal<bool>,
    /// The run could not be opened (or its worker stopped).
    pub error: RwSignal<Option<String>>,
    pub has_tokenizer: RwSignal<bool>,
    /// The step asked for (dump index), the step shown, and why it could not be read.
    pub open_step: RwSignal<Option<usize>>,
    pub step: RwSignal<Option<StepData>>,
    pub step_error: RwSignal<Option<String>>,
    /// The selected sample (position in the open step) and its detail.
    pub sample: RwSignal<Option<usize>>,
    pub detail: RwSignal<Option<SampleDetail>>,
    pub detail_error: RwSignal<Option<String>>,
    /// The two dumps compared (indices).
    pub compare: RwSignal<(Option<usize>, Option<usize>)>,
    /// A live run: dumps (by file) still being written, and how the run is kept current.
    pub writing: RwSignal<Vec<String>>,
    pub source: RwSignal<super::live::Source>,
    /// The train dumps compared with run B's (`runs_pair`), in the order asked.
    pub pair_train: RwSignal<Option<Vec<Option<TrainPair>>>>,
    /// The user's names for unnamed eval sets, in slime's config order (kept in the link; a
    /// new run keeps them, as the link does).
    pub eval_names: RwSignal<Vec<String>>,
}

impl Default for RunState {
    fn default() -> Self {
        Self::new()
    }
}

impl RunState {
    pub fn new() -> RunState {
        RunState {
            name: RwSignal::new(None),
            dumps: RwSignal::new(Arc::new(Vec::new())),
            summaries: RwSignal::new(Arc::new(Vec::new())),
            notes: RwSignal::new(Vec::new()),
            done: RwSignal::new(false),
            error: RwSignal::new(None),
            has_tokenizer: RwSignal::new(false),
            open_step: RwSignal::new(None),
            step: RwSignal::new(None),
            step_error: RwSignal::new(None),
            sample: RwSignal::new(None),
            detail: RwSignal::new(None),
            detail_error: RwSignal::new(None),
            compare: RwSignal::new((None, None)),
            writing: RwSignal::new(Vec::new()),
            source: RwSignal::new(super::live::Source::Fixed),
            pair_train: RwSignal::new(None),
            eval_names: RwSignal::new(Vec::new()),
        }
    }

    /// Back to "nothing open" before a new run is read.
    pub fn reset(&self, name: String, dumps: Vec<DumpRef>, notes: Vec<String>, tok: bool) {
        let n = dumps.len();
        self.name.set(Some(name));
        self.summaries.set(Arc::new(vec![None; n]));
        self.dumps.set(Arc::new(dumps));
        self.notes.set(notes);
        self.done.set(n == 0);
        self.error.set(None);
        self.has_tokenizer.set(tok);
        self.open_step.set(None);
        self.step.set(None);
        self.step_error.set(None);
        self.sample.set(None);
        self.detail.set(None);
        self.detail_error.set(None);
        self.compare.set((None, None));
        self.writing.set(Vec::new());
        self.pair_train.set(None);
    }

    /// Summaries received so far (tracked).
    pub fn received(&self) -> usize {
        self.summaries
            .with(|s| s.iter().filter(|x| x.is_some()).count())
    }
}
