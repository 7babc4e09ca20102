//! The opcodes: what each of the pickle protocols' opcodes does to the machine (`mod.rs`),
//! numbers and constants first (they dominate large dumps). Reducers are in `reduce.rs`, the
//! numeric-list fast path in `numeric.rs`, text arguments in `text.rs`.

use std::rc::Rc;

use super::input::Input;
use super::text::{
    latin1, parse_memo_key, parse_py_float, raw_unicode_unescape, unquote_py_string,
};
use super::{reduce, Machine, Step, VALUE_BYTES};
use crate::error::PickleErrorKind as K;
use crate::value::{Dict, Node, Value};

impl Machine<'_> {
    pub(super) fn op(&mut self, op: u8, inp: &mut Input<'_>) -> Step<()> {
        match op {
            // Numbers and constants first: they dominate large dumps.
            b'K' => {
                let v = need!(inp.u8());
                self.push(Value::Int(v as i64))?
            }
            b'M' => {
                let v = need!(inp.arr::<2>());
                self.push(Value::Int(u16::from_le_bytes(v) as i64))?
            }
            b'J' => {
                let v = need!(inp.arr::<4>());
                self.push(Value::Int(i32::from_le_bytes(v) as i64))?
            }
            b'G' => {
                let v = need!(inp.arr::<8>());
                self.push(Value::Float(f64::from_be_bytes(v)))?
            }
            b'h' => {
                let k = need!(inp.u8());
                self.memo_get(k as u64)?
            }
            b'j' => {
                let k = need!(inp.arr::<4>());
                self.memo_get(u32::from_le_bytes(k) as u64)?
            }
            b'q' => {
                let k = need!(inp.u8());
                let v = self.top()?.clone();
                self.memo_put(k as u64, v)?
            }
            b'r' => {
                let k = need!(inp.arr::<4>());
                let v = self.top()?.clone();
                self.memo_put(u32::from_le_bytes(k) as u64, v)?
            }
            0x94 => {
                // MEMOIZE
                let v = self.top()?.clone();
                let k = self.memo_count;
                self.memo_put(k, v)?
            }
            b'(' => {
                if let Some(max) = self.limits.keep_numeric_list_max {
                    if self.skip_numeric_batch(inp, max) {
                        return Ok(Some(()));
                    }
                }
                if self.marks.len() >= self.limits.max_stack {
                    return Err(K::StackLimit(self.limits.max_stack));
                }
                self.open_batch();
                self.marks.push(self.stack.len())
            }
            b'e' => {
                let items = self.pop_mark()?;
                let at = self.stack.len().checked_sub(1).ok_or(K::StackUnderflow)?;
                self.append_items(at, items)?
            }
            b'a' => {
                let v = self.pop()?;
                self.top()?;
                self.append_items(self.stack.len() - 1, vec![v])?
            }
            b'u' => {
                let items = self.pop_mark()?;
                let target = self.target_index(self.stack.len())?;
                self.set_items(&target, items)?
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                let target = self.top()?.clone();
                self.set_items(&target, vec![k, v])?
            }
            b'X' => {
                let n = self.fits(u32::from_le_bytes(need!(inp.arr::<4>())) as u64)?;
                let s = need!(inp.take(n));
                let v = self.str_value(s)?;
                self.push(v)?
            }
            0x8c => {
                let n = need!(inp.u8()) as usize;
                let s = need!(inp.take(n));
                let v = self.str_value(s)?;
                self.push(v)?
            }
            0x8d => {
                let n = self.fits(u64::from_le_bytes(need!(inp.arr::<8>())))?;
                let s = need!(inp.take(n));
                let v = self.str_value(s)?;
                self.push(v)?
            }
            b'N' => self.push(Value::None)?,
            0x88 => self.push(Value::Bool(true))?,
            0x89 => self.push(Value::Bool(false))?,
            b']' => {
                let v = self.alloc(Node::List(Vec::new()))?;
                self.push(v)?
            }
            b'}' => {
                let v = self.alloc(Node::Dict(Dict::default()))?;
                self.push(v)?
            }
            b')' => {
                let v = self.tuple(Vec::new())?;
                self.push(v)?
            }
            0x8f => {
                let v = self.alloc(Node::Set(Vec::new()))?;
                self.push(v)?
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let floor = self.marks.last().copied().unwrap_or(0);
                if self.stack.len() < floor + n {
                    return Err(K::StackUnderflow);
                }
                let items = self.stack.split_off(self.stack.len() - n);
                let v = self.tuple(items)?;
                self.push(v)?
            }
            b't' => {
                let items = self.pop_mark()?;
                let v = self.tuple(items)?;
                self.push(v)?
            }
            b'l' => {
                let items = self.pop_mark()?;
                let v = self.alloc(Node::List(items))?;
                self.push(v)?
            }
            b'd' => {
                let items = self.pop_mark()?;
                let v = self.alloc(Node::Dict(Dict::default()))?;
                self.set_items(&v, items)?;
                self.push(v)?
            }
            0x91 => {
                let items = self.pop_mark_distinct()?;
                let v = self.alloc(Node::FrozenSet(items))?;
                self.push(v)?
            }
            0x90 => {
                // ADDITEMS
                let items = self.pop_mark_distinct()?;
                let target = self.target_index(self.stack.len())?;
                self.charge(items.len().saturating_mul(VALUE_BYTES))?;
                match self.node_mut(&target) {
                    Some(Node::Set(s)) => s.extend(items),
                    _ => {
                        return Err(K::Malformed(
                            "ADDITEMS to something that is not a set".into(),
                        ))
                    }
                }
            }
            b'0' => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let v = self.top()?.clone();
                self.push(v)?
            }
            0x80 => {
                let p = need!(inp.u8());
                if p > 5 {
                    return Err(K::Protocol(p));
                }
                self.proto = p;
            }
            0x95 => {
                // FRAME: a length hint only.
                need!(inp.arr::<8>());
            }
            b'.' => {
                let v = self.pop()?;
                self.result = Some(v);
            }
            b'c' => {
                let module = need!(name_line(inp)?);
                let name = need!(name_line(inp)?);
                let v = self.global(&latin1(module), &latin1(name))?;
                self.push(v)?
            }
            0x93 => {
                // STACK_GLOBAL
                let name = self.pop()?;
                let module = self.pop()?;
                match (module, name) {
                    (Value::Str(m), Value::Str(n)) => {
                        let v = self.stack_global(m, n)?;
                        self.push(v)?
                    }
                    _ => return Err(K::Malformed("STACK_GLOBAL needs two strings".into())),
                }
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.call(callable, args)?;
                self.push(v)?
            }
            0x81 => {
                let args = self.pop()?;
                let cls = self.pop()?;
                let v = self.new_object(cls, args)?;
                self.push(v)?
            }
            0x92 => {
                let _kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                let v = self.new_object(cls, args)?;
                self.push(v)?
            }
            b'b' => {
                let state = self.pop()?;
                let target = self.top()?.clone();
                self.build(&target, state)?
            }
            b'i' => {
                let module = need!(name_line(inp)?);
                let name = need!(name_line(inp)?);
                let cls = self.global(&latin1(module), &latin1(name))?;
                let items = self.pop_mark()?;
                let args = self.tuple(items)?;
                let v = self.new_object(cls, args)?;
                self.push(v)?
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err(K::StackUnderflow);
                }
                let cls = items.remove(0);
                let args = self.tuple(items)?;
                let v = self.new_object(cls, args)?;
                self.push(v)?
            }
            b'Q' => {
                let pid = self.pop()?;
                let v = self.alloc(Node::Persistent(pid))?;
                self.push(v)?
            }
            b'P' => {
                let line = line!(inp);
                let pid = self.str_value(line)?;
                let v = self.alloc(Node::Persistent(pid))?;
                self.push(v)?
            }
            0x8a => {
                let n = need!(inp.u8()) as usize;
                let b = need!(inp.take(n));
                let v = self.long(b)?;
                self.push(v)?
            }
            0x8b => {
                let n = self.fits(u32::from_le_bytes(need!(inp.arr::<4>())) as u64)?;
                let b = need!(inp.take(n));
                let v = self.long(b)?;
                self.push(v)?
            }
            b'B' => {
                let n = self.fits(u32::from_le_bytes(need!(inp.arr::<4>())) as u64)?;
                let b = need!(inp.take(n));
                let v = self.bytes_value(b)?;
                self.push(v)?
            }
            b'C' => {
                let n = need!(inp.u8()) as usize;
                let b = need!(inp.take(n));
                let v = self.bytes_value(b)?;
                self.push(v)?
            }
            0x8e | 0x96 => {
                let n = self.fits(u64::from_le_bytes(need!(inp.arr::<8>())))?;
                let b = need!(inp.take(n));
                let v = self.bytes_value(b)?;
                self.push(v)?
            }
            // Python 2 str: bytes that are usually text; keep them as text when they are.
            b'T' => {
                let n = self.fits(u32::from_le_bytes(need!(inp.arr::<4>())) as u64)?;
                let b = need!(inp.take(n));
                let v = self.str_value(b)?;
                self.push(v)?
            }
            b'U' => {
                let n = need!(inp.u8()) as usize;
                let b = need!(inp.take(n));
                let v = self.str_value(b)?;
                self.push(v)?
            }
            0x97 => return Err(K::OutOfBand),
            0x98 => {} // READONLY_BUFFER: a no-op on our side.
            b'I' => {
                let line = line!(inp);
                let v = match line {
                    b"01" => Value::Bool(true),
                    b"00" => Value::Bool(false),
                    _ => self.text_int(line)?,
                };
                self.push(v)?
            }
            b'L' => {
                let line = line!(inp);
                let line = line.strip_suffix(b"L").unwrap_or(line);
                let v = self.text_int(line)?;
                self.push(v)?
            }
            b'F' => {
                let line = line!(inp);
                let f = std::str::from_utf8(line)
                    .ok()
                    .and_then(|s| parse_py_float(s.trim()))
                    .ok_or_else(|| K::Malformed("FLOAT argument is not a number".into()))?;
                self.push(Value::Float(f))?
            }
            b'S' => {
                let line = line!(inp);
                let s = unquote_py_string(line)
                    .ok_or_else(|| K::Malformed("STRING argument is not a quoted string".into()))?;
                let v = self.str_value(&s)?;
                self.push(v)?
            }
            b'V' => {
                let line = line!(inp);
                let s = raw_unicode_unescape(line);
                let v = self.str_value(s.as_bytes())?;
                self.push(v)?
            }
            b'g' => {
                let line = line!(inp);
                let k = parse_memo_key(line)?;
                self.memo_get(k)?
            }
            b'p' => {
                let line = line!(inp);
                let k = parse_memo_key(line)?;
                let v = self.top()?.clone();
                self.memo_put(k, v)?
            }
            0x82..=0x84 => {
                let n = [1usize, 2, 4][(op - 0x82) as usize];
                let b = need!(inp.take(n));
                let mut code = [0u8; 4];
                code[..n].copy_from_slice(b);
                let v = Value::Global(Rc::from(format!(
                    "copyreg.extension_{}",
                    u32::from_le_bytes(code)
                )));
                self.push(v)?
            }
            _ => return Err(K::UnknownOpcode),
        }
        Ok(Some(()))
    }
}

/// A GLOBAL or INST module or name line: at most [`reduce::MAX_NAME`] bytes, refused as soon
/// as more have arrived without a newline (a 512 MiB line was once held whole first).
fn name_line<'a>(inp: &mut Input<'a>) -> Result<Option<&'a [u8]>, K> {
    let room = inp.line_max;
    inp.line_max = room.min(reduce::MAX_NAME);
    let r = inp.line();
    inp.line_max = room;
    r.map_err(|e| {
        if room > reduce::MAX_NAME {
            reduce::name_too_long()
        } else {
            e
        }
    })
}
