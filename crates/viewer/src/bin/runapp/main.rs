//! The run explorer's app (issue #14), loaded only when a run is opened: the timeline page
//! hands the run over on `window` and starts this module (`viewer::run::handoff`); it mounts
//! the explorer into the page's `#run-root` (made here if the page has none).

#[cfg(target_arch = "wasm32")]
fn main() {
    use wasm_bindgen::JsCast;

    // A trap or panic in the run app gets a banner with a way on (reload).
    viewer::run::crash::report_crashes();
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let root = doc.get_element_by_id("run-root").or_else(|| {
        let el = doc.create_element("div").ok()?;
        el.set_id("run-root");
        doc.body()?.append_child(&el).ok()?;
        Some(el)
    });
    let Some(root) = root.and_then(|r| r.dyn_into::<web_sys::HtmlElement>().ok()) else {
        return;
    };
    // The app lives as long as the page.
    leptos::mount::mount_to(root, viewer::run::app::RunApp).forget();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the run app runs in a browser: build it with Trunk (see README)");
}
