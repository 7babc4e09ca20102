//! Reading a file's or a download's bytes into the loader as they arrive, asking for the next
//! bytes before parsing these (so the browser reads while the parser works), and stopping
//! early once the loader needs no more.

use js_sys::{Reflect, Uint8Array};
use viewer::worker_boot::js_text;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::Reporter;

/// The buffer a byte stream is read into ([`stream`]). Reading the 295 MB benchmark dump in a
/// worker took 0.21–0.27 s this way against 0.40–0.57 s with the default reader in Chromium
/// 156, and 0.23–0.25 s against 0.43–0.93 s in Firefox ESR 153 (both read `File` streams
/// as byte streams).
const BYTES_AT_ONCE: u32 = 1 << 20;

/// Feeds `stream` to the loader. A byte stream (a `File`'s; a download's body where the
/// browser makes it one) is read into one buffer of ours, reused for every read; any other
/// stream chunk by chunk, as it makes them (a new buffer each).
pub async fn stream(
    stream: web_sys::ReadableStream,
    loader: &mut trace::Loader<'_>,
    report: &mut Reporter<'_>,
) -> Result<(), String> {
    let reader = match web_sys::ReadableStreamByobReader::new(&stream) {
        Ok(r) => Reader::Bytes(r),
        Err(_) => Reader::Chunks(stream.get_reader().unchecked_into()),
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut next = reader.read(None);
    while let Some(chunk) = step(next).await? {
        buf.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut buf);
        next = reader.read(Some(&chunk));
        let fed = report.feed(loader, &buf);
        if fed != Ok(false) {
            // An error, or the rest is tensor storage the timeline never reads.
            let _ = reader.cancel();
            fed?;
            break;
        }
    }
    Ok(())
}

/// A byte stream's reader, which reads into a buffer it is given, or any stream's.
enum Reader {
    Bytes(web_sys::ReadableStreamByobReader),
    Chunks(web_sys::ReadableStreamDefaultReader),
}

impl Reader {
    /// The next read. A byte stream's read moves the buffer it is given, and the buffer comes
    /// back with the bytes (`last`): the next read goes into it, once they are copied out.
    fn read(&self, last: Option<&Uint8Array>) -> js_sys::Promise {
        match self {
            Reader::Bytes(r) => {
                let view = match last {
                    Some(bytes) => Uint8Array::new(&bytes.buffer()),
                    None => Uint8Array::new_with_length(BYTES_AT_ONCE),
                };
                r.read_with_array_buffer_view(&view)
            }
            Reader::Chunks(r) => r.read(),
        }
    }

    fn cancel(&self) -> js_sys::Promise {
        match self {
            Reader::Bytes(r) => r.cancel(),
            Reader::Chunks(r) => r.cancel(),
        }
    }
}

/// One step of a read: the bytes, or `None` at the end.
async fn step(read: js_sys::Promise) -> Result<Option<Uint8Array>, String> {
    let step = JsFuture::from(read).await.map_err(|e| js_text(&e))?;
    let done = Reflect::get(&step, &"done".into())
        .ok()
        .and_then(|d| d.as_bool())
        .unwrap_or(true);
    if done {
        return Ok(None);
    }
    let value = Reflect::get(&step, &"value".into()).map_err(|e| js_text(&e))?;
    Ok(Some(value.unchecked_into()))
}
