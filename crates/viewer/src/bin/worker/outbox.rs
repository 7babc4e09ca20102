//! The rows on their way to the page: the store's rows turned into the page's batches of
//! columns, in order, while the load is still building the rest (the page decodes one batch
//! while the worker reads on), with the names and attempt numbers they introduce.
//!
//! Rows sent early are the finished file's first rows unless `trace` starts a new store: at the
//! end, when the file names another sample list (a pickle that sets `samples` twice), or
//! while reading, when a legacy file's first pickle turns out to be its magic number. The
//! outbox tells by the store's id, and starts the page over then.

use std::collections::HashMap;

use serde_json::Value as J;
use timeline::{Names, Track};
use trace::json::py_str;
use trace::store::Store;
use viewer::protocol::{
    BatchHead, BatchWriter, Columns, PdSegment, RowData, RowHead, HEAD_TEXT_MAX,
};

/// Where a finished batch goes (the worker posts it; tests decode it).
pub type Post<'a> = dyn FnMut(BatchHead, Columns) -> Result<(), String> + 'a;

/// The rows sent so far, and the tables the page has been given.
#[derive(Default)]
pub struct Outbox {
    /// Names and attempt numbers interned as rows are turned into columns (ids stay fixed
    /// for the file, so the page's tables only grow).
    names: Names,
    /// The page's name id of each of the store's names, once sent.
    name_ids: Vec<Option<u32>>,
    attempts: Vec<i64>,
    attempt_ids: HashMap<i64, u32>,
    writer: BatchWriter,
    /// Rows given to the writer (the next row's index).
    sent: usize,
    /// The store they are from ([`Store::id`]).
    from: Option<u64>,
}

/// How [`Outbox::add`] or [`Outbox::finish`] went.
#[derive(Debug, PartialEq, Eq)]
pub enum Finished {
    /// The rows sent before are this store's first rows: the rest follow them.
    Continued,
    /// They were another store's: the page was told to drop them, and this store's rows are
    /// sent from the first.
    Restarted,
}

impl Outbox {
    /// Sends the rows of `store` up to `upto` not sent yet, in full batches (the last,
    /// part-full one waits for more rows). If `store` is not the store the rows sent so far
    /// came from, `restart` tells the page to drop them first.
    pub fn add(
        &mut self,
        store: &Store,
        upto: usize,
        restart: &mut dyn FnMut(),
        post: &mut Post,
    ) -> Result<Finished, String> {
        let how = self.follow(store, restart);
        for r in self.sent..upto.min(store.len()) {
            if self.writer.is_full() {
                self.flush(post)?;
            }
            let tables = (self.names.len(), self.attempts.len());
            let data = self.track(store, r)?;
            let head = head(store, r)?;
            self.writer.push(r, head, &data, tables);
            self.sent = r + 1;
        }
        if self.writer.is_full() {
            self.flush(post)?;
        }
        Ok(how)
    }

    /// Rows from `store` from now on: if the rows sent so far are another store's, the page
    /// is told to drop them and the outbox starts over.
    fn follow(&mut self, store: &Store, restart: &mut dyn FnMut()) -> Finished {
        match self.from {
            Some(id) if id != store.id() => {
                let sent = self.sent > 0;
                *self = Outbox::default();
                self.from = Some(store.id());
                if sent {
                    restart();
                    return Finished::Restarted;
                }
                Finished::Continued
            }
            _ => {
                self.from = Some(store.id());
                Finished::Continued
            }
        }
    }

    /// Sends the rest of the finished `store` (as [`Outbox::add`], then the last batch).
    pub fn finish(
        &mut self,
        store: &Store,
        restart: &mut dyn FnMut(),
        post: &mut Post,
    ) -> Result<Finished, String> {
        let how = self.add(store, store.len(), restart, post)?;
        self.flush(post)?;
        Ok(how)
    }

    fn flush(&mut self, post: &mut Post) -> Result<(), String> {
        match self.writer.take(&self.names, &self.attempts) {
            Some((head, cols)) => post(head, cols),
            None => Ok(()),
        }
    }

    /// Row `row`'s columns, straight from the store's columns (only `[P]`/`[D]` virtual
    /// spans are materialised, for their phase segments), interning names and attempts.
    fn track(&mut self, store: &Store, row: usize) -> Result<RowData, String> {
        let range = head_of(store, row)?.items();
        let c = &store.cols;
        let n = range.len();
        let mut track = Track {
            start: c.start[range.clone()].to_vec(),
            end: c.display_end[range.clone()].to_vec(),
            name: Vec::with_capacity(n),
            // The store's kind bits are the Track's (state, PD flags): checked in tests.
            kind: c.kind[range.clone()].to_vec(),
            lane: c.lane[range.clone()].to_vec(),
            depth: c.depth[range.clone()].to_vec(),
        };
        let mut attempt = Vec::with_capacity(n);
        for i in range.clone() {
            let sid = c.name[i] as usize;
            if self.name_ids.len() <= sid {
                self.name_ids.resize(sid + 1, None);
            }
            let id = match self.name_ids[sid] {
                Some(id) => id,
                None => {
                    let id = self.names.intern_text(&store.names.display(c.name[i]));
                    self.name_ids[sid] = Some(id);
                    id
                }
            };
            track.name.push(id);
            let a = c.attempt[i];
            let next = self.attempts.len() as u32;
            let idx = *self.attempt_ids.entry(a).or_insert(next);
            if idx == next {
                self.attempts.push(a);
            }
            attempt.push(idx);
        }
        // The row's PD segments, kept by the store (`trace::store::PdIndex`), by position
        // in the row.
        let segs = &store.pd;
        let first = range.start as u32;
        let pd = segs
            .segments_of(range)
            .map(|k| PdSegment {
                item: segs.item[k] - first,
                phase: segs.phase[k],
                t0: segs.t0[k],
                t1: segs.t1[k],
            })
            .collect();
        Ok(RowData { track, attempt, pd })
    }
}

pub fn head_of(store: &Store, row: usize) -> Result<&trace::store::RowHead, String> {
    store
        .heads
        .get(row)
        .ok_or_else(|| format!("there is no row {row} (the file has {})", store.len()))
}

/// Row `row`'s head as the page shows it.
fn head(store: &Store, row: usize) -> Result<RowHead, String> {
    let r = head_of(store, row)?;
    let text = |v: &J| cut(py_str(v));
    Ok(RowHead {
        row_id: r.row_id,
        sample_index: text(&r.sample_index),
        source: (!r.source.is_null()).then(|| text(&r.source)),
        status: text(&r.status),
        label: text(&r.label),
        trace_id: text(&r.trace_id),
        reward: r.reward.as_f64(),
        start: r.start,
        end: r.end,
        duration: r.duration,
        lane_count: r.lane_count,
        closed_spans: r.closed_span_count,
        open_spans: r.open_span_count,
    })
}

/// A head text, cut to [`HEAD_TEXT_MAX`] characters.
pub fn cut(mut s: String) -> String {
    if let Some((at, _)) = s.char_indices().nth(HEAD_TEXT_MAX) {
        s.truncate(at);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::fixtures::fixture;
    use timeline::PD_PHASES;
    use trace::Item;
    use viewer::protocol::{decode_batch, decode_head, Tables};

    /// What the page makes of the batches (`worker_client`): checked, decoded, appended.
    #[derive(Default)]
    struct Page {
        tables: Tables,
        heads: Vec<RowHead>,
        data: Vec<RowData>,
        batches: usize,
    }

    impl Page {
        fn take(&mut self, h: BatchHead, c: Columns) -> Result<(), String> {
            // Through JSON, as the head travels.
            let text = serde_json::to_string(&h).map_err(|e| e.to_string())?;
            let h = decode_head(&text)?;
            let (hs, ds) = decode_batch(h, c, self.heads.len(), &mut self.tables)?;
            self.heads.extend(hs);
            self.data.extend(ds);
            self.batches += 1;
            Ok(())
        }
    }

    /// The page's rows after sending `store` whole, in one go.
    fn sent_whole(store: &Store) -> Page {
        let page = RefCell::new(Page::default());
        let mut outbox = Outbox::default();
        let how = outbox.finish(store, &mut || panic!("restarted"), &mut |h, c| {
            page.borrow_mut().take(h, c)
        });
        assert_eq!(how, Ok(Finished::Continued));
        page.into_inner()
    }

    /// Every fixture's rows go through batches (several per file: a small batch size is
    /// forced by the item cap on the larger ones) and come out as the columns
    /// `Track::from_row` makes of the rows themselves, with the same names and attempts.
    #[test]
    fn batches_carry_every_row_as_its_columns() {
        for name in [
            "basic_0.pt",
            "pd_1.pt",
            "agent_2.pt",
            "pdflat_5.pt",
            "edge_9.pt",
        ] {
            let built = fixture(name);
            let rows = built.clone().materialize().cache.rows;
            // Rows arrive one at a time, as a load builds them.
            let page = RefCell::new(Page::default());
            let mut outbox = Outbox::default();
            let mut post = |h, c| page.borrow_mut().take(h, c);
            for upto in 0..=built.store.len() {
                let how = outbox.add(&built.store, upto, &mut || panic!("restarted"), &mut post);
                assert_eq!(how, Ok(Finished::Continued));
            }
            let how = outbox.finish(&built.store, &mut || panic!("restarted"), &mut post);
            assert_eq!(how, Ok(Finished::Continued));
            let Page {
                tables: page,
                heads,
                data,
                batches,
            } = page.into_inner();
            assert!(batches >= 1, "{name}");
            assert_eq!(data.len(), rows.len(), "{name}");
            let mut names = Names::default();
            for (i, row) in rows.iter().enumerate() {
                let want = Track::from_row(row, &mut names);
                let got = &data[i].track;
                assert_eq!(got.start, want.start, "{name} row {i}");
                // Bit for bit: an end that is NaN on one side only is a span not drawn.
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got.end), bits(&want.end), "{name} row {i}");
                assert_eq!(got.kind, want.kind, "{name} row {i}");
                assert_eq!(got.lane, want.lane, "{name} row {i}");
                assert_eq!(got.depth, want.depth, "{name} row {i}");
                for (a, b) in got.name.iter().zip(&want.name) {
                    assert_eq!(page.names.text(*a), names.text(*b), "{name} row {i}");
                }
                for (j, item) in row.items.iter().enumerate() {
                    assert_eq!(page.attempts[data[i].attempt[j] as usize], item.attempt());
                    let want = timeline::pd_segments(item);
                    let got: Vec<_> = data[i].pd.iter().filter(|s| s.item == j as u32).collect();
                    assert_eq!(got.len(), want.len(), "{name} row {i} item {j}");
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!((g.t0, g.t1), (w.0, w.1), "{name} row {i} item {j}");
                        assert_eq!(PD_PHASES[g.phase as usize].2, w.2);
                    }
                }
                assert_eq!(heads[i].row_id, row.row_id);
                assert_eq!(heads[i].start.to_bits(), row.start.to_bits());
            }
            // The legend's phases: every span's name and end-attr keys, looked at one by one.
            let mut want = Vec::new();
            for row in &rows {
                for item in &row.items {
                    if let Item::Span(sp) = item {
                        let keys = sp
                            .attrs
                            .end_attrs
                            .as_object()
                            .into_iter()
                            .flat_map(|m| m.keys());
                        let name = match &sp.name {
                            J::String(s) => s.clone(),
                            v => v.to_string(),
                        };
                        for k in keys.map(String::as_str).chain([name.as_str()]) {
                            if let Some(p) = timeline::pd_phase(k) {
                                want.push(PD_PHASES.iter().position(|x| x.0 == p.0).unwrap());
                            }
                        }
                    }
                }
            }
            want.sort_unstable();
            want.dedup();
            assert_eq!(built.store.pd.phases_seen(), want, "{name}");
            if name == "pd_1.pt" || name == "pdflat_5.pt" {
                assert!(!want.is_empty(), "{name}");
            }
            if name == "pdflat_5.pt" {
                assert!(
                    data.iter().any(|d| !d.pd.is_empty()),
                    "[P]/[D] segments travel"
                );
            }
        }
    }

    #[test]
    fn head_texts_are_cut() {
        let long = "x".repeat(HEAD_TEXT_MAX * 3);
        let c = cut(long);
        assert_eq!(c.chars().count(), HEAD_TEXT_MAX + 1);
        assert!(c.ends_with('…'));
        assert_eq!(cut("short".into()), "short");
    }

    /// Rows sent early that the finished store does not begin with (a file that names
    /// another sample list at its end) are dropped on the page, and every row is sent again:
    /// the page ends with exactly the finished rows.
    #[test]
    fn a_store_that_does_not_begin_with_the_rows_sent_starts_the_page_over() {
        let early = fixture("agent_2.pt").store;
        let (a, b) = (fixture("basic_0.pt").store, fixture("pd_1.pt").store);
        for (sent, finished) in [(&early, &a), (&early, &b), (&b, &a)] {
            for upto in [1, sent.len()] {
                let page = RefCell::new(Page::default());
                let restarts = RefCell::new(0);
                let mut outbox = Outbox::default();
                let mut post = |h, c| page.borrow_mut().take(h, c);
                let how = outbox.add(sent, upto, &mut || panic!("restarted"), &mut post);
                assert_eq!(how, Ok(Finished::Continued));
                let mut restart = || {
                    *restarts.borrow_mut() += 1;
                    *page.borrow_mut() = Page::default();
                };
                let how = outbox.finish(finished, &mut restart, &mut post);
                assert_eq!(how, Ok(Finished::Restarted));
                assert_eq!(restarts.into_inner(), 1);
                let (got, want) = (page.into_inner(), sent_whole(finished));
                assert_eq!(got.heads, want.heads);
                assert_eq!(got.data, want.data);
            }
        }
        // The same rows, finished with more after them: nothing is sent twice.
        let page = RefCell::new(Page::default());
        let mut outbox = Outbox::default();
        let mut post = |h, c| page.borrow_mut().take(h, c);
        let how = outbox.add(&a, 2, &mut || panic!("restarted"), &mut post);
        assert_eq!(how, Ok(Finished::Continued));
        let how = outbox.finish(&a, &mut || panic!("restarted"), &mut post);
        assert_eq!(how, Ok(Finished::Continued));
        assert_eq!(page.into_inner().heads, sent_whole(&a).heads);
    }

    /// A new store while reading (a legacy file whose first pickle turns out to be its magic
    /// number): rows sent from the old one are dropped as soon as the new one is seen; a new
    /// store before any row was sent needs no restart.
    #[test]
    fn a_new_store_while_reading_starts_the_page_over() {
        let (a, b) = (fixture("agent_2.pt").store, fixture("pd_1.pt").store);
        let page = RefCell::new(Page::default());
        let restarts = RefCell::new(0);
        let mut outbox = Outbox::default();
        let mut post = |h, c| page.borrow_mut().take(h, c);
        let mut restart = || {
            *restarts.borrow_mut() += 1;
            *page.borrow_mut() = Page::default();
        };
        assert_eq!(
            outbox.add(&a, 0, &mut restart, &mut post),
            Ok(Finished::Continued)
        );
        // Nothing sent from `a` yet: `b` is simply followed.
        assert_eq!(
            outbox.add(&b, 1, &mut restart, &mut post),
            Ok(Finished::Continued)
        );
        assert_eq!(
            outbox.add(&a, a.len(), &mut restart, &mut post),
            Ok(Finished::Restarted)
        );
        assert_eq!(
            outbox.add(&b, 2, &mut restart, &mut post),
            Ok(Finished::Restarted)
        );
        assert_eq!(
            outbox.finish(&b, &mut restart, &mut post),
            Ok(Finished::Continued)
        );
        assert_eq!(restarts.into_inner(), 2);
        let (got, want) = (page.into_inner(), sent_whole(&b));
        assert_eq!(got.heads, want.heads);
        assert_eq!(got.data, want.data);
    }
}
