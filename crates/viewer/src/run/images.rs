//! A sample's images (`multimodal_inputs`) in the inspector: each drawn image a canvas of the
//! RGBA pixels the worker decoded (at most `trace::run::MAX_SIDE` a side), shown at up to
//! twice that size; each input that could not be decoded a note saying why.

use leptos::html::Canvas;
use leptos::prelude::*;
use trace::run::SampleImage;
use wasm_bindgen::{Clamped, JsCast};

/// Puts `rgba` (`w × h` pixels) onto the canvas.
fn paint(canvas: &web_sys::HtmlCanvasElement, w: u32, h: u32, rgba: &[u8]) {
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    if let Ok(img) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), w, h) {
        let _ = ctx.put_image_data(&img, 0.0, 0.0);
    }
}

fn one(img: SampleImage) -> AnyView {
    let size = if img.width > 0 {
        format!(" · {}×{} {}", img.width, img.height, img.mode)
    } else {
        String::new()
    };
    let (w, h) = (img.draw_width, img.draw_height);
    let drawn = !img.rgba.is_empty() && img.rgba.len() as u64 == u64::from(w) * u64::from(h) * 4;
    let scaled = (drawn && (u64::from(w), u64::from(h)) != (img.width, img.height))
        .then(|| format!(" (drawn {w}×{h})"));
    let caption = format!("{}{size}{}", img.at, scaled.unwrap_or_default());
    let note = img.note.clone();
    if !drawn {
        return view! {
            <figure class="insp-image" data-testid="sample-image-note">
                <figcaption class="insp-muted">{caption}</figcaption>
                <p class="insp-muted">{note.unwrap_or_else(|| "no pixels".into())}</p>
            </figure>
        }
        .into_any();
    }
    let node: NodeRef<Canvas> = NodeRef::new();
    let rgba = img.rgba;
    Effect::new(move |_| {
        if let Some(c) = node.get() {
            paint(&c, w, h, &rgba);
        }
    });
    view! {
        <figure class="insp-image">
            <canvas node_ref=node data-testid="sample-image" width=w.to_string() height=h.to_string()
                style=format!("width:{}px", (w * 2).min(320))></canvas>
            <figcaption class="insp-muted">{caption}</figcaption>
            {note.map(|n| view! { <p class="insp-muted">{n}</p> })}
        </figure>
    }
    .into_any()
}

/// The images of a sample, or nothing when it has none.
pub fn images_view(images: &[SampleImage]) -> Option<AnyView> {
    (!images.is_empty()).then(|| {
        let items = images.iter().cloned().map(one).collect_view();
        view! {
            <h4>"images"</h4>
            <div class="insp-images" data-testid="sample-images">{items}</div>
        }
        .into_any()
    })
}
