//! The main bundle: the tracker (`app::bundles`).

fn main() {
    frontend::run(app::App);
}
