//! The front end ships as two bundles, so that what people open all day loads less: the **main**
//! bundle draws the tracker (start page, projects, issues, the inbox, published projects, signing
//! in), and the **settings** bundle the team's and the account's settings (members, audit log,
//! quarantine, account, backups, a project's settings). A page of the other bundle is loaded from
//! the server, which answers each address with the page of the bundle that draws it; both decide by
//! [`Bundle::for_path`].

/// One of the two bundles of the front end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bundle {
    Main,
    Settings,
}

impl Bundle {
    /// The folder of the site (and the address prefix) where the settings bundle's files live.
    pub const SETTINGS_FOLDER: &'static str = "settings-bundle";

    /// The bundle that draws the page at `path` (an address's path, without query or fragment).
    pub fn for_path(path: &str) -> Bundle {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["members" | "audit" | "quarantine" | "account" | "backups"] | ["projects", _, "settings"] => {
                Bundle::Settings
            }
            _ => Bundle::Main,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Bundle;

    #[test]
    fn settings_pages_are_the_settings_bundles_and_everything_else_the_mains() {
        for path in ["/members", "/audit", "/quarantine", "/account", "/backups", "/projects/WEB/settings", "/account/"]
        {
            assert_eq!(Bundle::for_path(path), Bundle::Settings, "{path}");
        }
        for path in
            ["/", "/signin", "/projects", "/projects/WEB", "/projects/WEB/issues/3", "/p/x", "/nothing", "/members/x"]
        {
            assert_eq!(Bundle::for_path(path), Bundle::Main, "{path}");
        }
    }
}
