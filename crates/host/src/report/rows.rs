//! The dump's rows in a report: the row store's bytes (`trace::store::binary`) cut into
//! pieces of [`PIECE`] bytes, each gzipped alone and in base64 in its own block, each block
//! followed by a call of the page's rows script ([`ROWS_JS`]), which hands it to a helper
//! worker to decode and inflate while the page parses the next. The store is written
//! straight through: the page never holds the rows as one value or one text, and neither
//! does this writer (one piece at a time).

use std::io::Write;

/// The page's rows script (in the report's head): see its own comment.
pub(super) const ROWS_JS: &str = include_str!("rows.js");

/// The script after each block (allowed, like [`ROWS_JS`], by its SHA-256).
pub(super) const TAKE_JS: &str = "__rollscope_rows.take()";

/// The store's bytes in one block (the last holds fewer): small enough that the last block,
/// inflated once the page is parsed, is quick; large enough that the blocks are few.
pub(super) const PIECE: usize = 4 << 20;

/// Writes the blocks of the store of `compact` (`store_len` bytes: the first block announces
/// it, and the page checks it), `piece` bytes of it per block.
pub(super) fn write_blocks(
    compact: &trace::Loaded,
    title: &str,
    store_len: usize,
    piece: usize,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    let mut blocks = Blocks {
        out: w,
        title,
        store_len,
        piece,
        buf: Vec::with_capacity(piece),
        gz: Vec::new(),
        blocks: 0,
        written: 0,
    };
    trace::store::binary::write(compact, &mut blocks)?;
    blocks.end_piece()?;
    if blocks.written != store_len {
        return Err(std::io::Error::other(format!(
            "the rows came to {} bytes, not the {store_len} counted first",
            blocks.written
        )));
    }
    Ok(())
}

/// Store bytes in, blocks out: gathers one piece, then writes its block.
struct Blocks<'a> {
    out: &'a mut dyn Write,
    title: &'a str,
    store_len: usize,
    piece: usize,
    buf: Vec<u8>,
    gz: Vec<u8>,
    blocks: usize,
    written: usize,
}

impl Blocks<'_> {
    /// Writes the gathered piece as a block (the first even when empty).
    fn end_piece(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() && self.blocks > 0 {
            return Ok(());
        }
        self.gz.clear();
        // Level 1: a few percent larger than the default, written several times faster.
        let mut gz = flate2::write::GzEncoder::new(&mut self.gz, flate2::Compression::fast());
        gz.write_all(&self.buf)?;
        gz.finish()?;
        if self.blocks == 0 {
            write!(
                self.out,
                "<script class=\"rollscope-data\" type=\"application/octet-stream\" \
                 data-name=\"{}\" data-bytes=\"{}\" data-piece=\"{}\">",
                self.title, self.store_len, self.piece
            )?;
        } else {
            self.out.write_all(
                b"<script class=\"rollscope-data\" type=\"application/octet-stream\">",
            )?;
        }
        {
            let mut b64 = base64::write::EncoderWriter::new(
                &mut *self.out,
                &base64::engine::general_purpose::STANDARD,
            );
            b64.write_all(&self.gz)?;
            b64.finish()?;
        }
        write!(self.out, "</script>\n<script>{TAKE_JS}</script>\n")?;
        self.blocks += 1;
        self.written += self.buf.len();
        self.buf.clear();
        Ok(())
    }
}

impl Write for Blocks<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            let n = rest.len().min(self.piece - self.buf.len());
            self.buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.buf.len() == self.piece {
                self.end_piece()?;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// Each block decoded and inflated alone gives `piece` bytes of the store (the last
    /// fewer), and together the store, which reads back as the same rows; the first block
    /// announces the name, the store's size and the piece size, and each block is followed
    /// by the call that takes it.
    #[test]
    fn the_rows_blocks_carry_the_store() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
        let b64 = base64::engine::general_purpose::STANDARD;
        for (file, piece) in [("agent_2.pt", 400), ("pd_1.pt", 7), ("edge_9.pt", 1 << 20)] {
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let c = trace::load(&bytes, &trace::LoadOptions::new(file, 1.0)).unwrap();
            let len = super::super::store_len(&c).unwrap();
            let mut html = Vec::new();
            write_blocks(&c, "a&amp;b", len, piece, &mut html).unwrap();
            let html = String::from_utf8(html).unwrap();
            let first = format!(
                "<script class=\"rollscope-data\" type=\"application/octet-stream\" \
                 data-name=\"a&amp;b\" data-bytes=\"{len}\" data-piece=\"{piece}\">"
            );
            let sep = "</script>\n<script>__rollscope_rows.take()</script>\n";
            let rest = html.strip_prefix(&first).unwrap();
            let blocks: Vec<&str> = rest
                .strip_suffix(sep)
                .unwrap()
                .split(&format!(
                    "{sep}<script class=\"rollscope-data\" type=\"application/octet-stream\">"
                ))
                .collect();
            assert_eq!(blocks.len(), len.div_ceil(piece), "{file}");
            let mut store = Vec::new();
            for (i, t) in blocks.iter().enumerate() {
                let gz = b64.decode(t).unwrap();
                let mut one = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut one)
                    .unwrap();
                let want = if i + 1 < blocks.len() {
                    piece
                } else {
                    len - i * piece
                };
                assert_eq!(one.len(), want, "{file} block {i}");
                store.extend(one);
            }
            let back = trace::store::binary::read(&store).unwrap();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            back.write_materialized(&mut a).unwrap();
            c.write_materialized(&mut b).unwrap();
            assert!(a == b, "{file}");
            if piece == 7 {
                assert!(blocks.len() > 100, "{file}: {} blocks", blocks.len());
            }
        }
    }

    /// A store that is not the size counted first is an error, not a report that fails in
    /// the page.
    #[test]
    fn rows_of_another_size_than_counted_are_an_error() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/slime");
        let bytes = std::fs::read(dir.join("pd_1.pt")).unwrap();
        let c = trace::load(&bytes, &trace::LoadOptions::new("pd_1.pt", 1.0)).unwrap();
        let len = super::super::store_len(&c).unwrap();
        let err = write_blocks(&c, "x", len + 1, 1 << 20, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("not the"), "{err}");
    }
}
