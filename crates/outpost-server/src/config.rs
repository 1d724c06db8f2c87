//! Settings of a server instance, filled in by the `outpost` command line.

use std::path::PathBuf;

use ipnet::IpNet;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Base URL users open, without a trailing slash, e.g. `https://portal.example.com`.
    pub public_url: String,
    pub support_email: String,
    /// Proxies whose forwarding header names the client address.
    pub trusted_proxies: Vec<IpNet>,
    /// A session ends after this many seconds without a request.
    pub session_idle_seconds: i64,
    /// A session ends this many seconds after sign-in, whatever its use.
    pub session_absolute_seconds: i64,
    /// Seconds between heartbeats that agents are told to keep.
    pub heartbeat_interval_seconds: i64,
    /// A collector counts as disconnected when its last heartbeat is this many seconds old.
    pub collector_offline_after_seconds: i64,
    /// Issuer shown in authenticator apps; never contains a colon.
    pub totp_issuer: String,
    /// Days a browser stays trusted after "Remember me".
    pub trusted_device_days: i64,
    /// Key file shared by several instances; `None` uses `secret.key` in the data directory.
    pub secret_key_file: Option<PathBuf>,
    pub mail: MailConfig,
}

impl ServerConfig {
    /// Whether cookies get the `Secure` attribute.
    pub fn uses_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (usually port 465).
    Tls,
    /// STARTTLS upgrade, required (usually port 587).
    StartTls,
    /// Plain text, for a relay on the same host only.
    None,
}

#[derive(Clone)]
pub struct MailConfig {
    /// Sender address of every message.
    pub from: String,
    /// `None` writes messages to the outbox folder in the data directory.
    pub smtp: Option<SmtpConfig>,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig").field("from", &self.from).field("smtp", &self.smtp).finish()
    }
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_debug_hides_password() {
        let config = SmtpConfig {
            host: "smtp.example.com".into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: Some("outpost".into()),
            password: Some("hunter2-smtp-secret".into()),
        };
        let rendered = format!("{config:?}");
        assert!(!rendered.contains("hunter2-smtp-secret"));
        assert!(rendered.contains("<redacted>"));
    }
}
