//! A sample's images (slime's `Sample.multimodal_inputs`, e.g. `{"images": [PIL images]}`),
//! decoded to small RGBA pictures for the sample inspector, or a note saying why one cannot be.
//!
//! A PIL image pickles as its class (`PIL.Image.Image`, or a plugin's subclass such as
//! `PIL.PngImagePlugin.PngImageFile`) built from Pillow's `__getstate__`: `[info, mode, (width,
//! height), palette, raw pixel bytes]`, the pixels as `tobytes()` gives them (rows top to
//! bottom, no padding but for mode `1`'s bits). Modes `1`, `L`, `LA`, `P`, `PA`, `RGB`,
//! `RGBA`, `RGBX` are drawn; others, encoded file bytes, paths and tensors (a rollout dump's
//! tensor storages are not read) get a note.
//!
//! Bounded whatever the pickle claims: at most [`MAX_IMAGES`] per sample, each drawn at most
//! [`MAX_SIDE`] pixels on a side (nearest pixel), sizes checked against the bytes present, and
//! each drawing's work charged to the scan's [`Allowance`] (one image's bytes named by every
//! sample cost each sample its drawing).

use pt::{Node, Tree, Value};
use serde::{Deserialize, Serialize};

use super::sample::{cut, Allowance};

/// Most images of one sample decoded; the rest are counted in a note.
pub const MAX_IMAGES: usize = 4;
/// Longest side of a drawn image, in pixels.
pub const MAX_SIDE: u32 = 160;
/// Most values of `multimodal_inputs` looked at (keys × items).
const MAX_ITEMS: usize = 64;

/// One image of a sample, ready to draw (`rgba` non-empty) or with why not (`note`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleImage {
    /// Where it is in `multimodal_inputs`, e.g. `images[0]`.
    pub at: String,
    /// The stored size and PIL mode (0 and empty when unknown).
    pub width: u64,
    pub height: u64,
    pub mode: String,
    /// The drawing: `draw_width × draw_height` RGBA pixels, row by row.
    pub draw_width: u32,
    pub draw_height: u32,
    pub rgba: Vec<u8>,
    /// Why it is not drawn, or what was left out.
    pub note: Option<String>,
}

/// The images of `multimodal_inputs` (a dict of lists, a list, or one image).
pub fn read_images(tree: &Tree, mm: Option<&Value>, allow: &mut Allowance) -> Vec<SampleImage> {
    let Some(mm) = mm.filter(|v| !matches!(v, Value::None)) else {
        return Vec::new();
    };
    let mut found: Vec<(String, &Value)> = Vec::new();
    match tree.node_of(mm) {
        Some(Node::Dict(d)) => {
            for (k, v) in d.entries.iter().take(MAX_ITEMS) {
                if matches!(v, Value::None) {
                    continue;
                }
                let name = k.as_str().map_or_else(|| "?".into(), |k| cut(k, 64));
                push_all(tree, name, v, &mut found);
            }
        }
        _ => push_all(tree, "multimodal_inputs".into(), mm, &mut found),
    }
    let total = found.len();
    let mut out: Vec<SampleImage> = found
        .into_iter()
        .take(MAX_IMAGES)
        .map(|(at, v)| {
            let mut img = image(tree, v, allow);
            img.at = at;
            img
        })
        .collect();
    if total > MAX_IMAGES {
        out.push(SampleImage {
            at: "multimodal_inputs".into(),
            note: Some(format!(
                "{} more inputs not shown (the first {MAX_IMAGES} are)",
                total - MAX_IMAGES
            )),
            ..SampleImage::default()
        });
    }
    out
}

/// `v`'s items (a list or tuple), else `v` itself, named after `name`.
fn push_all<'a>(tree: &'a Tree, name: String, v: &'a Value, found: &mut Vec<(String, &'a Value)>) {
    match tree.as_seq(v) {
        Some(items) => found.extend(
            items
                .iter()
                .take(MAX_ITEMS)
                .enumerate()
                .map(|(i, x)| (format!("{name}[{i}]"), x)),
        ),
        None => found.push((name, v)),
    }
}

fn noted(note: String) -> SampleImage {
    SampleImage {
        note: Some(note),
        ..SampleImage::default()
    }
}

/// One input: a PIL image drawn, anything else a note naming what it is.
fn image(tree: &Tree, v: &Value, allow: &mut Allowance) -> SampleImage {
    match v {
        Value::Str(s) => {
            return noted(format!(
                "text, not pixels (a path or URL is not opened): {}",
                cut(s, 200)
            ))
        }
        Value::Bytes(b) => {
            return noted(format!(
                "{} ({} bytes): encoded bytes are not decoded here",
                kind_of(b),
                b.len()
            ))
        }
        _ => {}
    }
    let Some(Node::Object(o)) = tree.node_of(v) else {
        return noted("not an image (no PIL image here)".into());
    };
    if !o.class.starts_with("PIL.") {
        return noted(format!(
            "a {} object: not an image this viewer decodes",
            cut(&o.class, 120)
        ));
    }
    let state = tree.as_seq(&o.state).unwrap_or(&[]);
    let (Some(Value::Str(mode)), Some(size), Some(Value::Bytes(px))) = (
        state.get(1),
        state.get(2).and_then(|s| tree.as_seq(s)),
        state.get(4),
    ) else {
        return noted(format!(
            "a {} without the [info, mode, size, palette, pixels] state Pillow pickles",
            cut(&o.class, 120)
        ));
    };
    let dim = |i: usize| match size.get(i) {
        Some(Value::Int(x)) => u64::try_from(*x).ok(),
        _ => None,
    };
    let mut img = SampleImage {
        mode: cut(mode, 16),
        ..SampleImage::default()
    };
    let (Some(w), Some(h)) = (dim(0), dim(1)) else {
        img.note = Some("its size is not two non-negative integers".into());
        return img;
    };
    (img.width, img.height) = (w, h);
    let palette: Vec<u8> = state
        .get(3)
        .and_then(|p| tree.as_seq(p))
        .map(|p| {
            p.iter()
                .take(1024)
                .map(|x| match x {
                    Value::Int(x) => (*x).clamp(0, 255) as u8,
                    _ => 0,
                })
                .collect()
        })
        .unwrap_or_default();
    match draw(mode, w, h, px, &palette, allow) {
        Ok((dw, dh, rgba)) => (img.draw_width, img.draw_height, img.rgba) = (dw, dh, rgba),
        Err(e) => img.note = Some(e),
    }
    img
}

/// What encoded image bytes are, by their first bytes.
fn kind_of(b: &[u8]) -> &'static str {
    if b.starts_with(b"\x89PNG") {
        "a PNG file"
    } else if b.starts_with(b"\xff\xd8\xff") {
        "a JPEG file"
    } else if b.starts_with(b"GIF8") {
        "a GIF file"
    } else if b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        "a WebP file"
    } else {
        "bytes of no known image format"
    }
}

/// Bytes per pixel of the modes drawn (mode `1` packs 8 pixels a byte: 0 here).
fn bytes_per_pixel(mode: &str) -> Option<u64> {
    Some(match mode {
        "1" => 0,
        "L" | "P" => 1,
        "LA" | "PA" => 2,
        "RGB" => 3,
        "RGBA" | "RGBX" => 4,
        _ => return None,
    })
}

/// `w × h` pixels of `mode` in `px`, drawn at most [`MAX_SIDE`] on a side as RGBA.
fn draw(
    mode: &str,
    w: u64,
    h: u64,
    px: &[u8],
    palette: &[u8],
    allow: &mut Allowance,
) -> Result<(u32, u32, Vec<u8>), String> {
    let bpp = bytes_per_pixel(mode).ok_or_else(|| format!("mode {mode:?} is not drawn here"))?;
    let row = if bpp == 0 {
        w.div_ceil(8)
    } else {
        w.checked_mul(bpp).ok_or("absurd size")?
    };
    let need = row
        .checked_mul(h)
        .ok_or_else(|| format!("{w}×{h}: an absurd size"))?;
    if need != px.len() as u64 {
        return Err(format!(
            "{w}×{h} {mode} needs {need} bytes of pixels, the dump holds {}",
            px.len()
        ));
    }
    if w == 0 || h == 0 {
        return Err(format!("{w}×{h}: no pixels"));
    }
    // Nearest pixel: one source pixel per drawn one, so the work is the drawing's size.
    let side = u64::from(MAX_SIDE);
    let long = w.max(h);
    let fit = |x: u64| {
        if long <= side {
            x
        } else {
            ((u128::from(x) * u128::from(side) / u128::from(long)) as u64).max(1)
        }
    };
    let (dw, dh) = (fit(w), fit(h));
    let cost = dw * dh * 8;
    if allow.spent.saturating_add(cost) > allow.limit {
        return Err("not drawn: the dump's reading allowance is spent".into());
    }
    allow.spent += cost;
    // The source pixel under drawn pixel `i` of `n` along a side of `len`.
    let src = |i: u64, n: u64, len: u64| (u128::from(i) * u128::from(len) / u128::from(n)) as u64;
    let mut rgba = Vec::with_capacity((dw * dh * 4) as usize);
    for y in 0..dh {
        let sy = src(y, dh, h);
        for x in 0..dw {
            let sx = src(x, dw, w);
            let at = |k: u64| {
                px.get((sy * row + sx * bpp + k) as usize)
                    .copied()
                    .unwrap_or(0)
            };
            let colour = |i: u8| {
                let c = |k: usize| palette.get(3 * usize::from(i) + k).copied().unwrap_or(0);
                [c(0), c(1), c(2)]
            };
            let p = match mode {
                "1" => {
                    let byte = px.get((sy * row + sx / 8) as usize).copied().unwrap_or(0);
                    let on = byte & (0x80 >> (sx % 8)) != 0;
                    let v = if on { 255 } else { 0 };
                    [v, v, v, 255]
                }
                "L" => [at(0), at(0), at(0), 255],
                "LA" => [at(0), at(0), at(0), at(1)],
                "P" => {
                    let [r, g, b] = colour(at(0));
                    [r, g, b, 255]
                }
                "PA" => {
                    let [r, g, b] = colour(at(0));
                    [r, g, b, at(1)]
                }
                "RGBA" => [at(0), at(1), at(2), at(3)],
                _ => [at(0), at(1), at(2), 255],
            };
            rgba.extend_from_slice(&p);
        }
    }
    Ok((dw as u32, dh as u32, rgba))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow() -> Allowance {
        Allowance {
            spent: 0,
            limit: 1 << 30,
        }
    }

    #[test]
    fn modes_draw_as_rgba() {
        let mut a = allow();
        let (w, h, px) = draw("RGB", 2, 1, &[1, 2, 3, 4, 5, 6], &[], &mut a).unwrap();
        assert_eq!((w, h, px), (2, 1, vec![1, 2, 3, 255, 4, 5, 6, 255]));
        let (_, _, px) = draw("P", 2, 1, &[1, 0], &[9, 9, 9, 10, 20, 30], &mut a).unwrap();
        assert_eq!(px, vec![10, 20, 30, 255, 9, 9, 9, 255]);
        // Mode 1: 10 pixels a row in 2 bytes, most significant bit first.
        let (_, _, px) = draw("1", 10, 1, &[0b1000_0000, 0b0100_0000], &[], &mut a).unwrap();
        assert_eq!(&px[..8], &[255, 255, 255, 255, 0, 0, 0, 255]);
        assert_eq!(&px[36..40], &[255, 255, 255, 255], "pixel 9");
        let (_, _, px) = draw("LA", 1, 1, &[7, 8], &[], &mut a).unwrap();
        assert_eq!(px, vec![7, 7, 7, 8]);
        assert!(a.spent > 0, "drawing is charged");
    }

    #[test]
    fn sizes_are_checked_and_a_large_image_is_drawn_small() {
        let mut a = allow();
        let e = draw("RGB", 4, 4, &[0; 47], &[], &mut a).unwrap_err();
        assert!(
            e.contains("needs 48 bytes") && e.contains("holds 47"),
            "{e}"
        );
        let e = draw("RGB", u64::MAX, 3, &[0; 3], &[], &mut a).unwrap_err();
        assert!(e.contains("absurd"), "{e}");
        assert!(draw("CMYK", 1, 1, &[0; 4], &[], &mut a)
            .unwrap_err()
            .contains("CMYK"));
        assert!(draw("L", 0, 0, &[], &[], &mut a)
            .unwrap_err()
            .contains("no pixels"));
        // 2000 × 1000 grey: drawn 160 × 80, in bounded work.
        let px = vec![200u8; 2_000_000];
        let (w, h, rgba) = draw("L", 2000, 1000, &px, &[], &mut a).unwrap();
        assert_eq!((w, h), (160, 80));
        assert_eq!(rgba.len(), 160 * 80 * 4);
        assert_eq!(&rgba[..4], &[200, 200, 200, 255]);
        let mut spent = Allowance {
            spent: 0,
            limit: 10,
        };
        let e = draw("L", 2000, 1000, &px, &[], &mut spent).unwrap_err();
        assert!(e.contains("allowance"), "{e}");
    }
}
