use std::sync::Arc;

use outpost_store::Database;

use crate::auth::password_hashing::PasswordHasher;
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::mail::Mailer;
use crate::secret_key::SecretKey;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: ServerConfig,
    pub database: Database,
    pub clock: Arc<dyn Clock>,
    pub mailer: Mailer,
    pub hasher: PasswordHasher,
    pub secret_key: SecretKey,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub credentials: crate::agent::credentials::CredentialCache,
    pub heartbeats: crate::agent::heartbeats::HeartbeatQueue,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }

    pub fn now(&self) -> i64 {
        self.0.clock.now()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
