//! The parsing worker. Receives `{name, file}`, `{name, url}` or `{name, buffer}`, reads the
//! bytes itself as a stream (so the page never holds the file), feeds them to
//! `trace::Loader`, keeps what it built (`model`), and sends the page what it draws:
//! rows in batches of columns (transferable buffers), then a summary. It then answers the
//! page's requests about that file (an item's details, an export). See `protocol`.

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod model;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod outbox;
#[cfg(target_arch = "wasm32")]
mod post;
#[cfg(target_arch = "wasm32")]
mod read;

#[cfg(test)]
mod fixtures;

#[cfg(target_arch = "wasm32")]
fn main() {
    use viewer::protocol::{to_text, FromWorker};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    viewer::worker_boot::report_crashes();
    viewer::worker_boot::seed_hashes();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let post = move |msg: &FromWorker| post::text(&to_text(msg));
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let data = ev.data();
            let get = |k: &str| js_sys::Reflect::get(&data, &k.into()).ok();
            // The page's watchdog: answered here, synchronously, not by the async task.
            if get("ping").is_some_and(|p| p.is_truthy()) {
                post(&FromWorker::Pong);
                return;
            }
            // Test hook (tests/browser/worker.test.js): fail the way a bug would.
            if let Some(kind) = get("test").and_then(|k| k.as_string()) {
                test_hook(&kind);
                return;
            }
            // A question about the open file: answered now, from the model.
            if let Some(req) = get("req").and_then(|k| k.as_string()) {
                post::answer(&req, &data);
                return;
            }
            wasm_bindgen_futures::spawn_local(async move {
                let get = |k: &str| js_sys::Reflect::get(&data, &k.into()).ok();
                let name = get("name")
                    .and_then(|v| v.as_string())
                    .unwrap_or_else(|| "file".into());
                let result = load(&data, &name, &post).await;
                post(&match result {
                    Ok(msg) => msg,
                    Err(message) => FromWorker::Error {
                        message: format!("{name}: {message}"),
                    },
                });
            });
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&FromWorker::Ready);
}

/// Fails on purpose, for the browser tests of worker replacement and decode errors: `panic`
/// (the panic hook runs, then `abort`), `abort` (a trap with no hook, like running out of
/// memory), `hang` (never returns: the page's watchdog must notice), `bad-rows` (a batch of
/// rows the page cannot decode), anything else: a JS exception out of the handler.
#[cfg(target_arch = "wasm32")]
fn test_hook(kind: &str) {
    match kind {
        "panic" => panic!("test hook: asked to panic"),
        "abort" => std::process::abort(),
        "hang" => {
            let mut n = 0u64;
            // `black_box` keeps the optimiser from proving the loop endless and dropping it.
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "bad-rows" => post::bad_batch(),
        _ => wasm_bindgen::throw_str("test hook: asked to throw"),
    }
}

/// Reads the input named in `data`, builds the rows, sends them in batches and keeps them
/// as the worker's model (replacing the previous file's only once this one is built).
#[cfg(target_arch = "wasm32")]
async fn load(
    data: &wasm_bindgen::JsValue,
    name: &str,
    post: &dyn Fn(&viewer::protocol::FromWorker),
) -> Result<viewer::protocol::FromWorker, String> {
    use viewer::protocol::FromWorker;
    use wasm_bindgen::JsCast;
    let get = |k: &str| {
        js_sys::Reflect::get(data, &k.into())
            .ok()
            .filter(|v| !v.is_undefined())
    };
    let now = js_sys::Date::now() / 1000.0;
    let progress = |done: usize, total: usize| {
        post(&FromWorker::Progress {
            stage: "building rows (samples)".into(),
            done: done as f64,
            total: total as f64,
        })
    };
    let file = get("file").and_then(|f| f.dyn_into::<web_sys::File>().ok());
    let mut loader = trace::Loader::new(trace::LoadOptions {
        progress: Some(&progress),
        size_hint: file.as_ref().map(|f| f.size() as u64),
        ..trace::LoadOptions::new(name, now)
    });
    let mut report = Reporter::new(post);
    if let Some(file) = file {
        report.total = Some(file.size());
        read::stream(file.stream(), &mut loader, &mut report).await?;
    } else if let Some(url) = get("url").and_then(|u| u.as_string()) {
        let fetched = viewer::fetch::fetch_capped(&url, None).await?;
        report.total = fetched.claimed;
        let resp = fetched.response;
        let body = resp.body().ok_or("download failed: no body")?;
        read::stream(body, &mut loader, &mut report).await?;
    } else if let Some(buffer) =
        get("buffer").and_then(|b| b.dyn_into::<js_sys::ArrayBuffer>().ok())
    {
        let all = js_sys::Uint8Array::new(&buffer);
        report.total = Some(all.length() as f64);
        // Copy in slices so wasm memory never holds a second whole copy.
        let mut chunk = vec![0u8; 1 << 20];
        let mut at = 0u32;
        while at < all.length() {
            let n = (all.length() - at).min(chunk.len() as u32);
            all.subarray(at, at + n).copy_to(&mut chunk[..n as usize]);
            at += n;
            if report.feed(&mut loader, &chunk[..n as usize])? {
                break;
            }
        }
    } else {
        return Err("nothing to read in the message".into());
    }
    let built = match loader.finish_content().map_err(|e| e.to_string())? {
        trace::Content::Series(series) => return Ok(FromWorker::Series { series }),
        trace::Content::Rows(loaded) => *loaded,
    };
    // The previous file's model goes now (its page view is replaced when `Done` arrives).
    post::drop_model();
    let input_bytes = report.total.unwrap_or(0.0).max(report.pushed) as u64;
    let model = model::Model::new(built, input_bytes);
    let mut outbox = std::mem::take(&mut report.outbox);
    outbox.finish(model.store(), &mut post::rows_restart, &mut post::rows)?;
    let mut summary = model.summary(name);
    post::in_flight(&std::mem::take(&mut summary.analysis.in_flight));
    post::keep_model(model);
    Ok(FromWorker::Done {
        summary: Box::new(summary),
    })
}

/// Byte progress, posted at most once per percent (or per 4 MiB when the size is unknown) and
/// per [`PROGRESS_EVERY_MS`]; the last bytes always.
#[cfg(target_arch = "wasm32")]
pub(crate) struct Reporter<'a> {
    post: &'a dyn Fn(&viewer::protocol::FromWorker),
    total: Option<f64>,
    last: f64,
    /// When (`Date.now()`) progress was last posted.
    last_at: f64,
    /// How many bytes were pushed.
    pushed: f64,
    /// Whether the loader was told the size of an input it holds whole.
    reserved: bool,
    /// The rows sent to the page so far, while the rest is read.
    outbox: outbox::Outbox,
}

/// Progress goes to the page at most this often (ms): each message costs the worker a post and
/// the page a render, and a fast read would send a hundred in a second.
#[cfg(target_arch = "wasm32")]
const PROGRESS_EVERY_MS: f64 = 100.0;

/// The most JSON or text the worker holds: `trace::Loader` keeps such input whole, and
/// parsing makes a `serde_json::Value` several times its size, all in a 4 GB wasm heap.
/// A dump streams (its chunks are dropped as they are read) and has no such limit.
#[cfg(target_arch = "wasm32")]
const MAX_BUFFERED: f64 = 512.0 * 1048576.0;

#[cfg(target_arch = "wasm32")]
impl<'a> Reporter<'a> {
    fn new(post: &'a dyn Fn(&viewer::protocol::FromWorker)) -> Self {
        Reporter {
            post,
            total: None,
            last: -1.0,
            last_at: f64::NEG_INFINITY,
            pushed: 0.0,
            reserved: false,
            outbox: outbox::Outbox::default(),
        }
    }

    /// Refuses JSON or text larger than this tab can parse, with its size, before reading
    /// it all (as soon as the loader has decided what the file is, when the size is known):
    /// an error, never an abort. Else, once, tells the loader how much more is coming, so
    /// its buffer is not regrown. `pushed`: the bytes just given to `loader`.
    fn budget(&mut self, pushed: f64, loader: &mut trace::Loader) -> Result<(), String> {
        self.pushed += pushed;
        let size = self.total.unwrap_or(0.0).max(self.pushed);
        if loader.holds_whole() == Some(true) && size > MAX_BUFFERED {
            return Err(format!(
                "{:.1} MB of JSON or text is more than a browser tab can parse (at most {:.0} MB here; \
                 dumps stream and have no such limit): use the rollscope CLI (`rollscope cache FILE`)",
                size / 1e6,
                MAX_BUFFERED / 1e6
            ));
        }
        if !self.reserved && loader.holds_whole() == Some(true) {
            self.reserved = true;
            loader.reserve((size - self.pushed) as usize);
        }
        Ok(())
    }

    /// Gives `bytes` to the loader, within the budget, posts the progress and the batches of
    /// rows it completed (the page decodes them while the worker reads on); true once the
    /// loader needs no more (the rest of a dump is tensor storage the timeline never reads).
    pub(crate) fn feed(
        &mut self,
        loader: &mut trace::Loader,
        bytes: &[u8],
    ) -> Result<bool, String> {
        loader.push(bytes).map_err(|e| e.to_string())?;
        self.budget(bytes.len() as f64, loader)?;
        self.bytes(self.pushed);
        let outbox = &mut self.outbox;
        loader
            .with_rows_so_far(|store| {
                outbox.add(store, store.len(), &mut post::rows_restart, &mut post::rows)
            })
            .transpose()?;
        Ok(loader.is_done())
    }

    fn bytes(&mut self, done: f64) {
        let step = self
            .total
            .map_or(4.0 * 1048576.0, |t| (t / 100.0).max(65536.0));
        let now = js_sys::Date::now();
        if (done - self.last < step || now - self.last_at < PROGRESS_EVERY_MS)
            && Some(done) != self.total
        {
            return;
        }
        self.last = done;
        self.last_at = now;
        (self.post)(&viewer::protocol::FromWorker::Progress {
            stage: match self.total {
                Some(t) => format!("reading {:.1} of {:.1} MB", done / 1e6, t / 1e6),
                None => format!("reading {:.1} MB", done / 1e6),
            },
            done: if self.total.is_some() { done } else { 0.0 },
            total: self.total.unwrap_or(0.0),
        });
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser; build it with Trunk");
}
