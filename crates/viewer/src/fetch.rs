//! One way to download, for the page and both workers: [`fetch_capped`] fetches a URL from
//! whichever scope runs it (window or worker), turns a network failure or an HTTP error into
//! one line, and refuses a response whose `Content-Length` passes the caller's cap before its
//! body is read. (A response that lies about its length is still capped by the reader.)

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
