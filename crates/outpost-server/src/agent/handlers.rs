use axum::extract::State;
use axum::http::StatusCode;
use outpost_domain::collector::{MacAddress, canonical_ip};
use outpost_protocol::{
    ActivateRequest, ActivateResponse, Configuration, HeartbeatRequest, HeartbeatResponse, InventoryRequest, InventoryResponse,
    MAX_INVENTORY_DEVICES, PROBLEM_INVALID_ACTIVATION_KEY,
};
use outpost_store::collectors::{self, HeartbeatWrite, HostReport, StoredDevice};

use crate::agent::credentials::AgentCollector;
use crate::agent::problem::{ApiProblem, Json};
use crate::auth::token::Token;
use crate::state::AppState;

/// Largest inventory body, in bytes (10,000 devices of about 200 bytes each).
pub const INVENTORY_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// A printable text field of at most `max_chars` characters.
fn check_text(field: &str, value: &str, max_chars: usize) -> Result<String, ApiProblem> {
    let value = value.trim();
    if value.chars().count() > max_chars {
        return Err(ApiProblem::invalid(format!("{field} is longer than {max_chars} characters.")));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiProblem::invalid(format!("{field} contains control characters.")));
    }
    Ok(value.to_owned())
}

fn check_ip(field: &str, value: &str) -> Result<String, ApiProblem> {
    canonical_ip(value).ok_or_else(|| ApiProblem::invalid(format!("{field} \"{}\" is not an IPv4 or IPv6 address.", value.chars().take(60).collect::<String>())))
}

fn check_mac(field: &str, value: &str) -> Result<String, ApiProblem> {
    MacAddress::parse(value)
        .map(|mac| mac.as_str().to_owned())
        .ok_or_else(|| ApiProblem::invalid(format!("{field} \"{}\" is not a MAC address such as aa:bb:cc:dd:ee:ff.", value.chars().take(60).collect::<String>())))
}

fn interval(state: &AppState) -> u64 {
    u64::try_from(state.config.heartbeat_interval_seconds).unwrap_or(60)
}

pub async fn activate(State(state): State<AppState>, Json(request): Json<ActivateRequest>) -> Result<axum::Json<ActivateResponse>, ApiProblem> {
    let hostname = check_text("hostname", &request.hostname, 253)?;
    let version = check_text("version", &request.version, 64)?;
    let local_ip = check_ip("local_ip", &request.local_ip)?;
    let mac = check_mac("mac", &request.mac)?;

    let credential = Token::generate();
    let host = HostReport { hostname: &hostname, version: &version, local_ip: &local_ip, mac: &mac };
    let now = state.now();
    let key_hash = Token::from_client(request.key.trim()).digest();
    let Some(activated) = collectors::activate(&state.database, &key_hash, &credential.digest(), host, now).await? else {
        return Err(ApiProblem::new(
            StatusCode::FORBIDDEN,
            PROBLEM_INVALID_ACTIVATION_KEY,
            "Invalid activation key",
            "The activation key is unknown, already used, renewed or older than 7 days. Renew it on the collector's page in the portal.",
        ));
    };

    // An earlier credential of this collector stops working here at once, not after the cache time.
    state.credentials.forget_collector(&activated.collector_id);
    tracing::info!(collector.id = %activated.collector_id, account.id = %activated.account_id, "collector activated");
    Ok(axum::Json(ActivateResponse { collector_id: activated.collector_id, credential: credential.expose().to_owned(), heartbeat_interval_seconds: interval(&state) }))
}

pub async fn heartbeat(
    State(state): State<AppState>,
    AgentCollector(collector): AgentCollector,
    Json(request): Json<HeartbeatRequest>,
) -> Result<axum::Json<HeartbeatResponse>, ApiProblem> {
    let version = check_text("version", &request.version, 64)?;
    let local_ip = check_ip("local_ip", &request.local_ip)?;
    let mac = check_mac("mac", &request.mac)?;
    let now = state.now();

    let write = HeartbeatWrite {
        collector_id: collector.collector_id.clone(),
        received_at: now,
        version,
        local_ip,
        mac,
        uptime_seconds: i64::try_from(request.uptime_seconds).unwrap_or(i64::MAX),
    };
    state.heartbeats.push(write).await.map_err(ApiProblem::internal)?;

    Ok(axum::Json(HeartbeatResponse { server_time: now, heartbeat_interval_seconds: interval(&state) }))
}

pub async fn inventory(
    State(state): State<AppState>,
    AgentCollector(collector): AgentCollector,
    Json(request): Json<InventoryRequest>,
) -> Result<axum::Json<InventoryResponse>, ApiProblem> {
    if request.devices.len() > MAX_INVENTORY_DEVICES {
        return Err(ApiProblem::invalid(format!(
            "The inventory lists {} devices; send at most {MAX_INVENTORY_DEVICES} per call.",
            request.devices.len()
        )));
    }

    let now = state.now();
    let mut devices = Vec::with_capacity(request.devices.len());
    for (index, device) in request.devices.iter().enumerate() {
        let hostname = check_text(&format!("devices[{index}].hostname"), device.hostname.as_deref().unwrap_or_default(), 253)?;
        let first_seen = device.first_seen.min(now);
        let last_seen = device.last_seen.clamp(first_seen, now);
        devices.push(StoredDevice {
            ip: check_ip(&format!("devices[{index}].ip"), &device.ip)?,
            mac: check_mac(&format!("devices[{index}].mac"), &device.mac)?,
            hostname,
            first_seen,
            last_seen,
        });
    }

    collectors::upsert_devices(&state.database, &collector.collector_id, &devices).await?;
    Ok(axum::Json(InventoryResponse { accepted: devices.len() }))
}

pub async fn configuration(State(state): State<AppState>, AgentCollector(collector): AgentCollector) -> Result<axum::Json<Configuration>, ApiProblem> {
    let Some((interval_seconds, excluded)) = collectors::configuration(&state.database, &collector.collector_id).await? else {
        return Err(ApiProblem::internal("credential names a collector that no longer exists"));
    };
    Ok(axum::Json(Configuration {
        inventory_interval_seconds: u64::try_from(interval_seconds).unwrap_or(900),
        excluded_addresses: excluded.lines().map(str::to_owned).filter(|line| !line.is_empty()).collect(),
    }))
}
