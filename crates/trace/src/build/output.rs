//! Where the driver's rows go: the row store and the analysis. Natively they take the rows on
//! a thread of their own, in order, while the reader and the row builder go on with the next
//! samples (interning, the attribute text and the analysis are about a third of a million-span
//! build); in a browser's worker, and if no thread can be started, on the caller's thread.
//! Either way the store and the analysis see the same rows in the same order.

use crate::metrics::Analyzer;
use crate::model::Row;
use crate::store::Store;

/// The store and the analysis, built from the rows given so far.
#[derive(Default)]
pub(crate) struct Parts {
    pub store: Store,
    pub analyzer: Analyzer,
}

impl Parts {
    fn apply(&mut self, m: Message) {
        match m {
            Message::Row(row, _) => {
                self.analyzer.add_row(&row);
                self.store.push(*row);
            }
            Message::Copy { of, row_id } => {
                let mut copy = self.store.row(of);
                copy.row_id = row_id;
                self.analyzer.add_row(&copy);
                self.store.push(copy);
            }
            Message::Reserve { items, bytes } => self.store.reserve(items, bytes),
            #[cfg(test)]
            Message::Hold(word) => {
                let _ = word.recv();
            }
        }
    }
}

enum Message {
    /// A row, and its weight (see [`weight_of`]; only a store thread reads it).
    Row(
        Box<Row>,
        #[cfg_attr(target_arch = "wasm32", allow(dead_code))] usize,
    ),
    /// Row `of` again, as row `row_id` (a sample the reader freed, named again).
    Copy {
        of: usize,
        row_id: usize,
    },
    Reserve {
        items: usize,
        bytes: usize,
    },
    /// Tests: the store thread waits for a word before it goes on.
    #[cfg(test)]
    Hold(std::sync::mpsc::Receiver<()>),
}

#[cfg(not(target_arch = "wasm32"))]
impl Message {
    /// What the message holds in `serde_json` form, in [`IN_FLIGHT_UNITS`] (a copy is made
    /// by the store thread).
    fn weight(&self) -> usize {
        match self {
            Message::Row(_, weight) => *weight,
            _ => 0,
        }
    }
}

/// A row's weight: an item, or [`TEXT_PER_UNIT`] bytes of its attribute text, is one unit.
fn weight_of(row: &Row, text_bytes: u64) -> usize {
    let text = usize::try_from(text_bytes / TEXT_PER_UNIT).unwrap_or(usize::MAX);
    row.items.len().saturating_add(text)
}

/// Bytes of attribute text that weigh as much as an item (a typical item has a few hundred).
const TEXT_PER_UNIT: u64 = 256;

/// How many rows may wait for the store thread: the reader stays at most this far ahead.
#[cfg(not(target_arch = "wasm32"))]
const IN_FLIGHT: usize = 64;

/// How much those rows may hold together, in items and [`TEXT_PER_UNIT`]s of attribute text (a
/// row in flight is `serde_json` values, ≈ 1 KB an item: 64 rows of a 16 k-span sample would be
/// a gigabyte, and a few items can carry 64 KiB of text each). A row heavier than this alone
/// still goes, once the store thread has taken every row before it.
#[cfg(not(target_arch = "wasm32"))]
const IN_FLIGHT_UNITS: usize = 64 << 10;

/// Weight sent to the store thread and not yet stored: the sender waits while a row would take
/// it past the cap, the thread wakes it as it stores rows.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Default)]
struct Pending {
    units: std::sync::Mutex<usize>,
    stored: std::sync::Condvar,
}

#[cfg(not(target_arch = "wasm32"))]
impl Pending {
    fn count(&self) -> std::sync::MutexGuard<'_, usize> {
        self.units.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `n` more units fit under `cap` (or nothing is pending, or the thread
    /// `done` ended: a panicked thread stores nothing more), then counts them.
    fn take(&self, n: usize, cap: usize, done: &std::thread::JoinHandle<Parts>) {
        let mut units = self.count();
        while *units > 0 && *units + n > cap && !done.is_finished() {
            // Timed, so a thread that ended without a word is noticed.
            units = self
                .stored
                .wait_timeout(units, std::time::Duration::from_millis(10))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *units += n;
    }

    fn stored(&self, n: usize) {
        let mut units = self.count();
        *units = units.saturating_sub(n);
        self.stored.notify_one();
    }
}

pub(crate) struct Output {
    to: To,
    /// Rows given so far (the next row's position in the store).
    len: usize,
}

enum To {
    Here(Box<Parts>),
    #[cfg(not(target_arch = "wasm32"))]
    Thread {
        send: std::sync::mpsc::SyncSender<Message>,
        done: std::thread::JoinHandle<Parts>,
        pending: std::sync::Arc<Pending>,
        /// [`IN_FLIGHT_UNITS`] (smaller in tests).
        cap: usize,
    },
}

impl Output {
    pub(crate) fn new() -> Output {
        Output {
            to: To::start(),
            len: 0,
        }
    }

    /// Adds `row`, which holds `text_bytes` of attribute text; returns its position.
    pub(crate) fn push(&mut self, row: Row, text_bytes: u64) -> usize {
        let weight = weight_of(&row, text_bytes);
        self.send(Message::Row(Box::new(row), weight))
    }

    /// Adds row `of` again as row `row_id`; returns the copy's position.
    pub(crate) fn copy(&mut self, of: usize, row_id: usize) -> usize {
        self.send(Message::Copy { of, row_id })
    }

    /// Room for `items` items and `bytes` of attribute text (see [`Store::reserve`]).
    pub(crate) fn reserve(&mut self, items: usize, bytes: usize) {
        self.deliver(Message::Reserve { items, bytes });
    }

    fn send(&mut self, m: Message) -> usize {
        self.deliver(m);
        self.len += 1;
        self.len - 1
    }

    fn deliver(&mut self, m: Message) {
        match &mut self.to {
            To::Here(parts) => parts.apply(m),
            #[cfg(not(target_arch = "wasm32"))]
            To::Thread {
                send,
                done,
                pending,
                cap,
            } => {
                pending.take(m.weight(), *cap, done);
                // The thread ends only when this sender is dropped, or when it panicked:
                // that panic goes on here, as if the rows were stored on this thread.
                if send.send(m).is_err() {
                    let failed = std::mem::replace(&mut self.to, To::Here(Box::default()));
                    failed.finish();
                }
            }
        }
    }

    /// The store of the rows given so far, when they are stored on this thread (always in
    /// a browser's worker); `None` while a store thread has them.
    pub(crate) fn store_here(&self) -> Option<&Store> {
        match &self.to {
            To::Here(parts) => Some(&parts.store),
            #[cfg(not(target_arch = "wasm32"))]
            To::Thread { .. } => None,
        }
    }

    /// The store and the analysis of every row given.
    pub(crate) fn finish(self) -> Parts {
        self.to.finish()
    }
}

impl To {
    #[cfg(target_arch = "wasm32")]
    fn start() -> To {
        To::Here(Box::default())
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn start() -> To {
        To::start_with(IN_FLIGHT_UNITS)
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn start_with(cap: usize) -> To {
        let (send, receive) = std::sync::mpsc::sync_channel::<Message>(IN_FLIGHT);
        let pending = std::sync::Arc::new(Pending::default());
        let stored = pending.clone();
        let spawned = std::thread::Builder::new()
            .name("rollscope-store".into())
            .spawn(move || {
                let mut parts = Parts::default();
                for m in receive {
                    let n = m.weight();
                    parts.apply(m);
                    stored.stored(n);
                }
                parts
            });
        match spawned {
            Ok(done) => To::Thread {
                send,
                done,
                pending,
                cap,
            },
            // No thread to be had (a process limit): the rows are stored here.
            Err(_) => To::Here(Box::default()),
        }
    }

    fn finish(self) -> Parts {
        match self {
            To::Here(parts) => *parts,
            #[cfg(not(target_arch = "wasm32"))]
            To::Thread { send, done, .. } => {
                drop(send);
                done.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_of(to: To, rows: &[Row]) -> Parts {
        let mut out = Output { to, len: 0 };
        out.reserve(64, 4096);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(out.push(r.clone(), 0), i);
        }
        // A sample named again: its first row once more, under its own position.
        assert_eq!(out.copy(0, 99), rows.len());
        out.finish()
    }

    /// The rows of the first slime fixture, as stored.
    fn fixture_rows() -> Vec<Row> {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
        let path = std::fs::read_dir(&dir)
            .expect("fixtures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pt"))
            .min()
            .expect("a .pt fixture");
        let bytes = std::fs::read(&path).expect("read");
        let loaded = crate::load(&bytes, &crate::LoadOptions::new("t.pt", 0.0)).expect("load");
        (0..loaded.store.len())
            .map(|r| loaded.store.row(r))
            .collect()
    }

    /// With the store thread held, how many of ten `row`s, each with `text` bytes of attribute
    /// text, the sender gives under a cap of `cap` before it waits; then, the thread going on,
    /// every row is stored.
    #[cfg(not(target_arch = "wasm32"))]
    fn sent_while_held(row: Row, text: u64, cap: usize) -> usize {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::time::{Duration, Instant};

        let (word, hold) = std::sync::mpsc::channel();
        let mut out = Output {
            to: To::start_with(cap),
            len: 0,
        };
        out.deliver(Message::Hold(hold));
        let sent = Arc::new(AtomicUsize::new(0));
        let counted = sent.clone();
        let (ended, end) = std::sync::mpsc::channel();
        let sender = std::thread::spawn(move || {
            for _ in 0..10 {
                out.push(row.clone(), text);
                counted.fetch_add(1, Ordering::SeqCst);
            }
            let parts = out.finish();
            let _ = ended.send(());
            parts
        });
        // The sender's count settles (it stops at the cap, or never does): unchanged over
        // five looks 200 ms apart. (One look was too few: a sender kept off the cores for
        // 200 ms between two rows, on a loaded machine, was taken as stopped short.) …
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut seen, mut unchanged) = (usize::MAX, 0);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            let now = sent.load(Ordering::SeqCst);
            unchanged = if now == seen { unchanged + 1 } else { 0 };
            if unchanged >= 5 && now > 0 {
                break;
            }
            seen = now;
        }
        let held = sent.load(Ordering::SeqCst);
        word.send(()).expect("the thread waits");
        // … and a sender stuck for good fails the test rather than hanging it.
        end.recv_timeout(Duration::from_secs(60))
            .expect("the sender ended (not stuck)");
        let parts = sender.join().expect("sender");
        assert_eq!(sent.load(Ordering::SeqCst), 10);
        assert_eq!(parts.store.len(), 10);
        held
    }

    /// The largest row of the fixture and its item count.
    fn largest_row() -> (Row, usize) {
        let row = fixture_rows()
            .into_iter()
            .max_by_key(|r| r.items.len())
            .expect("a row");
        let k = row.items.len();
        assert!(k > 0);
        (row, k)
    }

    /// Rows waiting for the store thread are capped by their items, not only by their number:
    /// the sender stops at the row that would pass the cap.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn rows_in_flight_are_capped_by_their_items() {
        let (row, k) = largest_row();
        assert_eq!(sent_while_held(row, 0, 3 * k), 3, "three rows fit");
    }

    /// … and by their attribute text: a row of few items and much text weighs its text.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn rows_in_flight_are_capped_by_their_text() {
        let (row, k) = largest_row();
        // Each row weighs k items and 2k units of text: one fills a cap of 3k alone.
        let text = 2 * k as u64 * TEXT_PER_UNIT;
        assert_eq!(sent_while_held(row, text, 3 * k), 1, "one row fits");
    }

    /// Runs `f` on a thread of its own: its result (or its panic), or a failure if it has not
    /// ended within a minute (a sender stuck for good fails the test instead of hanging it).
    #[cfg(not(target_arch = "wasm32"))]
    fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::thread::Result<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("the sender ended (not stuck)")
    }

    /// A row with more items than the cap still goes (alone, once the rows before it are
    /// stored): the sender never waits for room that cannot come.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_row_past_the_cap_goes_alone() {
        let (row, k) = largest_row();
        assert!(k > 1);
        let mut out = Output {
            to: To::start_with(1),
            len: 0,
        };
        let parts = within(move || {
            for _ in 0..5 {
                out.push(row.clone(), 0);
            }
            out.finish()
        })
        .expect("no panic");
        assert_eq!(parts.store.len(), 5);
    }

    /// A store thread that panicked with rows counted as pending (never to be stored) does
    /// not hold the sender at the cap: its panic goes on in the sender.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_panicked_store_thread_does_not_hold_the_sender() {
        let (row, k) = largest_row();
        let (word, hold) = std::sync::mpsc::channel();
        let mut out = Output {
            to: To::start_with(k),
            len: 0,
        };
        out.deliver(Message::Hold(hold));
        // A copy of a row that is not there: the thread panics on it, before the next row.
        out.copy(usize::MAX, 0);
        out.push(row.clone(), 0);
        let result = within(move || {
            word.send(()).expect("the thread waits");
            out.push(row, 0);
            out.finish()
        });
        assert!(
            result.is_err(),
            "the store thread's panic reaches the sender"
        );
    }

    /// The store thread keeps every row, in order, as storing them here does.
    #[test]
    fn the_store_thread_stores_what_this_thread_would() {
        let rows = fixture_rows();
        assert!(rows.len() > 1 && rows.iter().any(|r| !r.items.is_empty()));
        let threaded = parts_of(To::start(), &rows);
        #[cfg(not(target_arch = "wasm32"))]
        assert!(matches!(To::start(), To::Thread { .. }));
        let here = parts_of(To::Here(Box::default()), &rows);
        let text = |p: &Parts| {
            (0..p.store.len())
                .map(|r| serde_json::to_string(&p.store.row(r)).expect("json"))
                .collect::<Vec<_>>()
        };
        let (a, b) = (text(&threaded), text(&here));
        assert_eq!(a.len(), rows.len() + 1);
        assert_eq!(a, b);
        assert!(a[rows.len()].contains("\"row_id\":99"));
    }
}
