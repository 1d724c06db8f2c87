//! `outpost-collector`: the on-site agent of Outpost. It activates with a one-time key, then
//! sends heartbeats and the devices in its host's neighbour tables to its server, and nothing
//! to any other address.

mod client;
mod host;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use outpost_protocol::ActivateRequest;

use crate::client::{Client, State};

#[derive(Debug, Parser)]
#[command(name = "outpost-collector", version, about = "The on-site agent of the Outpost network-monitoring service")]
struct Cli {
    /// Where the credential is stored (mode 0600).
    #[arg(long, global = true, env = "OUTPOST_COLLECTOR_STATE_FILE", default_value = "/var/lib/outpost-collector/state.json")]
    state_file: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Activate this collector with the key shown in the portal.
    Activate {
        /// The portal's address, for example https://portal.example.com.
        #[arg(long)]
        server: String,
        /// The one-time activation key. Keys may start with "-", so --key=KEY is the safe form.
        #[arg(long, env = "OUTPOST_COLLECTOR_KEY", allow_hyphen_values = true)]
        key: String,
    },
    /// Send heartbeats and the inventory until stopped (SIGTERM or Ctrl-C).
    Run,
    /// Print what the agent knows: its server, collector id and host.
    Status,
}

/// Exit code when the server revoked the credential (the collector was deleted).
const EXIT_REVOKED: u8 = 3;
/// Exit code when the collector's prepaid time has run out.
const EXIT_EXPIRED: u8 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    if rustls::crypto::ring::default_provider().install_default().is_err() {
        tracing::debug!("a TLS crypto provider was already installed");
    }

    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: failed to start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };

    let result = runtime.block_on(async {
        match cli.command {
            Command::Activate { server, key } => activate(&cli.state_file, &server, &key).await.map(|()| run::Outcome::Stopped),
            Command::Run => run::run(&cli.state_file).await,
            Command::Status => status(&cli.state_file).map(|()| run::Outcome::Stopped),
        }
    });

    match result {
        Ok(run::Outcome::Stopped) => ExitCode::SUCCESS,
        Ok(run::Outcome::Revoked(detail)) => {
            eprintln!("The server no longer accepts this collector's credential: the collector was deleted in the portal or activated again elsewhere. Stopping. ({detail})");
            ExitCode::from(EXIT_REVOKED)
        }
        Ok(run::Outcome::Expired(detail)) => {
            eprintln!("This collector's prepaid time has run out; the Team Master can extend it in the portal. Stopping. ({detail})");
            ExitCode::from(EXIT_EXPIRED)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn activate(state_file: &std::path::Path, server: &str, key: &str) -> anyhow::Result<()> {
    let host = host::read_host();
    let client = Client::new(server, None)?;
    let request = ActivateRequest {
        key: key.trim().to_owned(),
        hostname: host.hostname.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        local_ip: host.local_ip.clone(),
        mac: host.mac.clone(),
    };
    let response = client.activate(&request).await.map_err(|error| anyhow::anyhow!("activation failed: {error}"))?;

    let state = State { server: server.trim_end_matches('/').to_owned(), collector_id: response.collector_id.clone(), credential: response.credential };
    state.save(state_file)?;
    println!("Activated collector {} on {} ({}, {}). Start it with: outpost-collector run", response.collector_id, host.hostname, host.local_ip, host.mac);
    Ok(())
}

fn status(state_file: &std::path::Path) -> anyhow::Result<()> {
    let host = host::read_host();
    println!("Agent version: {}", env!("CARGO_PKG_VERSION"));
    println!("Host: {} ({} on {}, MAC {})", host.hostname, host.local_ip, host.interface, host.mac);
    match State::load(state_file) {
        Ok(state) => {
            println!("Server: {}", state.server);
            println!("Collector ID: {}", state.collector_id);
            println!("State file: {}", state_file.display());
        }
        Err(_) => println!("Not activated: no state file at {}. Run outpost-collector activate --server URL --key KEY.", state_file.display()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_starting_with_hyphen_is_accepted() {
        let cli = Cli::try_parse_from(["outpost-collector", "activate", "--server", "http://127.0.0.1:8080", "--key=-AbC"]);
        assert!(matches!(cli.map(|cli| cli.command), Ok(Command::Activate { key, .. }) if key == "-AbC"));
    }
}
