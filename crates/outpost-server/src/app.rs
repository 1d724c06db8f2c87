//! Assembling and running the server: storage, secret key, mailer, router and layers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use outpost_store::Database;
use outpost_store::settings::{KeyCheck, check_secret_key_fingerprint};
use tokio::net::TcpListener;

use crate::agent::credentials::CredentialCache;
use crate::agent::heartbeats::HeartbeatWriter;
use crate::auth::password_hashing::PasswordHasher;
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::error::AppError;
use crate::form::FORM_BODY_LIMIT;
use crate::mail::Mailer;
use crate::secret_key::SecretKey;
use crate::state::{AppState, Inner};
use crate::auth::csrf;
use crate::{client_address, ops, routes, security_headers};

/// How often expired sessions are deleted, in seconds.
const SESSION_SWEEP_INTERVAL_SECONDS: u64 = 600;

pub struct App {
    pub state: AppState,
    pub router: Router,
    heartbeat_writer: HeartbeatWriter,
}

impl App {
    /// Opens storage and applies migrations, loads or creates the secret key and checks it
    /// against the database, and builds the router.
    pub async fn build(config: ServerConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("failed to create the data directory {}", config.data_dir.display()))?;

        let (secret_key, key_path) = SecretKey::load_or_create(config.secret_key_file.as_deref(), &config.data_dir)?;

        let database = Database::connect(&config.database_url).await.context("failed to open the database")?;
        database.migrate().await.context("failed to apply database migrations")?;

        match check_secret_key_fingerprint(&database, &secret_key.fingerprint()).await? {
            KeyCheck::Recorded => tracing::info!(path = %key_path.display(), "recorded the secret key fingerprint in the database"),
            KeyCheck::Matches => {}
            KeyCheck::Differs(_) => bail!(
                "the secret key in {} differs from the key this database was set up with, so this instance could not read \
                 what other instances encrypted; give every instance the same key file with OUTPOST_SECRET_KEY_FILE",
                key_path.display()
            ),
        }

        let mailer = Mailer::new(&config.mail, &config.data_dir)?;
        tracing::info!(mail = %mailer.describe(), "mail delivery configured");

        let (heartbeats, heartbeat_writer) = HeartbeatWriter::start(database.clone());
        let state = AppState::new(Inner {
            config,
            database,
            clock,
            mailer,
            hasher: PasswordHasher::new()?,
            secret_key,
            metrics: ops::metrics_handle()?,
            credentials: CredentialCache::default(),
            heartbeats,
        });
        let router = build_router(&state);
        Ok(Self { state, router, heartbeat_writer })
    }
}

fn build_router(state: &AppState) -> Router {
    routes::router(state)
        .fallback(|| async { AppError::NotFound })
        .layer(middleware::from_fn_with_state(state.clone(), request_layer))
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .with_state(state.clone())
}

/// Measures the request, resolves the client address, applies the CSRF checks on routes that
/// browsers use, runs the route, then sets the security headers and records the outcome. One
/// layer does all of this because each layer costs a boxed future and a cloned service.
async fn request_layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let route = routes::find(request.method(), request.extensions().get::<MatchedPath>());
    let observation = ops::Observation::start(request.method(), route.map(|route| route.label));
    let is_asset = security_headers::is_asset(request.uri().path());
    client_address::attach(&state, &mut request);

    // Requests that no route matched get the checks too, because their error pages are for browsers.
    let mut response = if route.is_none_or(|route| route.access.serves_browsers()) {
        match csrf::check_request(&state, &mut request) {
            Ok(cookie) => {
                let mut response = next.run(request).await;
                csrf::finish_response(&state, &cookie, &mut response);
                response
            }
            Err(rejection) => rejection.into_response(),
        }
    } else {
        next.run(request).await
    };

    security_headers::apply(response.headers_mut(), is_asset);
    observation.finish(response.status());
    response
}

/// Serves the app on `listener` until `shutdown` completes, then finishes open requests.
pub async fn serve(app: App, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let sweeper = tokio::spawn(sweep_sessions(app.state.clone()));
    let expirer = tokio::spawn(expire_collectors(app.state.clone()));
    let change_follower = tokio::spawn(crate::agent::credentials::follow_credential_changes(app.state.clone()));
    let metrics_upkeep = tokio::spawn(ops::metrics_upkeep(app.state.metrics.clone()));

    let service = app.router.into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service).with_graceful_shutdown(shutdown).await;

    sweeper.abort();
    expirer.abort();
    change_follower.abort();
    metrics_upkeep.abort();
    app.heartbeat_writer.stop().await;
    app.state.database.close().await;
    served.context("HTTP server failed")
}

/// How often prepaid collectors past their expiration are marked expired, in seconds.
const EXPIRY_INTERVAL_SECONDS: u64 = 60;

async fn expire_collectors(state: AppState) {
    let mut interval = tokio::time::interval(Duration::from_secs(EXPIRY_INTERVAL_SECONDS));
    loop {
        interval.tick().await;
        match outpost_store::collectors::expire_due(&state.database, state.now()).await {
            Ok(expired) => {
                for (collector_id, account_id) in expired {
                    tracing::info!(collector.id = %collector_id, account.id = %account_id, "prepaid collector expired");
                }
            }
            Err(error) => tracing::warn!(error = %error, "failed to expire prepaid collectors; retrying at the next run"),
        }
    }
}

async fn sweep_sessions(state: AppState) {
    let mut interval = tokio::time::interval(Duration::from_secs(SESSION_SWEEP_INTERVAL_SECONDS));
    loop {
        interval.tick().await;
        match outpost_store::sessions::delete_expired(&state.database, state.now(), state.config.session_idle_seconds).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(sessions.deleted = deleted, "deleted expired sessions"),
            Err(error) => tracing::warn!(error = %error, "failed to delete expired sessions; retrying at the next sweep"),
        }
    }
}
