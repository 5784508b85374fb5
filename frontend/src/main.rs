//! Mounts Moth's app into the page. Everything else lives in the `app` crate.

fn main() {
    report_panics();
    leptos::mount::mount_to_body(app::App);
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
