//! Mounts one of Moth's two bundles into the page (see `app::bundles`); each is a binary of this
//! crate (`frontend`, `frontend-settings`). Everything else lives in the `app` crate.

use leptos::prelude::IntoView;

/// Reports panics to the console and mounts `app` into the body.
pub fn run<V: IntoView + 'static>(app: fn() -> V) {
    report_panics();
    leptos::mount::mount_to_body(app);
}

/// A panic reaches the browser's console with its message and place. Not `console_error_panic_hook`,
/// whose formatting of the whole panic report cost 1.2 KB of the bundle's budget (docs/performance.md).
fn report_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let place = info.location().map(|at| format!(" at {}:{}", at.file(), at.line())).unwrap_or_default();
        leptos::logging::error!("Moth panicked{place}: {message}");
    }));
}
