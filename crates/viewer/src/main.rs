//! The page's entry point: mounts the app.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(viewer::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the viewer runs in a browser: build it with Trunk (see README)");
}
