//! One way to download, for the page and both workers: [`fetch_capped`] fetches a URL from
//! whichever scope runs it (window or worker), turns a network failure or an HTTP error into
//! one line, and refuses a response whose `Content-Length` passes the caller's cap before its
//! body is read. (A response that lies about its length is still capped by the reader.)
//! [`fetch_with_headers`] is for a request that sends headers and reads the status itself
//! (a byte range, a revalidated index).

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::worker_boot::js_text;

/// An OK response and the size its server claims (`Content-Length`), if any.
pub struct Fetched {
    pub response: web_sys::Response,
    pub claimed: Option<f64>,
}

/// Fetches `url`; with `cap = Some((max, too_big))`, a claimed size over `max` bytes is the
/// error `too_big(size)`.
pub async fn fetch_capped(
    url: &str,
    cap: Option<(f64, &dyn Fn(f64) -> String)>,
) -> Result<Fetched, String> {
    let global = js_sys::global();
    let promise = match global.dyn_ref::<web_sys::Window>() {
        Some(w) => w.fetch_with_str(url),
        None => global
            .unchecked_into::<web_sys::WorkerGlobalScope>()
            .fetch_with_str(url),
    };
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|e| format!("download failed: {}", js_text(&e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("download failed: HTTP {}", response.status()));
    }
    let claimed: Option<f64> = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok());
    if let (Some((max, too_big)), Some(n)) = (cap, claimed) {
        if n > max {
            return Err(too_big(n));
        }
    }
    Ok(Fetched { response, claimed })
}

/// Fetches `url` with request `headers` (a `Range`, an `If-None-Match`) and no HTTP cache
/// (`cache: "no-store"`: a `304` or `206` reaches the caller as it is). Any HTTP status is
/// returned; only a network failure is an error.
pub async fn fetch_with_headers(
    url: &str,
    headers: &[(&str, &str)],
) -> Result<web_sys::Response, String> {
    let global = js_sys::global();
    let init = js_sys::Object::new();
    let h = js_sys::Object::new();
    for (k, v) in headers {
        let _ = js_sys::Reflect::set(&h, &(*k).into(), &(*v).into());
    }
    let _ = js_sys::Reflect::set(&init, &"headers".into(), &h);
    let _ = js_sys::Reflect::set(&init, &"cache".into(), &"no-store".into());
    let fetch: js_sys::Function = js_sys::Reflect::get(&global, &"fetch".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("download failed: no fetch here")?;
    let promise: js_sys::Promise = fetch
        .call2(&global, &url.into(), &init)
        .map_err(|e| format!("download failed: {}", js_text(&e)))?
        .unchecked_into();
    Ok(JsFuture::from(promise)
        .await
        .map_err(|e| format!("download failed: {}", js_text(&e)))?
        .unchecked_into())
}
