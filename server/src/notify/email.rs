//! A notification email: one per recipient and issue per batch, threaded per issue (`Message-ID`,
//! `In-Reply-To`, `References`), in text and HTML, with one-click unsubscribe (RFC 8058). What it says
//! was read for its recipient when it was rendered (`db::notifications::mail::render`).

use std::fmt::Write;

use app::model::ActivityKind;
use lettre::{
    message::{
        header::{Header, HeaderName, HeaderValue},
        MultiPart,
    },
    Message,
};

use crate::db::notifications::mail::{MailContent, MailItem};

/// `List-Unsubscribe: <https://.../unsubscribe/...>`
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`: the link unsubscribes on a POST, without a page.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// The host part of message ids: the public address's host.
fn id_host(base: &str) -> &str {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    rest.split(['/', ':']).next().unwrap_or("moth")
}

/// What one activity says, in words.
fn sentence(item: &MailItem) -> String {
    let who = if item.actor.is_empty() { "Someone" } else { item.actor.as_str() };
    match item.kind {
        ActivityKind::Created => format!("{who} opened the issue."),
        ActivityKind::Commented => format!("{who} commented:"),
        ActivityKind::Changed => format!("{who} changed {}.", item.fields.join(", ").replace('_', " ")),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The text and HTML bodies.
fn bodies(content: &MailContent, link: &str, unsubscribe: &str) -> (String, String) {
    let mut text = format!("{} {}\n\n", content.issue_key, content.issue_title);
    let mut html = format!(
        "<p><a href=\"{}\">{} {}</a></p>\n",
        escape(link),
        escape(&content.issue_key),
        escape(&content.issue_title)
    );
    for item in &content.items {
        text.push_str(&sentence(item));
        text.push('\n');
        let _ = writeln!(html, "<p>{}</p>", escape(&sentence(item)));
        if let Some(comment) = &item.comment {
            for line in comment.lines() {
                text.push_str("> ");
                text.push_str(line);
                text.push('\n');
            }
            let _ = writeln!(html, "<blockquote style=\"white-space: pre-wrap\">{}</blockquote>", escape(comment));
        }
        text.push('\n');
    }
    let _ = write!(
        text,
        "Open the issue: {link}\n\n-- \nYou receive this because you watch, were assigned or were mentioned in \
         {key} in {team}.\nStop these emails: {unsubscribe}\n",
        key = content.issue_key,
        team = content.team,
    );
    let _ = write!(
        html,
        "<p><a href=\"{}\">Open the issue</a></p>\n<hr>\n<p style=\"color:#555\">You receive this because you \
         watch, were assigned or were mentioned in {} in {}. <a href=\"{}\">Stop these emails</a>.</p>\n",
        escape(link),
        escape(&content.issue_key),
        escape(&content.team),
        escape(unsubscribe),
    );
    (text, html)
}

/// The message for a rendered batch, or `None` if it cannot be made (an address lettre refuses).
pub fn message(
    builder: lettre::message::MessageBuilder,
    base: &str,
    content: &MailContent,
    unsubscribe_token: &str,
) -> Option<Message> {
    let host = id_host(base);
    let link = format!("{base}{}", content.issue_path);
    let unsubscribe = format!("{base}/unsubscribe/{unsubscribe_token}");
    let thread = format!("<issue-{}@{host}>", content.issue_id);
    let (text, html) = bodies(content, &link, &unsubscribe);
    builder
        .to(content.to.parse().ok()?)
        .subject(format!("[{}] {}", content.issue_key, content.issue_title))
        .message_id(Some(format!("<{}@{host}>", uuid::Uuid::new_v4())))
        .in_reply_to(thread.clone())
        .references(thread)
        .header(ListUnsubscribe(format!("<{unsubscribe}>")))
        .header(ListUnsubscribePost)
        .multipart(MultiPart::alternative_plain_html(text, html))
        .ok()
}
