use std::sync::Arc;

use anyhow::{Context, bail};
use outpost_server::config::SmtpConfig;
use outpost_server::{App, MailConfig, ServerConfig, SmtpSecurity, SystemClock};
use tokio::net::TcpListener;

use crate::cli::{MailArgs, ServeArgs, SmtpSecurityArg, StorageArgs};

/// Reads a secret from `NAME` or from the file named by `NAME_FILE`.
fn secret_from_env(name: &str) -> anyhow::Result<Option<String>> {
    if let Ok(value) = std::env::var(name) {
        return Ok(Some(value));
    }
    let file_variable = format!("{name}_FILE");
    match std::env::var(&file_variable) {
        Ok(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("failed to read {file_variable} ({path})"))?;
            Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()))
        }
        Err(_) => Ok(None),
    }
}

fn public_url(args: &ServeArgs, bound: std::net::SocketAddr) -> anyhow::Result<String> {
    let Some(url) = &args.public_url else {
        let host = if bound.ip().is_unspecified() { "localhost".to_owned() } else { bound.ip().to_string() };
        let host = if bound.is_ipv6() && !bound.ip().is_unspecified() { format!("[{host}]") } else { host };
        return Ok(format!("http://{host}:{}", bound.port()));
    };

    let url = url.trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(char::is_whitespace) {
        bail!("OUTPOST_PUBLIC_URL {url:?} is invalid: it must start with http:// or https://, for example https://portal.example.com");
    }
    Ok(url.to_owned())
}

fn server_config(args: &ServeArgs, public_url: String) -> anyhow::Result<ServerConfig> {
    let mut trusted_proxies = Vec::new();
    for entry in args.trusted_proxies.iter().map(|entry| entry.trim()).filter(|entry| !entry.is_empty()) {
        let network = entry
            .parse::<ipnet::IpNet>()
            .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| anyhow::anyhow!("OUTPOST_TRUSTED_PROXIES entry {entry:?} is not an IP address or CIDR network such as 10.0.0.0/8"))?;
        trusted_proxies.push(network);
    }

    let issuer = args.totp_issuer.trim();
    if issuer.is_empty() {
        bail!("OUTPOST_TOTP_ISSUER is empty: set a name such as your service's, for example \"Outpost\"");
    }
    outpost_domain::totp::check_issuer(issuer).map_err(|error| anyhow::anyhow!("OUTPOST_TOTP_ISSUER is invalid: {error}"))?;

    Ok(ServerConfig {
        data_dir: args.storage.data_dir.clone(),
        database_url: args.storage.database_url(),
        public_url,
        support_email: args.support_email.clone().unwrap_or_default(),
        trusted_proxies,
        session_idle_seconds: i64::from(args.session_idle_minutes) * 60,
        session_absolute_seconds: i64::from(args.session_absolute_hours) * 3600,
        heartbeat_interval_seconds: i64::from(args.heartbeat_interval),
        collector_offline_after_seconds: i64::from(args.collector_offline_after),
        totp_issuer: issuer.to_owned(),
        trusted_device_days: i64::from(args.trusted_device_days),
        secret_key_file: args.secret_key_file.clone(),
        mail: mail_config(&args.mail)?,
    })
}

/// Builds the mail settings from the flags, with the SMTP password from the environment.
pub fn mail_config(args: &MailArgs) -> anyhow::Result<MailConfig> {
    let smtp = match &args.smtp_host {
        Some(host) => Some(SmtpConfig {
            host: host.clone(),
            port: args.smtp_port,
            security: match args.smtp_security {
                SmtpSecurityArg::Starttls => SmtpSecurity::StartTls,
                SmtpSecurityArg::Tls => SmtpSecurity::Tls,
                SmtpSecurityArg::None => SmtpSecurity::None,
            },
            username: args.smtp_username.clone(),
            password: secret_from_env("OUTPOST_SMTP_PASSWORD")?,
        }),
        None => None,
    };
    Ok(MailConfig { from: args.mail_from.clone(), smtp })
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.bind).await.with_context(|| format!("failed to listen on {}", args.bind))?;
    let bound = listener.local_addr()?;
    let public_url = public_url(&args, bound)?;
    let config = server_config(&args, public_url.clone())?;

    let app = App::build(config, Arc::new(SystemClock)).await?;

    let shutdown = shutdown_signal();
    tracing::info!(address = %bound, public_url = %public_url, "Outpost is listening");
    println!("Outpost is running. Open {public_url} in a browser.");

    outpost_server::serve(app, listener, shutdown).await?;
    tracing::info!("Outpost stopped");
    Ok(())
}

pub async fn migrate(args: StorageArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("failed to create {}", args.data_dir.display()))?;
    let database = outpost_store::Database::connect(&args.database_url()).await.context("failed to open the database")?;
    let applied = database.migrate().await.context("failed to apply database migrations")?;
    println!("Applied {} migration(s); the database is up to date.", applied.len());
    database.close().await;
    Ok(())
}

/// Starts listening for SIGINT and SIGTERM and returns a future that completes at the first
/// of them. Listening starts when this is called, so `run` calls it before it prints the
/// address: a signal sent as soon as the address appears then stops the server gracefully
/// instead of ending the process with the signal's default action.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{Signal, SignalKind, signal};

    let listen = |kind: SignalKind, name: &str| match signal(kind) {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!(error = %error, signal = name, "failed to listen for a shutdown signal");
            None
        }
    };
    async fn next(listener: Option<Signal>) {
        match listener {
            Some(mut listener) => {
                listener.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }

    let interrupt = next(listen(SignalKind::interrupt(), "SIGINT"));
    let terminate = next(listen(SignalKind::terminate(), "SIGTERM"));
    async move {
        tokio::select! {
            () = interrupt => tracing::info!("received SIGINT, shutting down"),
            () = terminate => tracing::info!("received SIGTERM, shutting down"),
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %error, "failed to listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("received Ctrl-C, shutting down");
    }
}
