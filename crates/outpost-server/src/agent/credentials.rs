//! Checking collector credentials. A verified credential is kept in memory for up to ten
//! minutes, so a heartbeat needs no database read. Every change that can make an entry stale
//! (deletion, a new activation, expiry, a prepaid grant) is recorded in the database, and each
//! instance reads those records every two seconds and drops the collectors named, so a
//! deleted collector's credential stops working on every instance within about five seconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use outpost_protocol::{PROBLEM_COLLECTOR_EXPIRED, PROBLEM_INVALID_CREDENTIAL};
use outpost_store::collectors::{self, CredentialOwner};
use sha2::{Digest as _, Sha256};

use crate::agent::problem::ApiProblem;
use crate::state::AppState;

/// Longest time a verified credential is trusted without a database read, in seconds.
pub const CACHE_SECONDS: i64 = 600;
/// How often the change records are read, in seconds.
pub const CHANGE_POLL_SECONDS: u64 = 2;
/// How far back each read looks, in seconds; the overlap covers clock differences between
/// instances and a slow read.
const CHANGE_LOOKBACK_SECONDS: i64 = 30;
/// Entries kept at most; the cache is cleared when it grows past this.
const MAX_ENTRIES: usize = 200_000;

/// The SHA-256 digest of a credential, the cache's key. The database stores its hex form.
type Digest = [u8; 32];

#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<Digest, (Arc<CredentialOwner>, i64)>>,
}

impl CredentialCache {
    fn get(&self, digest: &Digest, now: i64) -> Option<Arc<CredentialOwner>> {
        let entries = self.entries.lock().ok()?;
        entries.get(digest).filter(|(_, cached_at)| now - cached_at < CACHE_SECONDS).map(|(owner, _)| Arc::clone(owner))
    }

    fn put(&self, digest: Digest, owner: Arc<CredentialOwner>, now: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(digest, (owner, now));
        }
    }

    /// Forgets a collector at once on this instance, after its deletion here.
    pub fn forget_collector(&self, collector_id: &str) {
        self.forget_collectors(&[collector_id.to_owned()]);
    }

    fn forget_collectors(&self, collector_ids: &[String]) {
        if collector_ids.is_empty() {
            return;
        }
        let ids: std::collections::HashSet<&str> = collector_ids.iter().map(String::as_str).collect();
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (owner, _)| !ids.contains(owner.collector_id.as_str()));
        }
    }
}

/// Reads the credential change records every two seconds and drops the collectors they name
/// from this instance's cache; prunes records older than an hour.
pub async fn follow_credential_changes(state: AppState) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(CHANGE_POLL_SECONDS));
    let mut polls: u64 = 0;
    loop {
        interval.tick().await;
        let now = state.now();
        match collectors::credential_changes_since(&state.database, now - CHANGE_LOOKBACK_SECONDS).await {
            Ok(changed) => state.credentials.forget_collectors(&changed),
            Err(error) => tracing::warn!(error = %error, "failed to read collector credential changes; retrying"),
        }

        polls += 1;
        if polls.is_multiple_of(150)
            && let Err(error) = collectors::prune_credential_changes(&state.database, now - 3600).await
        {
            tracing::warn!(error = %error, "failed to prune collector credential changes");
        }
    }
}

/// The collector that sent the request, from its bearer credential. Expired collectors are
/// rejected with the collector-expired problem.
#[derive(Debug, Clone)]
pub struct AgentCollector(pub Arc<CredentialOwner>);

impl FromRequestParts<AppState> for AgentCollector {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiProblem> {
        let unauthorized = |detail: &str| ApiProblem::new(StatusCode::UNAUTHORIZED, PROBLEM_INVALID_CREDENTIAL, "Invalid credential", detail);

        let header = parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok()).unwrap_or_default();
        let Some(credential) = header.strip_prefix("Bearer ").map(str::trim).filter(|value| !value.is_empty()) else {
            return Err(unauthorized("Send the collector credential as Authorization: Bearer CREDENTIAL."));
        };

        let digest: Digest = Sha256::digest(credential.as_bytes()).into();
        let now = state.now();
        let owner = match state.credentials.get(&digest, now) {
            Some(owner) => owner,
            None => {
                let Some(owner) = collectors::credential_owner(&state.database, &hex::encode(digest)).await? else {
                    return Err(unauthorized("The credential is unknown or was revoked: the collector was deleted or activated again. Activate the agent with a new key."));
                };
                let owner = Arc::new(owner);
                state.credentials.put(digest, Arc::clone(&owner), now);
                owner
            }
        };

        if owner.expired {
            return Err(ApiProblem::new(
                StatusCode::FORBIDDEN,
                PROBLEM_COLLECTOR_EXPIRED,
                "Collector expired",
                "The prepaid time of this collector has run out. The Team Master can extend it in the portal.",
            ));
        }
        Ok(Self(owner))
    }
}
