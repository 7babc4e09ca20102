//! A sample's `multimodal_inputs` images in its detail: PIL images drawn small as RGBA, every
//! other input (encoded bytes, paths, lying or huge images) a note, within bounds.

use picklegen::hostile::train::image_sample;
use trace::run::{scan_bytes, SampleImage, MAX_SIDE};

fn images(bytes: &[u8]) -> Vec<SampleImage> {
    let s = scan_bytes(bytes, true).expect("a dump");
    assert_eq!(s.rows.len(), 1, "the sample keeps its row");
    s.details[0].images.clone()
}

#[test]
fn a_pil_image_is_drawn_pixel_for_pixel() {
    // 3 × 2 RGB: red, green, blue / black, white, grey.
    let px = [
        255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 9, 9, 9,
    ];
    let got = images(&image_sample(|p| {
        p.pil_image("RGB", (3, 2), None, &px);
        p.str("/data/cat.png");
        p.pil_image("P", (1, 1), Some(&[10, 20, 30, 40, 50, 60]), &[1]);
    }));
    assert_eq!(got.len(), 3);
    let a = &got[0];
    assert_eq!(
        (a.at.as_str(), a.width, a.height, a.mode.as_str()),
        ("images[0]", 3, 2, "RGB")
    );
    assert_eq!((a.draw_width, a.draw_height), (3, 2));
    assert_eq!(&a.rgba[..8], &[255, 0, 0, 255, 0, 255, 0, 255]);
    assert_eq!(&a.rgba[20..24], &[9, 9, 9, 255]);
    assert_eq!(a.note, None);
    let path = got[1].note.as_deref().unwrap_or_default();
    assert!(
        path.contains("not opened") && path.contains("/data/cat.png"),
        "{path}"
    );
    assert!(got[1].rgba.is_empty());
    assert_eq!(got[2].rgba, vec![40, 50, 60, 255], "palette entry 1");
}

#[test]
fn huge_and_lying_images_are_bounded_and_said() {
    let case = picklegen::hostile::catalog()
        .into_iter()
        .find(|c| c.file == "huge_pil_images.pt")
        .expect("the catalogue case");
    let t = std::time::Instant::now();
    let got = images(&case.bytes);
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
    assert_eq!(got.len(), 5);
    for g in &got[..2] {
        assert_eq!((g.width, g.height), (2048, 2048), "{:?}", g.note);
        assert_eq!((g.draw_width, g.draw_height), (MAX_SIDE, MAX_SIDE));
        assert_eq!(g.rgba.len(), (MAX_SIDE * MAX_SIDE * 4) as usize);
    }
    let note = |i: usize| got[i].note.clone().unwrap_or_default();
    assert!(note(2).contains("the dump holds 3"), "{}", note(2));
    assert!(note(3).contains("absurd"), "{}", note(3));
    assert!(note(4).contains("1 more inputs"), "{}", note(4));
    assert!(got[2..].iter().all(|g| g.rgba.is_empty()));

    let raw = picklegen::hostile::catalog()
        .into_iter()
        .find(|c| c.file == "huge_image.pt")
        .expect("the catalogue case");
    let got = images(&raw.bytes);
    let note = got[0].note.clone().unwrap_or_default();
    assert!(
        note.contains("4194304 bytes") && note.contains("not decoded"),
        "{note}"
    );
}

#[test]
fn more_inputs_than_shown_are_counted() {
    let got = images(&image_sample(|p| {
        for _ in 0..7 {
            p.pil_image("L", (1, 1), None, &[0]);
        }
    }));
    assert_eq!(got.len(), trace::run::MAX_IMAGES + 1);
    let last = got.last().and_then(|g| g.note.clone()).unwrap_or_default();
    assert!(last.contains("3 more inputs"), "{last}");
}
