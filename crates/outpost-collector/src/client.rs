//! Calls to the agent API of the configured server, and the stored credential.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use outpost_protocol::{
    AGENT_API_PREFIX, ActivateRequest, ActivateResponse, Configuration, HeartbeatRequest, HeartbeatResponse, InventoryRequest,
    InventoryResponse, PROBLEM_COLLECTOR_EXPIRED, Problem,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What `activate` stores for `run`: the server and the collector's credential.
#[derive(Clone, Serialize, Deserialize)]
pub struct State {
    pub server: String,
    pub collector_id: String,
    pub credential: String,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("server", &self.server).field("collector_id", &self.collector_id).finish_non_exhaustive()
    }
}

impl State {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the state file {}; activate the collector first with outpost-collector activate", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("the state file {} is not valid", path.display()))
    }

    /// Writes the state file with mode 0600, replacing an earlier one.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).with_context(|| format!("failed to create {}", folder.display()))?;
        }
        let partial = path.with_extension("partial");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&partial).with_context(|| format!("failed to write {}", partial.display()))?;
        file.write_all(serde_json::to_string_pretty(self)?.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&partial, path).with_context(|| format!("failed to move the state file to {}", path.display()))?;
        Ok(())
    }
}

/// Why a call failed, as the run loop needs to know it.
#[derive(Debug)]
pub enum CallError {
    /// The credential is unknown: the collector was deleted or activated again.
    Revoked(String),
    /// The collector's prepaid time has run out.
    Expired(String),
    /// The server rejected the request itself; retrying the same request cannot help.
    Rejected(String),
    /// Network trouble or a server error; worth retrying.
    Retryable(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Revoked(detail) | Self::Expired(detail) | Self::Rejected(detail) | Self::Retryable(detail) => f.write_str(detail),
        }
    }
}

pub struct Client {
    http: reqwest::Client,
    server: String,
    credential: Option<String>,
}

impl Client {
    pub fn new(server: &str, credential: Option<String>) -> anyhow::Result<Self> {
        let server = server.trim_end_matches('/').to_owned();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            bail!("--server {server:?} must start with http:// or https://");
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("outpost-collector/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("failed to build the HTTP client")?;
        Ok(Self { http, server, credential })
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, CallError> {
        let request = match &self.credential {
            Some(credential) => request.bearer_auth(credential),
            None => request,
        };
        let response = request.send().await.map_err(|error| CallError::Retryable(format!("could not reach the server: {error}")))?;
        let status = response.status();
        if status.is_success() {
            return response.json().await.map_err(|error| CallError::Retryable(format!("unreadable response: {error}")));
        }

        let problem: Option<Problem> = response.json().await.ok();
        let detail = problem.as_ref().map_or_else(|| format!("the server answered {status}"), |problem| format!("{} ({status}): {}", problem.title, problem.detail));
        match status.as_u16() {
            401 => Err(CallError::Revoked(detail)),
            403 if problem.as_ref().is_some_and(|problem| problem.problem_type == PROBLEM_COLLECTOR_EXPIRED) => Err(CallError::Expired(detail)),
            408 | 429 | 500..=599 => Err(CallError::Retryable(detail)),
            _ => Err(CallError::Rejected(detail)),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{AGENT_API_PREFIX}{path}", self.server)
    }

    pub async fn activate(&self, request: &ActivateRequest) -> Result<ActivateResponse, CallError> {
        self.send(self.http.post(self.url("/activate")).json(request)).await
    }

    pub async fn heartbeat(&self, request: &HeartbeatRequest) -> Result<HeartbeatResponse, CallError> {
        self.send(self.http.post(self.url("/heartbeat")).json(request)).await
    }

    pub async fn inventory(&self, request: &InventoryRequest) -> Result<InventoryResponse, CallError> {
        self.send(self.http.put(self.url("/inventory")).json(request)).await
    }

    pub async fn configuration(&self) -> Result<Configuration, CallError> {
        self.send(self.http.get(self.url("/configuration"))).await
    }
}
