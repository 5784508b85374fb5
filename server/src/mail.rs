//! Outgoing email over SMTP (`smtp_url`): invitation links, and notifications (`notify::email`). Without `smtp_url` nothing is sent
//! and inviters copy the link themselves. Links in emails use `public_url` only, never the request's
//! `Host`, so that nobody can make Moth mail a link to another site.

use lettre::{
    message::{header::ContentType, Mailbox},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("smtp_url: {0}")]
    Url(String),
    #[error("mail_from: {0}")]
    From(String),
}

pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    public_url: Option<String>,
}

pub struct InvitationMail<'a> {
    pub to: &'a str,
    pub team: &'a str,
    pub inviter: &'a str,
    pub role: &'a str,
    pub path: &'a str,
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, from: &str, public_url: Option<String>) -> Result<Self, MailError> {
        let from = from.parse().map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        let transport = smtp_url
            .map(|url| {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map(lettre::transport::smtp::AsyncSmtpTransportBuilder::build)
            })
            .transpose()
            .map_err(|e| MailError::Url(e.to_string()))?;
        if transport.is_some() && public_url.is_none() {
            tracing::warn!("smtp_url is set but public_url is not: invitation emails stay off");
        }
        Ok(Self { transport, from, public_url })
    }

    /// A message from Moth, and the base of its links; `None` when email is off (no `smtp_url` or no
    /// `public_url`).
    pub fn compose(&self) -> Option<(lettre::message::MessageBuilder, &str)> {
        let (Some(_), Some(base)) = (&self.transport, &self.public_url) else { return None };
        Some((Message::builder().from(self.from.clone()), base.trim_end_matches('/')))
    }

    /// Sends a message made with [`Mailer::compose`].
    pub async fn deliver(&self, message: Message) -> Result<(), String> {
        let Some(transport) = &self.transport else { return Err("email is off".into()) };
        transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// Emails an invitation link; false when email is off or sending failed (the inviter still has the link).
    pub async fn send_invitation(&self, mail: &InvitationMail<'_>) -> bool {
        let (Some(transport), Some(base)) = (&self.transport, &self.public_url) else { return false };
        let Ok(to) = mail.to.parse::<Mailbox>() else { return false };
        let link = format!("{}{}", base.trim_end_matches('/'), mail.path);
        let body = format!(
            "{inviter} invited you to join the team \"{team}\" on Moth as {role}.\n\n\
             Open this link to accept (it works once):\n{link}\n\n\
             If you did not expect this invitation, ignore this email.\n",
            inviter = mail.inviter,
            team = mail.team,
            role = mail.role,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("Join {} on Moth", mail.team))
            .header(ContentType::TEXT_PLAIN)
            .body(body);
        let Ok(message) = message else { return false };
        match transport.send(message).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, "invitation email not sent");
                false
            }
        }
    }
}
