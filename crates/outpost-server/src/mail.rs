//! Outgoing mail: over SMTP when configured, otherwise written as `.eml` files to the outbox
//! folder in the data directory, so a local install works with no mail server.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use lettre::message::Body;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, SmtpSecurity};

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

#[derive(Clone)]
pub struct Mailer {
    from: String,
    transport: Transport,
}

impl Mailer {
    /// Builds the mailer; without SMTP settings, creates `outbox/` in the data directory.
    pub fn new(config: &MailConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let transport = match &config.smtp {
            Some(smtp) => {
                let builder = match smtp.security {
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
                    SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
                    SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
                };
                let mut builder = builder.port(smtp.port);
                if let (Some(username), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
                }
                Transport::Smtp(builder.build())
            }
            None => {
                let outbox = data_dir.join("outbox");
                std::fs::create_dir_all(&outbox)
                    .with_context(|| format!("failed to create the outbox folder {}", outbox.display()))?;
                Transport::Outbox(outbox)
            }
        };
        Ok(Self { from: config.from.clone(), transport })
    }

    /// Describes where messages go, for the startup log.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".to_owned(),
            Transport::Outbox(path) => format!("outbox folder {}", path.display()),
        }
    }

    /// Sends a plain-text message. ASCII text with lines of at most 998 characters (the
    /// limit of RFC 5322, 2.1.1) goes as 7bit, so links stay whole on one line of the raw
    /// message. Lettre encodes any other text.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        let fits_7bit = body.is_ascii() && body.lines().all(|line| line.len() <= 998) && !body.contains('\0');
        let body = if fits_7bit {
            let crlf = body.replace("\r\n", "\n").replace('\n', "\r\n");
            Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
        } else {
            Body::new(body)
        };
        let message = Message::builder()
            .from(self.from.parse().with_context(|| format!("invalid sender address {:?}", self.from))?)
            .to(to.parse().with_context(|| format!("invalid recipient address {to:?}"))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|error| anyhow!("failed to build the message: {error}"))?;

        match &self.transport {
            Transport::Smtp(transport) => {
                transport.send(message).await.context("SMTP delivery failed")?;
            }
            Transport::Outbox(folder) => {
                // Written under a temporary name and renamed, so a reader of the outbox never
                // opens a half-written message.
                let name = uuid::Uuid::now_v7().to_string();
                let partial = folder.join(format!(".{name}.partial"));
                let path = folder.join(format!("{name}.eml"));
                tokio::fs::write(&partial, message.formatted())
                    .await
                    .with_context(|| format!("failed to write {}", partial.display()))?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .with_context(|| format!("failed to move {} to {}", partial.display(), path.display()))?;
                tracing::info!(path = %path.display(), "wrote message to the outbox");
            }
        }
        Ok(())
    }
}

/// Builds the body of a security notice about `what_happened` to the account `username`.
pub fn security_notice(username: &str, what_happened: &str) -> String {
    format!(
        "This is a security notice for your Outpost account {username}.\n\n{what_happened}\n\n\
         If this was not you, reset your password at once with \"Forgot password?\" on the sign-in page \
         and contact your administrator.\n"
    )
}
