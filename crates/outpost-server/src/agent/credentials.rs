//! Checking collector credentials. A verified credential is kept in memory for at most five
//! seconds, so most heartbeats need no database read, and a deleted collector's credential
//! stops working on every instance within five seconds.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use outpost_protocol::{PROBLEM_COLLECTOR_EXPIRED, PROBLEM_INVALID_CREDENTIAL};
use outpost_store::collectors::{self, CredentialOwner};

use crate::agent::problem::ApiProblem;
use crate::auth::token::Token;
use crate::state::AppState;

/// How long a verified credential is trusted without a database read, in seconds.
pub const CACHE_SECONDS: i64 = 5;
/// Entries kept at most; the cache is cleared when it grows past this.
const MAX_ENTRIES: usize = 200_000;

#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<String, (CredentialOwner, i64)>>,
}

impl CredentialCache {
    fn get(&self, digest: &str, now: i64) -> Option<CredentialOwner> {
        let entries = self.entries.lock().ok()?;
        entries.get(digest).filter(|(_, cached_at)| now - cached_at < CACHE_SECONDS).map(|(owner, _)| owner.clone())
    }

    fn put(&self, digest: String, owner: CredentialOwner, now: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(digest, (owner, now));
        }
    }

    /// Forgets a collector at once on this instance, after its deletion here.
    pub fn forget_collector(&self, collector_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (owner, _)| owner.collector_id != collector_id);
        }
    }
}

/// The collector that sent the request, from its bearer credential. Expired collectors are
/// rejected with the collector-expired problem.
#[derive(Debug, Clone)]
pub struct AgentCollector(pub CredentialOwner);

impl FromRequestParts<AppState> for AgentCollector {
    type Rejection = ApiProblem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiProblem> {
        let unauthorized = |detail: &str| ApiProblem::new(StatusCode::UNAUTHORIZED, PROBLEM_INVALID_CREDENTIAL, "Invalid credential", detail);

        let header = parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok()).unwrap_or_default();
        let Some(credential) = header.strip_prefix("Bearer ").map(str::trim).filter(|value| !value.is_empty()) else {
            return Err(unauthorized("Send the collector credential as Authorization: Bearer CREDENTIAL."));
        };

        let digest = Token::from_client(credential).digest();
        let now = state.now();
        let owner = match state.credentials.get(&digest, now) {
            Some(owner) => owner,
            None => {
                let Some(owner) = collectors::credential_owner(&state.database, &digest).await? else {
                    return Err(unauthorized("The credential is unknown or was revoked: the collector was deleted or activated again. Activate the agent with a new key."));
                };
                state.credentials.put(digest, owner.clone(), now);
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
