//! The settings bundle: the team's, the account's and a project's settings (`app::bundles`).

fn main() {
    frontend::run(app::SettingsApp);
}
