//! Markdown to safe HTML. pulldown-cmark renders (raw HTML in the source is kept as text to be
//! cleaned), then ammonia, an established sanitiser, keeps only harmless tags and attributes: no
//! scripts, event handlers, `javascript:` URLs or styles survive, and every link gets
//! `rel="noopener noreferrer nofollow"`.

use std::sync::LazyLock;

use pulldown_cmark::{html, Options, Parser};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .rm_tags(["img"]);
    builder
});

/// Renders `source` (Markdown) to sanitised HTML.
pub fn to_safe_html(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(source, options));
    SANITIZER.clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_survives() {
        let html = to_safe_html("**bold** and [a link](https://example.com)");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains(r#"href="https://example.com""#));
        assert!(html.contains(r#"rel="noopener noreferrer nofollow""#));
    }

    #[test]
    fn scripts_handlers_and_javascript_urls_do_not() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
        ] {
            let html = to_safe_html(attack).to_lowercase();
            for bad in ["<script", "onerror", "onload", "javascript:", "style=", "<iframe", "<svg"] {
                assert!(!html.contains(bad), "{attack} gave {html}");
            }
        }
    }
}
