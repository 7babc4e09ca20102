//! Tensor values: the storages a torch ZIP keeps beside its `data.pkl` (`<folder>/data/<key>`),
//! read on request for a tensor the value tree names.
//!
//! The reader itself never reads storages (a rollout dump's samples hold plain lists). Train
//! data (`train_data/{id}.pt`) holds its per-token values as tensors, so a caller that wants
//! them opens the archive's directory once ([`Archive::open`]: one pass over the central
//! directory, an index by storage key) and asks for each tensor ([`Archive::values`]).
//!
//! **Bounded:** a storage is read in place when STORED (torch's way) and inflated under the
//! caller's cap when DEFLATED; a tensor's elements are checked against its storage's bytes
//! (offset, shape and stride), and at most `max_elems` are produced.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use crate::error::Error;
use crate::zipdir::{self, Central};
use crate::{Node, Tree, Value};

/// A torch ZIP's storages, indexed by key.
pub struct Archive<'a> {
    bytes: &'a [u8],
    storages: HashMap<String, Central>,
}

/// Most storages indexed: torch writes one entry per tensor, and a train dump has a few per
/// sample.
pub const MAX_STORAGES: usize = 1 << 22;

/// What a tensor in the value tree says about its data.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRef {
    /// `float32`, `int64`, … (see the storage classes torch names).
    pub dtype: String,
    pub key: String,
    /// Offset into the storage, in elements.
    pub offset: u64,
    pub shape: Vec<u64>,
    pub stride: Vec<u64>,
}

impl TensorRef {
    /// The tensor `v` names (an object of class `torch.Tensor` read from `_rebuild_tensor_v2`).
    pub fn of(tree: &Tree, v: &Value) -> Option<TensorRef> {
        let Some(Node::Object(o)) = tree.node_of(v) else {
            return None;
        };
        if &*o.class != "torch.Tensor" {
            return None;
        }
        let args = tree.as_seq(&o.args)?;
        let Some(Node::Persistent(pid)) = tree.node_of(args.first()?) else {
            return None;
        };
        // ('storage', torch.FloatStorage, key, location, numel)
        let pid = tree.as_seq(pid)?;
        let dtype = match tree.get(&o.state, "dtype") {
            Some(Value::Str(s)) => s.to_string(),
            _ => "unknown".to_string(),
        };
        let key = match pid.get(2)? {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            _ => return None,
        };
        let ints = |v: &Value| -> Option<Vec<u64>> {
            tree.as_seq(v)?
                .iter()
                .map(|x| match x {
                    Value::Int(i) => u64::try_from(*i).ok(),
                    _ => None,
                })
                .collect()
        };
        let offset = match args.get(1)? {
            Value::Int(i) => u64::try_from(*i).ok()?,
            _ => return None,
        };
        Some(TensorRef {
            dtype,
            key,
            offset,
            shape: ints(args.get(2)?)?,
            stride: ints(args.get(3)?)?,
        })
    }

    /// Number of elements (the product of the shape; 1 for a 0-d tensor), `None` on overflow.
    pub fn numel(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    }
}

fn dtype_size(dtype: &str) -> Option<usize> {
    Some(match dtype {
        "float64" | "int64" => 8,
        "float32" | "int32" => 4,
        "float16" | "bfloat16" | "int16" => 2,
        "int8" | "uint8" | "bool" => 1,
        _ => return None,
    })
}

impl<'a> Archive<'a> {
    /// Indexes the storages of the torch ZIP `bytes` (the whole file).
    pub fn open(bytes: &'a [u8]) -> Result<Archive<'a>, Error> {
        let (pkl, _) = zipdir::whole_data_pkl(bytes)?;
        let folder = pkl.name.strip_suffix("data.pkl").unwrap_or("").to_string();
        let prefix = format!("{folder}data/");
        let (found, count) = zipdir::central_entries(
            bytes,
            bytes.len() as u64,
            "the storages",
            |n| n.starts_with(&prefix) && !n[prefix.len()..].contains('/'),
            MAX_STORAGES,
        )?;
        if count > MAX_STORAGES {
            return Err(Error::ZipLayout(format!(
                "{count} tensor storages; at most {MAX_STORAGES} are read"
            )));
        }
        let storages = found
            .into_iter()
            .map(|c| (c.name[prefix.len()..].to_string(), c))
            .collect();
        Ok(Archive { bytes, storages })
    }

    /// What reading `t` costs, in units of one element produced or one byte inflated: its
    /// element count, plus the bytes inflated for it when its storage is DEFLATED (a STORED
    /// storage is read in place). A caller that bounds its work charges this before
    /// [`Archive::values`]. `None` when the tensor cannot be read (the error is
    /// [`Archive::values`]'s).
    pub fn cost(&self, t: &TensorRef) -> Option<u64> {
        let size = dtype_size(&t.dtype)?;
        let n = t.numel()?;
        let inflated = match self.storages.get(&t.key)?.method {
            0 => 0,
            _ => needed_bytes(t, size).ok()?,
        };
        Some(n.saturating_add(inflated))
    }

    /// The bytes of storage `key` (at most `max_bytes`).
    pub fn storage(&self, key: &str, max_bytes: u64) -> Result<Cow<'a, [u8]>, Error> {
        self.storage_bytes(key, max_bytes, false)
    }

    /// The storage's bytes: all of them (an error past `max_bytes`), or with `prefix` only
    /// the first `max_bytes` (a tensor that views the start of a larger shared storage, as
    /// torch writes a list of 0-d tensors cut from one tensor).
    fn storage_bytes(
        &self,
        key: &str,
        max_bytes: u64,
        prefix: bool,
    ) -> Result<Cow<'a, [u8]>, Error> {
        let c = self
            .storages
            .get(key)
            .ok_or_else(|| Error::ZipLayout(format!("no storage entry data/{key}")))?;
        let start = zipdir::data_start(self.bytes, c)?;
        let csize = c
            .csize
            .ok_or_else(|| Error::ZipLayout(format!("{}: compressed size unknown", c.name)))?;
        let data = (start as u64)
            .checked_add(csize)
            .and_then(|end| usize::try_from(end).ok())
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(|| {
                Error::ZipLayout(format!("{}: data runs past the end of the file", c.name))
            })?;
        let too_large = || Error::TooLarge {
            entry: c.name.clone(),
            limit: max_bytes,
            declared: c.usize,
        };
        match c.method {
            0 if data.len() as u64 <= max_bytes => Ok(Cow::Borrowed(data)),
            0 if prefix => Ok(Cow::Borrowed(&data[..max_bytes as usize])),
            0 => Err(too_large()),
            8 => {
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(data)
                    .take(max_bytes.saturating_add(1))
                    .read_to_end(&mut out)
                    .map_err(|e| Error::Zip(format!("{}: {e}", c.name)))?;
                if out.len() as u64 > max_bytes {
                    if !prefix {
                        return Err(too_large());
                    }
                    out.truncate(max_bytes as usize);
                }
                Ok(Cow::Owned(out))
            }
            m => Err(Error::Zip(format!(
                "{}: compression method {m} is not supported",
                c.name
            ))),
        }
    }

    /// The elements of tensor `t` in row-major order, as f64 (at most `max_elems`).
    pub fn values(&self, t: &TensorRef, max_elems: u64) -> Result<Vec<f64>, Error> {
        let what = |m: String| Error::ZipLayout(format!("tensor data/{}: {m}", t.key));
        let size =
            dtype_size(&t.dtype).ok_or_else(|| what(format!("dtype {} is not read", t.dtype)))?;
        let n = t.numel().ok_or_else(|| what("shape overflows".into()))?;
        if n > max_elems {
            return Err(what(format!("{n} elements; at most {max_elems} are read")));
        }
        let need = needed_bytes(t, size).map_err(what)?;
        let data = self.storage_bytes(&t.key, need.max(size as u64), true)?;
        if n > 0 && (data.len() as u64) < need {
            return Err(what(format!(
                "needs {need} bytes, the storage has {}",
                data.len()
            )));
        }
        let read = |i: u64| -> f64 {
            let at = (i as usize) * size;
            let b = &data[at..at + size];
            match t.dtype.as_str() {
                "float64" => f64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
                "int64" => i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64,
                "float32" => f32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64,
                "int32" => i32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64,
                "int16" => i16::from_le_bytes(b.try_into().unwrap_or([0; 2])) as f64,
                "float16" => half_to_f64(u16::from_le_bytes(b.try_into().unwrap_or([0; 2]))),
                "bfloat16" => f32::from_bits(
                    (u16::from_le_bytes(b.try_into().unwrap_or([0; 2])) as u32) << 16,
                ) as f64,
                "int8" => b[0] as i8 as f64,
                _ => b[0] as f64,
            }
        };
        let mut out = Vec::with_capacity(n as usize);
        if n == 0 {
            return Ok(out);
        }
        // Row-major walk over the shape with a running index and a running flat offset (no
        // recursion). Dimensions of size 1 never move the index, so they are dropped first: a
        // shape of a million 1s costs nothing per element. Each step then does amortised
        // constant work (a carry past dimension d happens once per shape[d] steps), and every
        // index stays within `last` (checked above), so nothing overflows.
        let dims: Vec<(u64, u64)> = t
            .shape
            .iter()
            .zip(&t.stride)
            .filter(|(&d, _)| d != 1)
            .map(|(&d, &s)| (d, s))
            .collect();
        let mut idx = vec![0u64; dims.len()];
        let mut flat = t.offset;
        for _ in 0..n {
            out.push(read(flat));
            for (k, &(d, s)) in dims.iter().enumerate().rev() {
                idx[k] += 1;
                if idx[k] < d {
                    flat += s;
                    break;
                }
                idx[k] = 0;
                flat -= (d - 1) * s;
            }
        }
        Ok(out)
    }
}

/// The storage bytes `t` reads: up to its last element's (the one at the largest index).
fn needed_bytes(t: &TensorRef, size: usize) -> Result<u64, String> {
    if t.stride.len() != t.shape.len() {
        return Err("shape and stride differ in length".into());
    }
    let mut last = t.offset;
    if t.shape.iter().all(|&d| d > 0) {
        for (&d, &s) in t.shape.iter().zip(&t.stride) {
            // d ≥ 1 here, so d - 1 does not wrap.
            last = (d - 1)
                .checked_mul(s)
                .and_then(|x| last.checked_add(x))
                .ok_or("index overflows")?;
        }
    }
    Ok(last.saturating_add(1).saturating_mul(size as u64))
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}
