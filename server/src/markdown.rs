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

/// How many distinct issue keys one page turns into links; later ones stay text (a bounded lookup).
pub const MAX_LINKED_REFS: usize = 100;

/// The distinct issue keys (`WEB-3`) in the text of sanitised `html`, outside links and code, up to
/// [`MAX_LINKED_REFS`] in all with those already in `found`.
pub fn issue_refs(html: &str, found: &mut Vec<(String, i64)>) {
    pieces(html, |piece, linkable| {
        for (_, key, number) in refs_in(piece).filter(|_| linkable) {
            if found.len() < MAX_LINKED_REFS && !found.iter().any(|(k, n)| k == key && *n == number) {
                found.push((key.to_owned(), number));
            }
        }
    });
}

/// `html` with each issue key that `href` answers for made a link to it; the others stay text.
pub fn link_issue_refs(html: &str, href: impl Fn(&str, i64) -> Option<String>) -> String {
    link_spans(html, |piece| refs_in(piece).map(|(range, key, n)| (range, href(key, n))).collect(), "issue-ref")
}

/// The most distinct people one page's mentions are looked up for; later ones stay text.
pub const MAX_LINKED_MENTIONS: usize = 20;

/// `html` with each `@name` that `href` answers for (by the name, lower-cased) made a link; the
/// others stay text.
pub fn link_mentions(html: &str, href: impl Fn(&str) -> Option<String>) -> String {
    link_spans(
        html,
        |piece| mentions_in(piece).into_iter().map(|(range, name)| (range, href(&name))).collect(),
        "mention",
    )
}

/// `@name` mentions in `text`: where each stands (bytes, with the `@`) and the name, lower-cased,
/// without the `@`. A mention starts a word; its name is an address's local part or a whole address
/// (`@dana`, `@dana@example.org`), without trailing dots or dashes.
pub fn mentions_in(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // Only an '@' (ASCII, so `i` is then a character's boundary) may start one.
        if bytes[i] != b'@' || text[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            i += 1;
            continue;
        }
        let end = i + 1 + text[i + 1..].chars().take_while(|c| app::rules::is_mention_char(*c)).count();
        let name = text[i + 1..end].trim_end_matches(['.', '-', '@']);
        if !name.is_empty() && name.matches('@').count() <= 1 {
            out.push((i..i + 1 + name.len(), name.to_ascii_lowercase()));
        }
        i = end;
    }
    out
}

/// `html` with the spans `find` answers an address for, in its text outside links and code, made
/// links of `class`.
fn link_spans(html: &str, find: impl Fn(&str) -> Vec<(std::ops::Range<usize>, Option<String>)>, class: &str) -> String {
    let mut out = String::with_capacity(html.len());
    pieces(html, |piece, linkable| {
        let mut copied = 0;
        let spans = if linkable { find(piece) } else { Vec::new() };
        for (range, href) in spans {
            if let Some(href) = href {
                out.push_str(&piece[copied..range.start]);
                // Addresses are made of keys, numbers, ids and "/?=": nothing to escape.
                for part in [r#"<a href=""#, &href, r#"" class=""#, class, r#"">"#, &piece[range.clone()], "</a>"] {
                    out.push_str(part);
                }
                copied = range.end;
            }
        }
        out.push_str(&piece[copied..]);
    });
    out
}

/// Calls `f` with consecutive pieces of `html`, saying of each whether it is text that may hold a
/// link: tags, and everything inside a link, `code` or `pre`, may not.
fn pieces(html: &str, mut f: impl FnMut(&str, bool)) {
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        f(&rest[..start], true);
        let mut end = rest[start..].find('>').map_or(rest.len(), |e| start + e + 1);
        if let Some(skip) = skipped_element(&rest[start..end]) {
            let close = format!("</{skip}>");
            end = rest[end..].find(&close).map_or(rest.len(), |c| end + c + close.len());
        }
        f(&rest[start..end], false);
        rest = &rest[end..];
    }
    f(rest, true);
}

/// The name of the element a start tag opens if its text is never linked.
fn skipped_element(tag: &str) -> Option<&'static str> {
    let name = tag.trim_start_matches('<').split([' ', '>', '/']).next().unwrap_or("");
    ["a", "code", "pre"].into_iter().find(|skip| name.eq_ignore_ascii_case(skip))
}

/// Issue keys in `text`: a project key (a capital, then 1 to 9 capitals or digits), '-', a number of
/// up to 9 digits, standing as a word of its own.
fn refs_in(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str, i64)> {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    (0..bytes.len()).filter_map(move |start| {
        if !bytes[start].is_ascii_uppercase() || (start > 0 && word(bytes[start - 1])) {
            return None;
        }
        let key_len = bytes[start..].iter().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit()).count();
        let dash = start + key_len;
        if !(2..=10).contains(&key_len) || bytes.get(dash) != Some(&b'-') {
            return None;
        }
        let digits = bytes[dash + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        let end = dash + 1 + digits;
        if !(1..=9).contains(&digits) || bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
            return None;
        }
        let number = text[dash + 1..end].parse().ok()?;
        Some((start..end, &text[start..dash], number))
    })
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
    fn issue_keys_become_links_only_where_answered_and_never_inside_links_or_code() {
        let html = to_safe_html(
            "See WEB-3, WEB-4 and xWEB-5 (WEB-33x). [WEB-6](https://e.example) `WEB-7`\n\n    WEB-8\n\nWEB-9.",
        );
        let mut refs = Vec::new();
        issue_refs(&html, &mut refs);
        let mut keys: Vec<String> = refs.iter().map(|(k, n)| format!("{k}-{n}")).collect();
        keys.sort();
        assert_eq!(keys, ["WEB-3", "WEB-4", "WEB-9"], "{html}");
        let linked = link_issue_refs(&html, |key, n| (n != 4).then(|| format!("/projects/{key}/issues/{n}")));
        assert!(linked.contains(r#"<a href="/projects/WEB/issues/3" class="issue-ref">WEB-3</a>"#), "{linked}");
        assert!(linked.contains(r#"<a href="/projects/WEB/issues/9" class="issue-ref">WEB-9</a>"#), "{linked}");
        assert!(!linked.contains("issues/4") && linked.contains("WEB-4"), "refused keys stay text: {linked}");
        for inside in ["issues/5", "issues/6", "issues/7", "issues/8"] {
            assert!(!linked.contains(inside), "{inside}: {linked}");
        }
    }

    #[test]
    fn mentions_become_links_only_where_answered_and_never_inside_links_or_code() {
        let html =
            to_safe_html("@Dana and @ann@example.org. Not mail@host, `@dana` or [@dana](https://e.example); @bob");
        let linked = link_mentions(&html, |name| (name != "bob").then(|| format!("/people/{name}")));
        assert!(linked.contains(r#"<a href="/people/dana" class="mention">@Dana</a> and"#), "{linked}");
        assert!(
            linked.contains(r#"<a href="/people/ann@example.org" class="mention">@ann@example.org</a>."#),
            "{linked}"
        );
        assert_eq!(linked.matches("class=\"mention\"").count(), 2, "{linked}");
        assert!(linked.contains("@bob") && linked.contains("<code>@dana</code>"), "{linked}");
        // Characters of several bytes before or after a mention (found by the API fuzzer).
        let names: Vec<String> = mentions_in("👍🏻 @dana é@x ü").into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["dana"]);
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
