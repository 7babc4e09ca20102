//! A batch of rows as it arrives: each column an `ArrayBuffer`, copied once into wasm
//! memory. A missing or misaligned buffer is an error naming the column.

use js_sys::{ArrayBuffer, Float64Array, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::protocol::{bad_batch, Columns};

fn buffer(data: &JsValue, key: &str, width: u32) -> Result<ArrayBuffer, String> {
    let buf = Reflect::get(data, &key.into())
        .ok()
        .and_then(|b| b.dyn_into::<ArrayBuffer>().ok())
        .ok_or_else(|| bad_batch(&format!("column {key} is missing")))?;
    if buf.byte_length() % width != 0 {
        return Err(bad_batch(&format!(
            "column {key} is {} bytes, not a whole number of {width}-byte values",
            buf.byte_length()
        )));
    }
    Ok(buf)
}

fn f64s(data: &JsValue, key: &str) -> Result<Vec<f64>, String> {
    let a = Float64Array::new(&buffer(data, key, 8)?.into());
    let mut v = vec![0.0; a.length() as usize];
    a.copy_to(&mut v);
    Ok(v)
}

fn u32s(data: &JsValue, key: &str) -> Result<Vec<u32>, String> {
    let a = Uint32Array::new(&buffer(data, key, 4)?.into());
    let mut v = vec![0; a.length() as usize];
    a.copy_to(&mut v);
    Ok(v)
}

fn u8s(data: &JsValue, key: &str) -> Result<Vec<u8>, String> {
    let a = Uint8Array::new(&buffer(data, key, 1)?.into());
    let mut v = vec![0; a.length() as usize];
    a.copy_to(&mut v);
    Ok(v)
}

/// The steps of an `in_flight` message: times `t` and counts `n`, one each per step.
pub fn in_flight(data: &JsValue) -> Result<Vec<(f64, u32)>, String> {
    let (t, n) = (f64s(data, "t")?, u32s(data, "n")?);
    if t.len() != n.len() {
        return Err(bad_batch(&format!(
            "{} in-flight times for {} counts",
            t.len(),
            n.len()
        )));
    }
    Ok(t.into_iter().zip(n).collect())
}

/// The columns of a `rows` message (see `protocol::Columns` for the layout).
pub fn columns(data: &JsValue) -> Result<Columns, String> {
    Ok(Columns {
        offsets: u32s(data, "offsets")?,
        start: f64s(data, "start")?,
        end: f64s(data, "end")?,
        name: u32s(data, "name")?,
        kind: u8s(data, "item_kind")?,
        lane: u32s(data, "lane")?,
        depth: u32s(data, "depth")?,
        attempt: u32s(data, "attempt")?,
        pd: f64s(data, "pd")?,
    })
}
