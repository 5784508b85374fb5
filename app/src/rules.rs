//! The validation rules, written once. The browser runs them before sending a form, the server runs them
//! again before anything touches the database, and the migrations repeat the limits as constraints.
//! Keep the numbers here and in `migrations/*/` in step.

use std::collections::HashSet;
#[cfg(not(feature = "csr"))]
use std::sync::LazyLock;

pub const EMAIL_MAX_CHARS: usize = 254;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;
pub const NAME_MAX_CHARS: usize = 100;

/// The one rule for control characters (Unicode's `Cc`: U+0000-U+001F and U+007F-U+009F, NUL included),
/// used by every text field. Single-line text holds none; multi-line text (Markdown bodies) may hold
/// tab, line feed and carriage return. The migrations repeat it (`0005_*`).
pub fn has_forbidden_control(text: &str, multi_line: bool) -> bool {
    text.chars().any(|c| c.is_control() && !(multi_line && matches!(c, '\t' | '\n' | '\r')))
}

const NO_CONTROL: &str = "Control characters are not allowed.";
const ONLY_LINE_BREAKS: &str = "Control characters other than line breaks and tabs are not allowed.";

/// The 10,000 most common passwords (see `app/data/README.md`), compared case-insensitively. The
/// server holds them in its binary; the browser fetches the same file (`/common-passwords.txt`) when
/// a sign-up form opens, so that the wasm bundle does not carry 79 KB most visitors never use. Until
/// it has arrived the browser lets such a password through and the server refuses it with the same
/// message.
#[cfg(not(feature = "csr"))]
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../data/common-passwords.txt").lines().collect());

#[cfg(not(feature = "csr"))]
pub fn is_common_password(password: &str) -> bool {
    COMMON_PASSWORDS.contains(password.to_lowercase().as_str())
}

#[cfg(feature = "csr")]
static COMMON_PASSWORDS: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();

#[cfg(feature = "csr")]
pub fn is_common_password(password: &str) -> bool {
    COMMON_PASSWORDS.get().is_some_and(|list| list.contains(&password.to_lowercase()))
}

/// Takes the list fetched by the browser (one password per line).
#[cfg(feature = "csr")]
pub fn load_common_passwords(text: &str) {
    let _ = COMMON_PASSWORDS.set(text.lines().map(str::to_owned).collect());
}

/// garde rule for new passwords: 8 to 128 characters, taken as typed, and not one of the most common.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn new_password(password: &str, _: &()) -> garde::Result {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(garde::Error::new(format!("Use at least {PASSWORD_MIN_CHARS} characters.")));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(garde::Error::new(format!("Use at most {PASSWORD_MAX_CHARS} characters.")));
    }
    if is_common_password(password) {
        return Err(garde::Error::new("This password is too common. Please choose another."));
    }
    Ok(())
}

/// garde rule for the password at sign-in: present and not absurdly long, nothing more, so that no rule
/// hints at which passwords exist.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn password_given(password: &str, _: &()) -> garde::Result {
    if password.is_empty() {
        return Err(garde::Error::new("This field is required."));
    }
    if password.chars().count() > PASSWORD_MAX_CHARS {
        return Err(garde::Error::new(format!("Use at most {PASSWORD_MAX_CHARS} characters.")));
    }
    Ok(())
}

/// garde rule for email addresses: an RFC 5322 address without display text or IP-literal domains,
/// checked by `email_address` (garde's own check pulls the `regex` crate and its Unicode tables into
/// the browser bundle: a fifth of it).
const EMAIL_SYNTAX: email_address::Options =
    email_address::Options { minimum_sub_domains: 2, allow_domain_literal: false, allow_display_text: false };

#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn email(value: &str, _: &()) -> garde::Result {
    if value.is_empty() {
        return Err(garde::Error::new("This field is required."));
    }
    if value.chars().count() > EMAIL_MAX_CHARS
        || has_forbidden_control(value, false)
        || email_address::EmailAddress::parse_with_options(value, EMAIL_SYNTAX).is_err()
    {
        return Err(garde::Error::new("Enter an email address such as name@example.com."));
    }
    Ok(())
}

/// garde rule for display and team names: not blank, not too long, no control characters, and no
/// leading or trailing spaces (the forms trim them before validating).
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn name(value: &str, _: &()) -> garde::Result {
    if value.trim().is_empty() {
        return Err(garde::Error::new("This field is required."));
    }
    if value.chars().count() > NAME_MAX_CHARS {
        return Err(garde::Error::new(format!("At most {NAME_MAX_CHARS} characters.")));
    }
    if has_forbidden_control(value, false) {
        return Err(garde::Error::new(NO_CONTROL));
    }
    if value.trim() != value {
        return Err(garde::Error::new("Remove the spaces at the start and end."));
    }
    Ok(())
}

pub const PROJECT_KEY_MIN: usize = 2;
pub const PROJECT_KEY_MAX: usize = 10;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
pub const ISSUE_TITLE_MAX_CHARS: usize = 200;
pub const ISSUE_TEXT_MAX_CHARS: usize = 20_000;
pub const TAG_MAX_CHARS: usize = 40;
pub const TAGS_MAX: usize = 20;
pub const ENV_FIELD_MAX_CHARS: usize = 100;
pub const URL_MAX_CHARS: usize = 2000;

/// garde rule for issue titles: 1 to 200 characters, not blank, no control characters.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn issue_title(title: &str, _: &()) -> garde::Result {
    if title.trim().is_empty() {
        return Err(garde::Error::new("This field is required."));
    }
    if title.chars().count() > ISSUE_TITLE_MAX_CHARS {
        return Err(garde::Error::new(format!("At most {ISSUE_TITLE_MAX_CHARS} characters.")));
    }
    if has_forbidden_control(title, false) {
        return Err(garde::Error::new(NO_CONTROL));
    }
    Ok(())
}

/// garde rule for Markdown bodies of issues and comments.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn issue_text(text: &str, _: &()) -> garde::Result {
    if text.chars().count() > ISSUE_TEXT_MAX_CHARS {
        return Err(garde::Error::new(format!("At most {ISSUE_TEXT_MAX_CHARS} characters.")));
    }
    if has_forbidden_control(text, true) {
        return Err(garde::Error::new(ONLY_LINE_BREAKS));
    }
    Ok(())
}

/// garde rule for a comment: not empty, not too long.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn comment_body(text: &str, ctx: &()) -> garde::Result {
    if text.trim().is_empty() {
        return Err(garde::Error::new("Write something first."));
    }
    issue_text(text, ctx)
}

/// garde rule for tags: at most 20, each 1 to 40 characters without control characters or commas.
#[allow(clippy::trivially_copy_pass_by_ref, clippy::ptr_arg)]
pub fn tags(tags: &Vec<String>, _: &()) -> garde::Result {
    if tags.len() > TAGS_MAX {
        return Err(garde::Error::new(format!("At most {TAGS_MAX} tags.")));
    }
    for tag in tags {
        let chars = tag.chars().count();
        if chars == 0 || chars > TAG_MAX_CHARS || has_forbidden_control(tag, false) || tag.contains(',') {
            return Err(garde::Error::new(format!("Tags have 1 to {TAG_MAX_CHARS} characters and no commas.")));
        }
    }
    Ok(())
}

/// garde rule for a one-time code: digits, letters and the recovery code's dash only.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn one_time_code(value: &str, _: &()) -> garde::Result {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(())
    } else {
        Err(garde::Error::new("Enter the code as your app or your recovery codes show it."))
    }
}

/// garde rule for the short environment fields (browser, OS, device, app version).
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn env_field(value: &str, _: &()) -> garde::Result {
    if value.chars().count() > ENV_FIELD_MAX_CHARS || has_forbidden_control(value, false) {
        return Err(garde::Error::new(format!("At most {ENV_FIELD_MAX_CHARS} characters, no control characters.")));
    }
    Ok(())
}

/// garde rule for the environment URL: empty, or an http(s) address.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn env_url(value: &str, _: &()) -> garde::Result {
    if value.is_empty() {
        return Ok(());
    }
    let lower = value.to_ascii_lowercase();
    if value.chars().count() > URL_MAX_CHARS
        || !(lower.starts_with("http://") || lower.starts_with("https://"))
        || has_forbidden_control(value, false)
        || value.chars().any(char::is_whitespace)
    {
        return Err(garde::Error::new("Enter an http:// or https:// address."));
    }
    Ok(())
}

/// garde rule for due dates: `YYYY-MM-DD` with a real month and day.
#[allow(clippy::trivially_copy_pass_by_ref, clippy::ref_option)]
pub fn due_date(value: &Option<String>, _: &()) -> garde::Result {
    let Some(date) = value else { return Ok(()) };
    let parts: Vec<&str> = date.split('-').collect();
    let valid = date.len() == 10
        && parts.len() == 3
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && parts[1].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && parts[2].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
    if !valid {
        return Err(garde::Error::new("Use a date like 2026-12-31."));
    }
    Ok(())
}

/// garde rule for project keys such as `WEB`: 2 to 10 capital letters and digits, starting with a letter.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn project_key(key: &str, _: &()) -> garde::Result {
    let mut chars = key.chars();
    let well_formed = (PROJECT_KEY_MIN..=PROJECT_KEY_MAX).contains(&key.len())
        && chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !well_formed {
        return Err(garde::Error::new(format!(
            "Use {PROJECT_KEY_MIN} to {PROJECT_KEY_MAX} capital letters or digits, starting with a letter (like WEB)."
        )));
    }
    Ok(())
}

/// garde rule for workflow status names: 1 to 40 characters, trimmed, printable.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn status_name(value: &str, _: &()) -> garde::Result {
    if has_forbidden_control(value, false) {
        return Err(garde::Error::new(NO_CONTROL));
    }
    if value.trim().is_empty() || value.chars().count() > 40 || value.trim() != value {
        return Err(garde::Error::new("Use 1 to 40 characters."));
    }
    Ok(())
}

/// The longest name of a saved view.
pub const VIEW_NAME_MAX_CHARS: usize = 60;

/// A short name: printable, trimmed, 1 to `max` characters; `missing` says what to do when it is blank.
fn short_name(value: &str, max: usize, missing: &'static str) -> garde::Result {
    if has_forbidden_control(value, false) {
        return Err(garde::Error::new(NO_CONTROL));
    }
    if value.trim().is_empty() {
        return Err(garde::Error::new(missing));
    }
    if value.chars().count() > max || value.trim() != value {
        return Err(garde::Error::new(format!("Use at most {max} characters.")));
    }
    Ok(())
}

/// garde rule for saved views' names: 1 to 60 characters, trimmed, printable.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn view_name(value: &str, _: &()) -> garde::Result {
    short_name(value, VIEW_NAME_MAX_CHARS, "Name the view.")
}

/// The longest name of an access token.
pub const TOKEN_NAME_MAX_CHARS: usize = 60;

/// garde rule for access tokens' names: 1 to 60 characters, trimmed, printable.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn token_name(value: &str, _: &()) -> garde::Result {
    short_name(value, TOKEN_NAME_MAX_CHARS, "Name the token, say after the script that will use it.")
}

/// garde rule for a token's scopes: at least one.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn token_scopes<Scope>(value: &[Scope], _: &()) -> garde::Result {
    if value.is_empty() {
        return Err(garde::Error::new("Choose at least one scope: read, write or admin."));
    }
    Ok(())
}

/// garde rule for Markdown descriptions: at most 10,000 characters.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn description(text: &str, _: &()) -> garde::Result {
    if text.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(garde::Error::new(format!("At most {DESCRIPTION_MAX_CHARS} characters.")));
    }
    if has_forbidden_control(text, true) {
        return Err(garde::Error::new(ONLY_LINE_BREAKS));
    }
    Ok(())
}

pub const SEARCH_MAX_CHARS: usize = 200;

/// garde rule for the text searched in an issue list: single-line, at most 200 characters and
/// eight words.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn search_query(value: &str, _: &()) -> garde::Result {
    search_text(value, SEARCH_MAX_CHARS)?;
    if value.split_whitespace().count() > SEARCH_MAX_WORDS {
        return Err(garde::Error::new(format!("At most {SEARCH_MAX_WORDS} words.")));
    }
    Ok(())
}

/// A command palette query, parsed: what [`jump_query`] accepts is one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JumpQuery {
    /// `WEB-3`: the project's key (upper-cased) and the number.
    Key(String, i64),
    /// `3`: the issues numbered 3 of every project the reader reads.
    Number(i64),
    /// Words in a title, lower-cased, each once.
    Words(Vec<String>),
}

impl JumpQuery {
    /// The query `q` stands for, or why it stands for none.
    pub fn parse(q: &str) -> Result<Self, &'static str> {
        let q = q.trim();
        if let Some((key, number)) = q.split_once('-') {
            let key_like = key.len() <= 10
                && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && key.chars().all(|c| c.is_ascii_alphanumeric());
            if let (true, Some(number)) = (key_like, issue_number(number)) {
                return Ok(JumpQuery::Key(key.to_ascii_uppercase(), number));
            }
        }
        if let Some(number) = issue_number(q) {
            return Ok(JumpQuery::Number(number));
        }
        let mut words: Vec<String> = Vec::new();
        for word in q.split_whitespace().map(str::to_lowercase) {
            if word.chars().count() < 3 {
                return Err("Type three letters of a word, a number or a key such as WEB-3.");
            }
            if !words.contains(&word) {
                words.push(word);
            }
        }
        if words.is_empty() {
            return Err("Type a word, a number or a key such as WEB-3.");
        }
        Ok(JumpQuery::Words(words))
    }
}

/// An issue number as people type it: 1 to 18 digits, not 0.
fn issue_number(text: &str) -> Option<i64> {
    let digits = !text.is_empty() && text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten().filter(|n| *n > 0)
}

/// garde rule for a command palette query: a search the list would take that is also a key, a
/// number or words of three characters or more ([`JumpQuery`]).
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn jump_query(value: &str, _: &()) -> garde::Result {
    search_query(value, &())?;
    JumpQuery::parse(value).map(|_| ()).map_err(garde::Error::new)
}

/// The characters a mention may hold after its `@`: those of an address (`@dana`, `@dana@example.org`).
pub fn is_mention_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-@".contains(c)
}

/// garde rule for the start of a mention being typed: at most 100 of [`is_mention_char`].
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn mention_prefix(value: &str, _: &()) -> garde::Result {
    if value.len() > 100 || !value.chars().all(is_mention_char) {
        return Err(garde::Error::new("At most 100 letters, digits or . _ % + - @ after the @."));
    }
    Ok(())
}

/// Each word of a search is one more index lookup: a search names at most eight.
pub const SEARCH_MAX_WORDS: usize = 8;

/// garde rule for the tag an issue list is filtered by: single-line, at most 40 characters.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn tag_filter(value: &str, _: &()) -> garde::Result {
    search_text(value, TAG_MAX_CHARS)
}

fn search_text(value: &str, max: usize) -> garde::Result {
    if value.chars().count() > max {
        return Err(garde::Error::new(format!("At most {max} characters.")));
    }
    if has_forbidden_control(value, false) {
        return Err(garde::Error::new(NO_CONTROL));
    }
    Ok(())
}

/// Invitation tokens: 32 random bytes in unpadded base64url.
pub const INVITATION_TOKEN_CHARS: usize = 43;

/// garde rule: the shape of an invitation token.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn invitation_token(token: &str, _: &()) -> garde::Result {
    let well_formed = token.len() == INVITATION_TOKEN_CHARS
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(garde::Error::new("This invitation link is not valid."));
    }
    Ok(())
}

/// The shortest passphrase a team export may be encrypted with (age stretches it with scrypt).
pub const EXPORT_PASSPHRASE_MIN_CHARS: usize = 12;

/// garde rule for an export's passphrase: empty (a recipient is given instead) or 12 to 200 characters.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn export_passphrase(value: &str, _: &()) -> garde::Result {
    let chars = value.chars().count();
    if value.is_empty()
        || ((EXPORT_PASSPHRASE_MIN_CHARS..=200).contains(&chars) && !has_forbidden_control(value, false))
    {
        Ok(())
    } else {
        Err(garde::Error::new(format!("Use {EXPORT_PASSPHRASE_MIN_CHARS} to 200 characters, no control characters.")))
    }
}

/// garde rule for an age recipient (`age1` and 58 more Bech32 characters), or empty.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn age_recipient(value: &str, _: &()) -> garde::Result {
    const BECH32: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let valid = value.is_empty()
        || (value.len() == 62 && value.starts_with("age1") && value[4..].chars().all(|c| BECH32.contains(c)));
    if valid {
        Ok(())
    } else {
        Err(garde::Error::new(
            "Enter an age public key, such as age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p.",
        ))
    }
}

/// garde rule for a bucket's endpoint: `http(s)://host[:port]` and nothing more.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn bucket_endpoint(value: &str, _: &()) -> garde::Result {
    let lower = value.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let valid = value.len() <= 300
        && rest.is_some_and(|host| {
            !host.is_empty()
                && !host.contains(['/', '?', '#', '@'])
                && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
    if valid {
        Ok(())
    } else {
        Err(garde::Error::new("Enter the store's address, such as https://s3.eu-central-1.amazonaws.com."))
    }
}

/// garde rule for a webhook's address: `https://` or `http://`, a host, then any path and query; no
/// user or password, no spaces; at most 2,000 characters. Whether the host may be reached is the
/// server's to say (its SSRF guard, on every connection).
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn webhook_url(value: &str, _: &()) -> garde::Result {
    let lower = value.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let valid = value.len() <= 2000
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && host.is_some_and(|h| !h.is_empty() && !h.contains('@'));
    if valid {
        Ok(())
    } else {
        Err(garde::Error::new("Enter the receiver's address, such as https://chat.example.com/hooks/moth."))
    }
}

/// garde rule for a bucket's region, such as `eu-central-1`.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn bucket_region(value: &str, _: &()) -> garde::Result {
    if (1..=64).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Ok(())
    } else {
        Err(garde::Error::new("Enter a region such as eu-central-1 (lower-case letters, digits, hyphens)."))
    }
}

/// garde rule for a bucket's name: S3's rules (3 to 63 of a-z, 0-9, `.` and `-`, starting and ending
/// with a letter or digit).
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn bucket_name(value: &str, _: &()) -> garde::Result {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid = (3..=63).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(value.chars().next())
        && edge(value.chars().last());
    if valid {
        Ok(())
    } else {
        Err(garde::Error::new("3 to 63 lower-case letters, digits, dots and hyphens."))
    }
}

/// garde rule for the key prefix in the bucket, such as `moth/`: optional, no leading `/`, no `..`.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn bucket_prefix(value: &str, _: &()) -> garde::Result {
    let valid = value.len() <= 200
        && !value.starts_with('/')
        && !value.split('/').any(|part| part == "..")
        && value.chars().all(|c| c.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(garde::Error::new("At most 200 visible characters, not starting with / and without .."))
    }
}

/// garde rule for access keys: 1 to 256 visible characters.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn access_key(value: &str, _: &()) -> garde::Result {
    if (1..=256).contains(&value.len()) && value.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(garde::Error::new("1 to 256 visible characters, as the store gave them."))
    }
}

/// Emails are compared and stored in lower case, so `Ann@Example.org` and `ann@example.org` are one account.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Single sign-on: at most this many claimed email domains per team.
pub const SSO_DOMAINS_MAX: usize = 20;
/// The longest client id and issuer Moth keeps.
pub const SSO_FIELD_MAX_CHARS: usize = 500;
pub const SSO_SECRET_MAX_CHARS: usize = 1000;

/// garde rule for a provider's issuer: an `https://` address (`http://` is accepted for a provider on
/// the operator's own network, which the server's SSRF guard must then allow), a host, no user, query
/// or fragment.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn sso_issuer(value: &str, _: &()) -> garde::Result {
    let lower = value.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let host = rest.map(|r| r.split('/').next().unwrap_or(""));
    let valid = value.chars().count() <= SSO_FIELD_MAX_CHARS
        && !value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
        && host.is_some_and(|h| !h.is_empty() && !h.contains('@'));
    if valid {
        Ok(())
    } else {
        Err(garde::Error::new("Enter the provider's issuer, such as https://login.example.com."))
    }
}

/// garde rule for a client id: 1 to 500 printable characters without spaces.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn sso_client_field(value: &str, _: &()) -> garde::Result {
    if (1..=SSO_FIELD_MAX_CHARS).contains(&value.chars().count()) && value.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(garde::Error::new("Enter the client id the provider gave Moth (printable characters, no spaces)."))
    }
}

/// garde rule for a client secret: empty (keep the stored one) or printable characters without spaces.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn sso_secret(value: &str, _: &()) -> garde::Result {
    if value.chars().all(|c| c.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(garde::Error::new("Paste the client secret as the provider shows it (printable characters, no spaces)."))
    }
}

/// garde rule for an email domain such as `example.com`: labels of letters, digits and hyphens,
/// at least two of them, at most 253 characters.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn email_domain(value: &str, _: &()) -> garde::Result {
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if value.len() <= 253 && value.split('.').count() >= 2 && value.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(garde::Error::new("Enter a domain such as example.com (lower-case letters, digits, hyphens)."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_palette_query_is_a_key_a_number_or_words_long_enough_to_look_up() {
        assert_eq!(JumpQuery::parse(" web-3 "), Ok(JumpQuery::Key("WEB".to_owned(), 3)));
        assert_eq!(JumpQuery::parse("42"), Ok(JumpQuery::Number(42)));
        assert_eq!(
            JumpQuery::parse("Login LOGIN fails"),
            Ok(JumpQuery::Words(vec!["login".to_owned(), "fails".to_owned()]))
        );
        for refused in ["", "  ", "0", "lo", "login is", "-3"] {
            assert!(JumpQuery::parse(refused).is_err(), "{refused:?}");
        }
        assert!(jump_query(&["word"; 9].join(" "), &()).is_err(), "nine words");
    }

    #[test]
    fn export_settings_are_checked_as_s3_and_age_define_them() {
        assert!(export_passphrase("", &()).is_ok());
        assert!(export_passphrase("twelve chars", &()).is_ok());
        assert!(export_passphrase("too short", &()).is_err());
        let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
        assert!(age_recipient(recipient, &()).is_ok());
        assert!(age_recipient(&recipient.replace('q', "b"), &()).is_err(), "b is not a Bech32 character");
        assert!(age_recipient("age1short", &()).is_err());
        for ok in ["https://s3.eu-central-1.amazonaws.com", "http://127.0.0.1:9000", "http://[::1]:9000"] {
            assert!(bucket_endpoint(ok, &()).is_ok(), "{ok}");
        }
        for bad in ["s3.amazonaws.com", "https://x/path", "https://user@x", "ftp://x", "https://x?y"] {
            assert!(bucket_endpoint(bad, &()).is_err(), "{bad}");
        }
        assert!(bucket_name("team-exports.2026", &()).is_ok());
        for bad in ["ab", "Team", "-team", "team-", "team_exports"] {
            assert!(bucket_name(bad, &()).is_err(), "{bad}");
        }
        assert!(bucket_prefix("moth/exports/", &()).is_ok());
        assert!(bucket_prefix("/moth", &()).is_err());
        assert!(bucket_prefix("a/../b", &()).is_err());
        assert!(bucket_region("eu-central-1", &()).is_ok());
        assert!(bucket_region("EU", &()).is_err());
        assert!(access_key("AKIA EXAMPLE", &()).is_err());
    }

    #[test]
    fn the_list_holds_ten_thousand_passwords() {
        assert_eq!(COMMON_PASSWORDS.len(), 10_000);
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        assert!(new_password("password", &()).is_err());
        assert!(new_password("PassWord1", &()).is_err());
        assert!(new_password("correct horse battery staple", &()).is_ok());
    }

    #[test]
    fn project_keys_are_short_capitals() {
        for good in ["WEB", "A1", "ABCDEFGHIJ"] {
            assert!(project_key(good, &()).is_ok(), "{good}");
        }
        for bad in ["", "W", "web", "1AB", "ABCDEFGHIJK", "WE B", "WÉB"] {
            assert!(project_key(bad, &()).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_need_a_user_and_a_domain() {
        assert!(email("ann@example.org", &()).is_ok());
        for bad in ["", "ann", "ann@", "@example.org", "ann@exa mple.org", "a b@example.org"] {
            assert!(email(bad, &()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn one_control_character_rule_for_every_text() {
        for single in ["a\0b", "\0", "a\tb", "a\nb", "a\rb", "a\u{7f}", "a\u{85}", "a\u{1b}[31m"] {
            assert!(has_forbidden_control(single, false), "{single:?}");
        }
        for refused in ["\0hello", "a\u{7}b", "a\u{1b}b", "a\u{7f}b", "a\u{9f}b", "a\u{0b}b"] {
            assert!(has_forbidden_control(refused, true), "{refused:?}");
            assert!(issue_text(refused, &()).is_err(), "{refused:?}");
            assert!(comment_body(refused, &()).is_err(), "{refused:?}");
            assert!(description(refused, &()).is_err(), "{refused:?}");
        }
        assert!(issue_text("line one\r\n\tline two\n", &()).is_ok());
        assert!(issue_title("a\tb", &()).is_err());
        assert!(email("ann\0@example.org", &()).is_err());
        assert!(search_query("a\0", &()).is_err());
        assert!(search_query("one two three four five six seven eight", &()).is_ok());
        assert!(search_query("one two three four five six seven eight nine", &()).is_err());
        assert!(tag_filter("a\u{1}", &()).is_err());
        assert!(tags(&vec!["ok".into(), "n\0".into()], &()).is_err());
    }

    #[test]
    fn names_must_be_trimmed_printable_and_short() {
        assert!(name("Ann", &()).is_ok());
        assert!(name("   ", &()).is_err());
        assert!(name(" Ann", &()).is_err());
        assert!(name("A\u{7}nn", &()).is_err());
        assert!(name(&"x".repeat(NAME_MAX_CHARS), &()).is_ok());
        assert!(name(&"x".repeat(NAME_MAX_CHARS + 1), &()).is_err());
    }
}
