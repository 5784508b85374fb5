//! The single-page app built by Trunk, in two bundles (`app::bundles`): the main one's files at the
//! site folder's root, the settings pages' in its `settings-bundle/` folder. Files are served from
//! the site folder; every other GET path is a client route and gets the page of the bundle that
//! draws it (`index.html` of its folder). Trunk writes its WASM loader as an inline `<script>`; the
//! CSP allows no inline scripts, so each loader is moved into `/_moth/boot-N.js` when the site is
//! loaded.

use std::{
    fmt::Write,
    path::{Path, PathBuf},
};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use app::bundles::Bundle;

use super::AppState;

pub struct Site {
    dir: PathBuf,
    /// The main bundle's `index.html` with its inline scripts replaced; `None` when the front end is
    /// not built.
    index: Option<String>,
    /// The settings bundle's, the same way.
    settings_index: Option<String>,
    /// Both pages' loaders, numbered across the two.
    boot_scripts: Vec<String>,
}

impl Site {
    pub fn load(dir: &Path) -> Self {
        let mut boot_scripts = Vec::new();
        let mut page = |folder: &Path| match std::fs::read_to_string(folder.join("index.html")) {
            Ok(html) => Some(externalise_inline_scripts(&html, &mut boot_scripts)),
            Err(e) => {
                tracing::warn!(dir = %folder.display(), error = %e, "a bundle of the front end is not built");
                None
            }
        };
        let index = page(dir);
        let settings_index = page(&dir.join(Bundle::SETTINGS_FOLDER));
        Self { dir: dir.to_owned(), index, settings_index, boot_scripts }
    }

    /// The page of the bundle that draws `path`.
    fn page_for(&self, path: &str) -> Option<&String> {
        match Bundle::for_path(path) {
            Bundle::Main => self.index.as_ref(),
            Bundle::Settings => self.settings_index.as_ref(),
        }
    }
}

/// Moves each inline `<script>` of `html` into a script served by Moth, appended to `scripts`;
/// returns the new page, which loads them from `/_moth/boot-N.js` (N their places in `scripts`).
fn externalise_inline_scripts(html: &str, scripts: &mut Vec<String>) -> String {
    let mut page = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let Some(open_end) = rest[start..].find('>').map(|i| start + i + 1) else { break };
        let Some(close) = rest[open_end..].find("</script>").map(|i| open_end + i) else { break };
        let open_tag = &rest[start..open_end];
        page.push_str(&rest[..start]);
        if open_tag.contains(" src=") {
            page.push_str(&rest[start..close + "</script>".len()]);
        } else {
            let module = if open_tag.contains("type=\"module\"") { " type=\"module\"" } else { "" };
            let _ = write!(page, "<script{module} src=\"/_moth/boot-{}.js\"></script>", scripts.len());
            scripts.push(rest[open_end..close].to_owned());
        }
        rest = &rest[close + "</script>".len()..];
    }
    page.push_str(rest);
    page
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/_moth/{script}", get(boot_script))
        .fallback(get(static_or_index))
}

async fn index(State(state): State<AppState>, uri: Uri) -> Response {
    page(&state.site, uri.path())
}

/// The page of the bundle that draws `path`, or a plain answer saying the front end is not built.
fn page(site: &Site, path: &str) -> Response {
    match site.page_for(path) {
        Some(html) => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], html.clone())
                .into_response()
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "This part of Moth's front end is not built: build both bundles as README.md says (\"Layout\").",
        )
            .into_response(),
    }
}

async fn boot_script(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let script = name
        .strip_prefix("boot-")
        .and_then(|n| n.strip_suffix(".js"))
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| state.site.boot_scripts.get(n));
    match script {
        Some(js) => (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
            js.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Whether a file name carries Trunk's content hash (`frontend-0123456789abcdef_bg.wasm`): such a
/// file never changes, so browsers may keep it for good.
fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.split(['-', '_', '.']).any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A file of the site if there is one, else the app's page (client-side routes). The build stores
/// each asset precompressed (`.br`, `.gz`), served as the browser accepts them. A bundle's
/// `index.html` is never served as it is on disk: its loader is inline, which the CSP blocks.
async fn static_or_index(State(state): State<AppState>, request: Request) -> Response {
    let immutable = is_fingerprinted(request.uri().path());
    let path = request.uri().path().to_owned();
    if path.rsplit('/').next() == Some("index.html") {
        return page(&state.site, &path);
    }
    let files =
        ServeDir::new(&state.site.dir).append_index_html_on_directories(false).precompressed_br().precompressed_gzip();
    match files.oneshot(request).await {
        Ok(response) if response.status() != StatusCode::NOT_FOUND => {
            let mut response = response.map(axum::body::Body::new);
            let cache = if immutable { "public, max-age=31536000, immutable" } else { "public, max-age=3600" };
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
        _ => page(&state.site, &path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunks_hashed_names_are_recognised() {
        assert!(is_fingerprinted("/frontend-e61dce08ac2837f6_bg.wasm"));
        assert!(is_fingerprinted("/main-fb19f2fa27533b03.css"));
        assert!(!is_fingerprinted("/robots.txt"));
        assert!(!is_fingerprinted("/favicon-small.png"));
    }

    #[test]
    fn inline_scripts_move_out_and_external_ones_stay() {
        let html = r#"<head><script src="/a.js"></script><script type="module" nonce="x">import init from '/f.js';</script></head>"#;
        let mut scripts = vec!["an earlier page's".to_owned()];
        let page = externalise_inline_scripts(html, &mut scripts);
        assert_eq!(scripts[1..], ["import init from '/f.js';".to_owned()]);
        assert_eq!(
            page,
            r#"<head><script src="/a.js"></script><script type="module" src="/_moth/boot-1.js"></script></head>"#
        );
    }
}
