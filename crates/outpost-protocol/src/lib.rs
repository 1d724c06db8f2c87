//! Requests and responses of the agent API (`/agent/v1`), shared by the server and the
//! `outpost-collector` agent. JSON; times are unix seconds (UTC); errors are RFC 9457 problem
//! details.

use serde::{Deserialize, Serialize};

/// Path prefix of the agent API.
pub const AGENT_API_PREFIX: &str = "/agent/v1";

/// Largest number of devices accepted in one inventory upload.
pub const MAX_INVENTORY_DEVICES: usize = 10_000;

/// Problem type of a call by a collector whose prepaid time has run out.
pub const PROBLEM_COLLECTOR_EXPIRED: &str = "urn:outpost:problem:collector-expired";
/// Problem type of a missing, unknown or revoked collector credential.
pub const PROBLEM_INVALID_CREDENTIAL: &str = "urn:outpost:problem:invalid-credential";
/// Problem type of an unknown, used, renewed or expired activation key.
pub const PROBLEM_INVALID_ACTIVATION_KEY: &str = "urn:outpost:problem:invalid-activation-key";
/// Problem type of a body that is not valid JSON of the expected shape.
pub const PROBLEM_INVALID_REQUEST: &str = "urn:outpost:problem:invalid-request";
/// Problem type of a body over the size limit.
pub const PROBLEM_TOO_LARGE: &str = "urn:outpost:problem:too-large";

/// `POST /agent/v1/activate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivateRequest {
    /// The one-time activation key shown when the collector was added.
    pub key: String,
    pub hostname: String,
    /// Package version of the agent.
    pub version: String,
    /// IPv4 or IPv6 address of the interface that holds the default route.
    pub local_ip: String,
    pub mac: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivateResponse {
    pub collector_id: String,
    /// Bearer credential for every later call; the server keeps only its digest.
    pub credential: String,
    pub heartbeat_interval_seconds: u64,
}

impl std::fmt::Debug for ActivateResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivateResponse")
            .field("collector_id", &self.collector_id)
            .field("credential", &"<redacted>")
            .field("heartbeat_interval_seconds", &self.heartbeat_interval_seconds)
            .finish()
    }
}

/// `POST /agent/v1/heartbeat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatRequest {
    pub version: String,
    pub local_ip: String,
    pub mac: String,
    pub uptime_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    pub server_time: i64,
    pub heartbeat_interval_seconds: u64,
}

/// A device the collector sees in its host's neighbour table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub ip: String,
    pub mac: String,
    /// Only when the host already knows it; the agent makes no lookups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// `PUT /agent/v1/inventory`: the devices seen now; at most [`MAX_INVENTORY_DEVICES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryRequest {
    pub devices: Vec<Device>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryResponse {
    pub accepted: usize,
}

/// `GET /agent/v1/configuration`: settings the Team Master edits on the collector's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    pub inventory_interval_seconds: u64,
    /// IP addresses or CIDR networks whose devices the agent leaves out of its inventory.
    pub excluded_addresses: Vec<String>,
}

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_serializes_type_field() {
        let problem = Problem { problem_type: PROBLEM_COLLECTOR_EXPIRED.into(), title: "Collector expired".into(), status: 403, detail: "x".into() };
        let json = serde_json::to_string(&problem).unwrap_or_default();
        assert!(json.contains("\"type\":\"urn:outpost:problem:collector-expired\""), "{json}");
    }

    #[test]
    fn activate_response_debug_hides_credential() {
        let response = ActivateResponse { collector_id: "c1".into(), credential: "secret-token".into(), heartbeat_interval_seconds: 60 };
        assert!(!format!("{response:?}").contains("secret-token"));
    }

    #[test]
    fn device_hostname_is_optional() {
        let device: Result<Device, _> = serde_json::from_str(r#"{"ip":"10.0.0.5","mac":"aa:bb:cc:dd:ee:ff","first_seen":1,"last_seen":2}"#);
        assert!(device.is_ok_and(|device| device.hostname.is_none()));
    }
}
