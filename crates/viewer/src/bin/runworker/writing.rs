//! Whether a dump of a live run is still being written, before it is read: its first and
//! last bytes (`trace::run::being_written`), from a `File` by slicing it, from a URL by two
//! byte-range requests at most (the tail, which names the length, and the head when the
//! tail does not hold it). A check that cannot be made says nothing: the read then says
//! what is wrong.

use js_sys::Uint8Array;
use trace::run::{being_written, HEAD_WINDOW, TAIL_WINDOW};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why `src` (a `File` or a URL) is still being written, or `None`.
pub async fn check(src: &JsValue) -> Option<String> {
    let (head, tail, len) = if let Some(file) = src.dyn_ref::<web_sys::File>() {
        let len = file.size();
        let head = slice(file, 0.0, len.min(HEAD_WINDOW as f64)).await?;
        let tail = slice(file, (len - TAIL_WINDOW as f64).max(0.0), len).await?;
        (head, tail, len as u64)
    } else {
        ranged(&src.as_string()?).await?
    };
    being_written(&head, &tail, len).map(str::to_string)
}

async fn slice(file: &web_sys::File, from: f64, to: f64) -> Option<Vec<u8>> {
    let blob = file.slice_with_f64_and_f64(from, to).ok()?;
    let buf = JsFuture::from(blob.array_buffer()).await.ok()?;
    Some(Uint8Array::new(&buf).to_vec())
}

/// The head, tail and length of the file at `url`, by range requests.
async fn ranged(url: &str) -> Option<(Vec<u8>, Vec<u8>, u64)> {
    let (tail, len) = get_range(url, &format!("bytes=-{TAIL_WINDOW}")).await?;
    if len <= TAIL_WINDOW {
        return Some((tail.clone(), tail, len));
    }
    let (head, _) = get_range(url, &format!("bytes=0-{}", HEAD_WINDOW - 1)).await?;
    Some((head, tail, len))
}

/// One range of `url` and the file's whole length (from `Content-Range`). An empty file
/// answers 416 with `bytes */0`.
async fn get_range(url: &str, range: &str) -> Option<(Vec<u8>, u64)> {
    let resp = viewer::fetch::fetch_with_headers(url, &[("Range", range)])
        .await
        .ok()?;
    let total = resp
        .headers()
        .get("content-range")
        .ok()
        .flatten()
        .and_then(|v| v.rsplit('/').next()?.trim().parse::<u64>().ok());
    match resp.status() {
        416 => Some((Vec::new(), total?)),
        206 => {
            let buf = JsFuture::from(resp.array_buffer().ok()?).await.ok()?;
            let bytes = Uint8Array::new(&buf);
            // A server that ignored the bounds of the range: not a check to trust.
            if f64::from(bytes.length()) > TAIL_WINDOW as f64 {
                return None;
            }
            Some((bytes.to_vec(), total?))
        }
        _ => None,
    }
}
