//! Text arguments of protocol 0 opcodes and long integers: parsing only, no state.

use std::rc::Rc;

use super::{Machine, K};
use crate::value::Value;

impl Machine<'_> {
    pub(super) fn long(&mut self, b: &[u8]) -> Result<Value, K> {
        if b.is_empty() {
            return Ok(Value::Int(0));
        }
        if b.len() <= 8 {
            let neg = b[b.len() - 1] & 0x80 != 0;
            let mut x = [if neg { 0xff } else { 0 }; 8];
            x[..b.len()].copy_from_slice(b);
            return Ok(Value::Int(i64::from_le_bytes(x)));
        }
        if b.len() <= 16 {
            let neg = b[b.len() - 1] & 0x80 != 0;
            let mut x = [if neg { 0xff } else { 0 }; 16];
            x[..b.len()].copy_from_slice(b);
            let v = i128::from_le_bytes(x);
            return Ok(Value::BigInt(Rc::from(v.to_string())));
        }
        // Decimal text of a huge integer is quadratic to make; past a size nobody needs,
        // keep it as hex, which is linear.
        self.charge(b.len() * 2)?;
        let neg = b[b.len() - 1] & 0x80 != 0;
        let mut mag: Vec<u8> = b.to_vec();
        if neg {
            // Two's complement magnitude.
            let mut carry = 1u16;
            for byte in mag.iter_mut() {
                let v = (!*byte) as u16 + carry;
                *byte = v as u8;
                carry = v >> 8;
            }
        }
        let mut hex = String::with_capacity(mag.len() * 2 + 3);
        if neg {
            hex.push('-');
        }
        hex.push_str("0x");
        let mut started = false;
        for byte in mag.iter().rev() {
            if !started && *byte == 0 {
                continue;
            }
            if started {
                hex.push_str(&format!("{byte:02x}"));
            } else {
                hex.push_str(&format!("{byte:x}"));
                started = true;
            }
        }
        if !started {
            hex.push('0');
        }
        Ok(Value::BigInt(Rc::from(hex)))
    }

    pub(super) fn text_int(&mut self, line: &[u8]) -> Result<Value, K> {
        let s = std::str::from_utf8(line)
            .map_err(|_| K::Malformed("INT argument is not text".into()))?
            .trim();
        if let Ok(v) = s.parse::<i64>() {
            return Ok(Value::Int(v));
        }
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(K::Malformed(format!(
                "INT argument {s:?} is not an integer"
            )));
        }
        self.charge(s.len())?;
        Ok(Value::BigInt(Rc::from(s)))
    }
}

pub(super) fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

pub(super) fn parse_memo_key(line: &[u8]) -> Result<u64, K> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(|| K::Malformed("memo key is not a number".into()))
}

/// Python's float() on text: also "inf", "nan", "1_000.5".
pub fn parse_py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.contains('_') {
        // Underscores only between digits.
        let b = t.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'_'
                && !(i > 0
                    && b[i - 1].is_ascii_digit()
                    && b.get(i + 1).is_some_and(|n| n.is_ascii_digit()))
            {
                return None;
            }
        }
        return parse_py_float(&t.replace('_', ""));
    }
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let neg = lower.starts_with('-');
    if lower.len() - unsigned.len() > 1 {
        return None;
    }
    match unsigned {
        "inf" | "infinity" => {
            return Some(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    // Rust accepts "inf"/"nan" spellings handled above and rejects hex; both match Python.
    if !unsigned
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    t.parse::<f64>().ok()
}

pub(super) fn unquote_py_string(line: &[u8]) -> Option<Vec<u8>> {
    let q = *line.first()?;
    if !(q == b'\'' || q == b'"') || line.len() < 2 || *line.last()? != q {
        return None;
    }
    let body = &line[1..line.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *body.get(i + 1)?;
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'x' => {
                let h = std::str::from_utf8(body.get(i..i + 2)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                let mut k = 0;
                while k < 2 && i < body.len() && (b'0'..=b'7').contains(&body[i]) {
                    v = v * 8 + (body[i] - b'0') as u32;
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

pub(super) fn raw_unicode_unescape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'\\' && i + 1 < line.len() && (line[i + 1] == b'u' || line[i + 1] == b'U') {
            let n = if line[i + 1] == b'u' { 4 } else { 8 };
            if let Some(c) = line
                .get(i + 2..i + 2 + n)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
            {
                out.push(c);
                i += 2 + n;
                continue;
            }
        }
        out.push(line[i] as char);
        i += 1;
    }
    out
}

pub(super) fn storage_dtype(cls: &str) -> &'static str {
    let short = cls.rsplit('.').next().unwrap_or(cls);
    match short {
        "FloatStorage" => "float32",
        "DoubleStorage" => "float64",
        "HalfStorage" => "float16",
        "BFloat16Storage" => "bfloat16",
        "LongStorage" => "int64",
        "IntStorage" => "int32",
        "ShortStorage" => "int16",
        "CharStorage" => "int8",
        "ByteStorage" => "uint8",
        "BoolStorage" => "bool",
        "ComplexFloatStorage" => "complex64",
        "ComplexDoubleStorage" => "complex128",
        _ => "unknown",
    }
}
