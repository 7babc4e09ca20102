//! The parsing worker. Receives `{name, file}`, `{name, url}` or `{name, buffer}`, reads the
//! bytes itself as a stream (so the page never holds the file), feeds them to
//! `trace::StreamLoader`, and answers with JSON text (see `protocol`).

#[cfg(target_arch = "wasm32")]
fn main() {
    use viewer::protocol::FromWorker;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let post = move |msg: &FromWorker| {
        // One JSON string per message: see `protocol`.
        let text = serde_json::to_string(msg)
            .unwrap_or_else(|e| format!("{{\"kind\":\"error\",\"message\":\"internal: {e}\"}}"));
        let _ = reply.post_message(&JsValue::from_str(&text));
    };
    let handler_post = post.clone();
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let post = handler_post.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let data = ev.data();
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

/// Reads the input named in `data` and builds everything.
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
    let mut loader = trace::StreamLoader::new();
    let mut report = Reporter::new(post);
    if let Some(file) = get("file").and_then(|f| f.dyn_into::<web_sys::File>().ok()) {
        report.total = Some(file.size());
        read_stream(file.stream(), &mut loader, &mut report).await?;
    } else if let Some(url) = get("url").and_then(|u| u.as_string()) {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let resp = wasm_bindgen_futures::JsFuture::from(scope.fetch_with_str(&url))
            .await
            .map_err(|e| format!("download failed: {}", js_text(&e)))?;
        let resp: web_sys::Response = resp.unchecked_into();
        if !resp.ok() {
            return Err(format!("download failed: HTTP {}", resp.status()));
        }
        report.total = resp
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok());
        let body = resp.body().ok_or("download failed: no body")?;
        read_stream(body, &mut loader, &mut report).await?;
    } else if let Some(buffer) =
        get("buffer").and_then(|b| b.dyn_into::<js_sys::ArrayBuffer>().ok())
    {
        let all = js_sys::Uint8Array::new(&buffer);
        report.total = Some(all.length() as f64);
        // Copy in slices so wasm memory never holds a second whole copy.
        let mut chunk = vec![0u8; 1 << 20];
        let mut at = 0u32;
        while at < all.length() && !loader.is_done() {
            let n = (all.length() - at).min(chunk.len() as u32);
            all.subarray(at, at + n).copy_to(&mut chunk[..n as usize]);
            loader
                .push(&chunk[..n as usize])
                .map_err(|e| e.to_string())?;
            at += n;
            report.bytes(at as f64);
        }
    } else {
        return Err("nothing to read in the message".into());
    }
    let parsed = loader.finish().map_err(|e| e.to_string())?;
    if let trace::Parsed::Series(series) = parsed {
        return Ok(FromWorker::Series { series });
    }
    let now = js_sys::Date::now() / 1000.0;
    let mut progress = |done: usize, total: usize| {
        post(&FromWorker::Progress {
            stage: "building rows (samples)".into(),
            done: done as f64,
            total: total as f64,
        })
    };
    let mut built = parsed
        .build_with(name, now, &mut progress)
        .map_err(|e| e.to_string())?;
    // Rows go in batches, each dropped here once sent: the worker's heap shrinks as the
    // page's grows, and no single message holds everything.
    let rows = std::mem::take(&mut built.cache.rows);
    let mut rows = rows.into_iter();
    loop {
        let batch: Vec<trace::Row> = rows
            .by_ref()
            .take(viewer::protocol::ROWS_PER_MESSAGE)
            .collect();
        if batch.is_empty() {
            break;
        }
        post_text(&viewer::protocol::rows_message(&batch));
    }
    Ok(FromWorker::Done {
        built: Box::new(built),
    })
}

#[cfg(target_arch = "wasm32")]
fn post_text(text: &str) {
    use wasm_bindgen::JsCast;
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = scope.post_message(&wasm_bindgen::JsValue::from_str(text));
}

/// Byte progress, posted at most once per percent (or per 4 MiB when the size is unknown).
#[cfg(target_arch = "wasm32")]
struct Reporter<'a> {
    post: &'a dyn Fn(&viewer::protocol::FromWorker),
    total: Option<f64>,
    last: f64,
}

#[cfg(target_arch = "wasm32")]
impl<'a> Reporter<'a> {
    fn new(post: &'a dyn Fn(&viewer::protocol::FromWorker)) -> Self {
        Reporter {
            post,
            total: None,
            last: -1.0,
        }
    }

    fn bytes(&mut self, done: f64) {
        let step = self
            .total
            .map_or(4.0 * 1048576.0, |t| (t / 100.0).max(65536.0));
        if done - self.last < step && Some(done) != self.total {
            return;
        }
        self.last = done;
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

/// Feeds a byte stream to the loader chunk by chunk; stops early once the value is complete.
#[cfg(target_arch = "wasm32")]
async fn read_stream(
    stream: web_sys::ReadableStream,
    loader: &mut trace::StreamLoader,
    report: &mut Reporter<'_>,
) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut buf: Vec<u8> = Vec::new();
    let mut got = 0f64;
    loop {
        let step = wasm_bindgen_futures::JsFuture::from(reader.read())
            .await
            .map_err(|e| js_text(&e))?;
        let done = js_sys::Reflect::get(&step, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let chunk: js_sys::Uint8Array = js_sys::Reflect::get(&step, &"value".into())
            .map_err(|e| js_text(&e))?
            .unchecked_into();
        buf.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut buf);
        loader.push(&buf).map_err(|e| e.to_string())?;
        got += buf.len() as f64;
        report.bytes(got);
        if loader.is_done() {
            // The rest is tensor storage the timeline never reads.
            let _ = reader.cancel();
            break;
        }
    }
    Ok(())
}

#[cfg(target_arch = "wasm32")]
fn js_text(v: &wasm_bindgen::JsValue) -> String {
    v.as_string()
        .or_else(|| {
            js_sys::Reflect::get(v, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser; build it with Trunk");
}
