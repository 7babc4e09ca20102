//! `picklegen`: pickles and torch files written opcode by opcode.
//!
//! **Owns:** producing bytes that a real `pickle`/`torch.save` could write, and bytes that no
//! honest writer would (cycles through object state, shared references, deep chains, duplicate
//! ZIP entries), so that tests, fuzz targets and benchmarks build hostile files from one place.
//!
//! **Invariant:** a test and fuzz helper only. No other crate depends on it outside
//! `[dev-dependencies]`, the fuzz targets and `xtask`. It reads nothing; it knows the pickle
//! opcodes, the ZIP layout torch uses and, in `hostile/`, just enough of a rollout dump's shape
//! to build each case.
//!
//! Layout: this file ([`Pickle`], the opcode writer); `zip.rs` ([`torch_zip`], [`zip_entries`]);
//! `tensor.rs` ([`tensor`]); `hostile/` (the catalog of hostile files, [`hostile::catalog`]);
//! `train.rs` (hostile train dumps).

pub mod hostile;
mod tensor;
pub mod train;
mod zip;

pub use tensor::tensor;
pub use zip::{torch_zip, zip_entries, Entry, Method};

/// A pickle program under construction. Every method appends exactly the opcode it names
/// (plus its argument), so a test reads like the disassembly of the file it builds.
#[derive(Debug, Clone, Default)]
pub struct Pickle {
    pub bytes: Vec<u8>,
}

impl Pickle {
    /// An empty program (no PROTO opcode).
    pub fn new() -> Self {
        Pickle::default()
    }

    /// `PROTO n`, as every protocol ≥ 2 pickle starts.
    pub fn proto(n: u8) -> Self {
        let mut p = Pickle::new();
        p.op(0x80).raw(&[n]);
        p
    }

    pub fn op(&mut self, op: u8) -> &mut Self {
        self.bytes.push(op);
        self
    }

    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// Repeats `f` `n` times (for long bodies without a loop in the caller).
    pub fn repeat(&mut self, n: usize, mut f: impl FnMut(&mut Self)) -> &mut Self {
        for _ in 0..n {
            f(self);
        }
        self
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// `STOP`, and the finished bytes.
    pub fn stop(&mut self) -> Vec<u8> {
        self.op(b'.');
        std::mem::take(&mut self.bytes)
    }

    // ---- scalars ------------------------------------------------------------------------

    pub fn none(&mut self) -> &mut Self {
        self.op(b'N')
    }

    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.op(if b { 0x88 } else { 0x89 })
    }

    /// Torch's legacy magic number (119547037146038801333356) as LONG1: the first pickle of
    /// a legacy torch file.
    pub fn legacy_magic(&mut self) -> &mut Self {
        const MAGIC: [u8; 10] = [108, 252, 156, 70, 249, 32, 106, 168, 80, 25];
        self.op(0x8a).raw(&[MAGIC.len() as u8]).raw(&MAGIC)
    }

    /// The shortest of BININT1 / BININT2 / BININT / LONG1.
    pub fn int(&mut self, v: i64) -> &mut Self {
        if (0..256).contains(&v) {
            self.op(b'K').raw(&[v as u8])
        } else if (0..65536).contains(&v) {
            self.op(b'M').raw(&(v as u16).to_le_bytes())
        } else if i32::try_from(v).is_ok() {
            self.op(b'J').raw(&(v as i32).to_le_bytes())
        } else {
            self.op(0x8a).raw(&[8]).raw(&v.to_le_bytes())
        }
    }

    /// BINFLOAT (big-endian f64).
    pub fn float(&mut self, v: f64) -> &mut Self {
        self.op(b'G').raw(&v.to_be_bytes())
    }

    /// SHORT_BINUNICODE below 256 bytes, else BINUNICODE.
    pub fn str(&mut self, s: &str) -> &mut Self {
        if s.len() < 256 {
            self.op(0x8c).raw(&[s.len() as u8]).raw(s.as_bytes())
        } else {
            self.op(b'X')
                .raw(&(s.len() as u32).to_le_bytes())
                .raw(s.as_bytes())
        }
    }

    /// SHORT_BINBYTES below 256 bytes, else BINBYTES.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        if b.len() < 256 {
            self.op(b'C').raw(&[b.len() as u8]).raw(b)
        } else {
            self.op(b'B').raw(&(b.len() as u32).to_le_bytes()).raw(b)
        }
    }

    // ---- containers ---------------------------------------------------------------------

    pub fn mark(&mut self) -> &mut Self {
        self.op(b'(')
    }
    pub fn empty_list(&mut self) -> &mut Self {
        self.op(b']')
    }
    pub fn empty_dict(&mut self) -> &mut Self {
        self.op(b'}')
    }
    pub fn empty_tuple(&mut self) -> &mut Self {
        self.op(b')')
    }
    pub fn empty_set(&mut self) -> &mut Self {
        self.op(0x8f)
    }
    pub fn append(&mut self) -> &mut Self {
        self.op(b'a')
    }
    pub fn appends(&mut self) -> &mut Self {
        self.op(b'e')
    }
    pub fn setitem(&mut self) -> &mut Self {
        self.op(b's')
    }
    pub fn setitems(&mut self) -> &mut Self {
        self.op(b'u')
    }
    pub fn additems(&mut self) -> &mut Self {
        self.op(0x90)
    }
    /// TUPLE1 / TUPLE2 / TUPLE3 for 1–3 items, else MARK-less TUPLE is the caller's job.
    pub fn tuple_n(&mut self, n: u8) -> &mut Self {
        assert!((1..=3).contains(&n), "TUPLE1..3 only");
        self.op(0x84 + n)
    }
    /// TUPLE (from the last MARK).
    pub fn tuple(&mut self) -> &mut Self {
        self.op(b't')
    }
    /// LIST (from the last MARK).
    pub fn list(&mut self) -> &mut Self {
        self.op(b'l')
    }
    /// DICT (from the last MARK).
    pub fn dict(&mut self) -> &mut Self {
        self.op(b'd')
    }

    /// `{key: <what f writes>, …}` for string keys: EMPTY_DICT, MARK, pairs, SETITEMS.
    pub fn str_dict<'a>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'a str, Box<dyn FnOnce(&mut Pickle) + 'a>)>,
    ) -> &mut Self {
        self.empty_dict().mark();
        for (k, v) in pairs {
            self.str(k);
            v(self);
        }
        self.setitems()
    }

    /// `[<f(0)>, <f(1)>, …]` with one MARK … APPENDS batch per 1000 items, as pickle writes it.
    pub fn list_of(&mut self, n: usize, mut f: impl FnMut(&mut Self, usize)) -> &mut Self {
        self.empty_list();
        let mut i = 0;
        while i < n {
            let end = (i + 1000).min(n);
            self.mark();
            for j in i..end {
                f(self, j);
            }
            self.appends();
            i = end;
        }
        self
    }

    // ---- memo and stack -----------------------------------------------------------------

    /// MEMOIZE (protocol 4): stores the top under the next free key.
    pub fn memoize(&mut self) -> &mut Self {
        self.op(0x94)
    }
    /// LONG_BINPUT k.
    pub fn put(&mut self, k: u32) -> &mut Self {
        self.op(b'r').raw(&k.to_le_bytes())
    }
    /// LONG_BINGET k.
    pub fn get(&mut self, k: u32) -> &mut Self {
        self.op(b'j').raw(&k.to_le_bytes())
    }
    pub fn dup(&mut self) -> &mut Self {
        self.op(b'2')
    }
    pub fn pop(&mut self) -> &mut Self {
        self.op(b'0')
    }
    pub fn pop_mark(&mut self) -> &mut Self {
        self.op(b'1')
    }

    // ---- objects ------------------------------------------------------------------------

    /// GLOBAL `module\nname\n` (text form, as protocol 2 writes it).
    pub fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.op(b'c')
            .raw(module.as_bytes())
            .raw(b"\n")
            .raw(name.as_bytes())
            .raw(b"\n")
    }
    /// STACK_GLOBAL from two strings.
    pub fn stack_global(&mut self, module: &str, name: &str) -> &mut Self {
        self.str(module).str(name).op(0x93)
    }
    pub fn reduce(&mut self) -> &mut Self {
        self.op(b'R')
    }
    pub fn newobj(&mut self) -> &mut Self {
        self.op(0x81)
    }
    pub fn build(&mut self) -> &mut Self {
        self.op(b'b')
    }
    pub fn binpersid(&mut self) -> &mut Self {
        self.op(b'Q')
    }

    /// `cls.__new__(cls)` for a class named by GLOBAL: GLOBAL, EMPTY_TUPLE, NEWOBJ.
    pub fn new_object(&mut self, module: &str, name: &str) -> &mut Self {
        self.global(module, name).empty_tuple().newobj()
    }

    /// A PIL image as Pillow pickles one: `PIL.Image.Image` built from its `__getstate__`,
    /// `[info, mode, (width, height), palette, pixels]` (`palette`: RGB triples, or None).
    pub fn pil_image(
        &mut self,
        mode: &str,
        size: (i64, i64),
        palette: Option<&[u8]>,
        pixels: &[u8],
    ) -> &mut Self {
        self.new_object("PIL.Image", "Image")
            .mark()
            .empty_dict()
            .str(mode);
        self.int(size.0).int(size.1).tuple_n(2);
        match palette {
            Some(pal) => {
                self.list_of(pal.len(), |p, i| {
                    p.int(i64::from(pal[i]));
                });
            }
            None => {
                self.none();
            }
        }
        self.bytes(pixels).list().build()
    }
}

/// A rollout dump as `torch.save` writes it: `{"rollout_id": 0, "samples": <what f writes>}`
/// (protocol 2) in a torch ZIP. `f` writes the samples value (usually a list).
pub fn rollout_zip(samples: impl FnOnce(&mut Pickle)) -> Vec<u8> {
    let mut p = Pickle::proto(2);
    p.empty_dict()
        .mark()
        .str("rollout_id")
        .int(0)
        .str("samples");
    samples(&mut p);
    p.setitems();
    torch_zip("rollout_0", &p.stop())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_take_the_shortest_opcode() {
        let mut p = Pickle::new();
        p.int(7).int(300).int(-1).int(1 << 40);
        assert_eq!(p.bytes[0], b'K');
        assert_eq!(p.bytes[2], b'M');
        assert_eq!(p.bytes[5], b'J');
        assert_eq!(p.bytes[10], 0x8a);
    }

    #[test]
    fn a_dict_is_written_as_pickle_writes_it() {
        let mut p = Pickle::proto(2);
        p.str_dict([(
            "a",
            Box::new(|p: &mut Pickle| {
                p.int(1);
            }) as Box<dyn FnOnce(&mut Pickle)>,
        )]);
        assert_eq!(p.stop(), b"\x80\x02}(\x8c\x01aK\x01u.");
    }
}

/// The structured fuzz generator: arbitrary bytes → a rollout-dump-shaped pickle.
#[cfg(feature = "arbitrary")]
pub mod arb;
