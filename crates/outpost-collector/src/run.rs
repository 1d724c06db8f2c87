//! The run loop: heartbeats at the interval the server gives, the inventory at the configured
//! interval, the configuration fetched hourly, retries with exponential backoff and jitter,
//! and a clean stop on SIGTERM or Ctrl-C.

use std::path::Path;
use std::time::{Duration, Instant};

use outpost_protocol::{HeartbeatRequest, InventoryRequest, MAX_INVENTORY_DEVICES};
use rand::Rng;

use crate::client::{CallError, Client, State};
use crate::host;

pub enum Outcome {
    Stopped,
    Revoked(String),
    Expired(String),
}

const CONFIGURATION_REFRESH: Duration = Duration::from_secs(3600);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A delay of `base` doubled per failure, capped at a minute, with up to 25 % random jitter
/// so many agents do not retry in step.
fn backoff(failures: u32) -> Duration {
    let base = Duration::from_secs(1).saturating_mul(1_u32 << failures.min(6)).min(MAX_BACKOFF);
    let jitter = rand::rng().random_range(0.0..0.25);
    base.mul_f64(1.0 + jitter)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn run(state_file: &Path) -> anyhow::Result<Outcome> {
    let state = State::load(state_file)?;
    let client = Client::new(&state.server, Some(state.credential.clone()))?;
    let started = Instant::now();
    tracing::info!(collector.id = %state.collector_id, server = %state.server, "collector agent started");

    let mut heartbeat_interval = Duration::from_secs(60);
    let mut inventory_interval = Duration::from_secs(900);
    let mut excluded: Vec<String> = Vec::new();
    let mut next_heartbeat = Instant::now();
    let mut next_inventory = Instant::now();
    let mut next_configuration = Instant::now();
    let mut failures = 0_u32;

    let stop = shutdown_signal();
    tokio::pin!(stop);

    loop {
        let now = Instant::now();
        let mut result: Result<(), CallError> = Ok(());

        if now >= next_configuration {
            match client.configuration().await {
                Ok(configuration) => {
                    inventory_interval = Duration::from_secs(configuration.inventory_interval_seconds.max(60));
                    excluded = configuration.excluded_addresses;
                    next_configuration = now + CONFIGURATION_REFRESH;
                }
                Err(error) => result = Err(error),
            }
        }

        if result.is_ok() && now >= next_heartbeat {
            let host = host::read_host();
            let request = HeartbeatRequest {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                local_ip: host.local_ip,
                mac: host.mac,
                uptime_seconds: started.elapsed().as_secs(),
            };
            match client.heartbeat(&request).await {
                Ok(response) => {
                    heartbeat_interval = Duration::from_secs(response.heartbeat_interval_seconds.max(1));
                    next_heartbeat = now + heartbeat_interval;
                }
                Err(error) => result = Err(error),
            }
        }

        if result.is_ok() && now >= next_inventory {
            let mut devices = host::read_neighbours(&excluded);
            devices.truncate(MAX_INVENTORY_DEVICES);
            let count = devices.len();
            match client.inventory(&InventoryRequest { devices }).await {
                Ok(_) => {
                    tracing::info!(devices = count, "sent the inventory");
                    next_inventory = now + inventory_interval;
                }
                Err(error) => result = Err(error),
            }
        }

        let wait = match result {
            Ok(()) => {
                failures = 0;
                next_heartbeat.min(next_inventory).min(next_configuration).saturating_duration_since(Instant::now())
            }
            Err(CallError::Revoked(detail)) => return Ok(Outcome::Revoked(detail)),
            Err(CallError::Expired(detail)) => return Ok(Outcome::Expired(detail)),
            Err(CallError::Rejected(detail)) => {
                // A rejected call will not pass unchanged; wait a full interval before the next.
                tracing::error!(error = %detail, "the server rejected a call");
                next_heartbeat = Instant::now() + heartbeat_interval;
                next_inventory = next_inventory.max(Instant::now() + inventory_interval);
                heartbeat_interval
            }
            Err(CallError::Retryable(detail)) => {
                failures = failures.saturating_add(1);
                let delay = backoff(failures);
                tracing::warn!(error = %detail, retry_in_ms = delay.as_millis() as u64, failures, "call failed; retrying");
                delay
            }
        };

        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut stop => {
                tracing::info!("collector agent stopping");
                return Ok(Outcome::Stopped);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert!(backoff(0) >= Duration::from_secs(1));
        assert!(backoff(0) < Duration::from_millis(1_250));
        assert!(backoff(3) >= Duration::from_secs(8));
        assert!(backoff(30) <= MAX_BACKOFF.mul_f64(1.25));
    }
}
