//! Command-line flags. Every setting is also an `OUTPOST_…` environment variable; secrets
//! (the SMTP password) come only from the environment or a file.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "outpost", version, about = "Outpost: the account portal of a network-monitoring service")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Settings of `serve`, the default command.
    #[command(flatten)]
    pub serve: ServeArgs,
}

impl Cli {
    pub fn log_format(&self) -> LogFormat {
        match &self.command {
            Some(Command::Serve(args)) => args.log_format,
            _ => self.serve.log_format,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the portal (the default command).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(StorageArgs),
    /// Support operations on users; each is recorded in the audit log.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Lift the lock that 100 consecutive failed sign-ins put on an account.
    Unlock {
        /// The username (email address) of the account.
        username: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Turn off a user's two-factor authentication after an identity check: the
    /// authenticator key, recovery codes and trusted devices are removed, and the user gets
    /// a notice.
    #[command(name = "reset-2fa")]
    ResetTwoFactor {
        /// The username (email address).
        username: String,
        #[command(flatten)]
        storage: StorageArgs,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Make a collector prepaid until the end of DATE (UTC), at most five years ahead. The
    /// collector id is shown on its page in the portal.
    GrantPrepaid {
        collector_id: String,
        /// Last day of prepaid time, as YYYY-MM-DD.
        #[arg(long)]
        until: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Change a user's username; the user's sessions end, and both addresses get a notice.
    ChangeUsername {
        /// The current username (email address).
        old: String,
        /// The new username (email address).
        new: String,
        #[command(flatten)]
        storage: StorageArgs,
        #[command(flatten)]
        mail: MailArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Folder for the SQLite database, the secret key and the mail outbox.
    #[arg(long, env = "OUTPOST_DATA_DIR", default_value = "./outpost-data")]
    pub data_dir: PathBuf,

    /// Database URL: sqlite:PATH or postgres://USER@HOST:PORT/DB. Defaults to outpost.db in
    /// the data directory. Put a URL with a password in the environment variable, not the flag.
    #[arg(long, env = "OUTPOST_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl StorageArgs {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("outpost.db").display()),
        }
    }
}

/// Mail settings, for the server and for the support commands that notify a user.
#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// Sender address of the portal's email.
    #[arg(long, env = "OUTPOST_MAIL_FROM", default_value = "outpost@localhost")]
    pub mail_from: String,

    /// SMTP server host name. Without it, email is written to the outbox folder in the data
    /// directory. The password comes from OUTPOST_SMTP_PASSWORD or the file named by
    /// OUTPOST_SMTP_PASSWORD_FILE.
    #[arg(long, env = "OUTPOST_SMTP_HOST")]
    pub smtp_host: Option<String>,

    /// SMTP server port.
    #[arg(long, env = "OUTPOST_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,

    /// SMTP connection security.
    #[arg(long, env = "OUTPOST_SMTP_SECURITY", value_enum, default_value_t = SmtpSecurityArg::Starttls)]
    pub smtp_security: SmtpSecurityArg,

    /// SMTP user name, if the server requires authentication.
    #[arg(long, env = "OUTPOST_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmtpSecurityArg {
    /// STARTTLS upgrade, required (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption, for a relay on the same host only.
    None,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "OUTPOST_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub storage: StorageArgs,

    /// Base URL users open, used in links in emails; cookies get Secure when it is https.
    /// Defaults to http:// and the bind address (localhost when bound to all interfaces).
    #[arg(long, env = "OUTPOST_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Address shown where a user must contact support, such as for a username change.
    #[arg(long, env = "OUTPOST_SUPPORT_EMAIL")]
    pub support_email: Option<String>,

    /// Comma-separated IP addresses or CIDR networks of reverse proxies whose
    /// X-Forwarded-For header names the client address. Default: none.
    #[arg(long, env = "OUTPOST_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Minutes without a request after which a session ends.
    #[arg(long, env = "OUTPOST_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub session_idle_minutes: u32,

    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "OUTPOST_SESSION_ABSOLUTE_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub session_absolute_hours: u32,

    /// Seconds between the heartbeats that collector agents are told to send.
    #[arg(long, env = "OUTPOST_HEARTBEAT_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub heartbeat_interval: u32,

    /// Seconds after its last heartbeat at which a collector counts as disconnected.
    #[arg(long, env = "OUTPOST_COLLECTOR_OFFLINE_AFTER", default_value_t = 180, value_parser = clap::value_parser!(u32).range(2..=86400))]
    pub collector_offline_after: u32,

    /// Issuer name that authenticator apps show beside the code; must not contain a colon.
    #[arg(long, env = "OUTPOST_TOTP_ISSUER", default_value = "Outpost")]
    pub totp_issuer: String,

    /// Days a browser stays trusted after "Remember me" at two-factor sign-in.
    #[arg(long, env = "OUTPOST_TRUSTED_DEVICE_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub trusted_device_days: u32,

    /// File with the secret key (32 bytes, base64) shared by every instance. Default:
    /// secret.key in the data directory, created on first start.
    #[arg(long, env = "OUTPOST_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,

    #[command(flatten)]
    pub mail: MailArgs,

    /// Log format on standard error. The level is set with RUST_LOG (default info).
    #[arg(long, env = "OUTPOST_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}
