//! Operations endpoints and the request layer that logs and measures every request by its
//! matched route (never the raw path, which may carry a secret token).

use std::sync::{LazyLock, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

const DURATION_METRIC: &str = "http_request_duration_seconds";
const REQUESTS_METRIC: &str = "http_requests_total";

/// Installs the process-wide Prometheus recorder once and returns its handle; later calls,
/// such as a second app in the same test process, share it.
pub fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }

    let buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION_METRIC.to_owned()), &buckets)?
        .build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        // Another thread won the race; its handle is stored below or already there.
        tracing::debug!("metrics recorder was already installed");
    }
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// The method as a static label; methods the server has no route for share one label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// Returns the matched route as a static label from the route table; other paths share one.
fn route_label(path: Option<&MatchedPath>) -> &'static str {
    static ROUTES: LazyLock<Vec<&'static str>> = LazyLock::new(|| crate::routes::table().iter().map(|spec| spec.path).collect());
    path.and_then(|path| ROUTES.iter().find(|route| **route == path.as_str()).copied()).unwrap_or("unmatched")
}

/// Returns the status code as a static label.
fn status_label(status: StatusCode) -> &'static str {
    static CODES: LazyLock<Vec<String>> = LazyLock::new(|| (0..1000).map(|code: u16| code.to_string()).collect());
    CODES.get(usize::from(status.as_u16())).map_or("other", String::as_str)
}

/// Layer for every route: counts and times the request and logs its outcome. Labels are
/// static strings, so recording a request allocates nothing.
pub async fn observe_layer(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = route_label(request.extensions().get::<MatchedPath>());

    let response = next.run(request).await;

    let elapsed = started.elapsed();
    let status = status_label(response.status());
    metrics::counter!(REQUESTS_METRIC, "method" => method, "route" => route, "status" => status).increment(1);
    metrics::histogram!(DURATION_METRIC, "method" => method, "route" => route, "status" => status).record(elapsed.as_secs_f64());

    let duration_ms = elapsed.as_millis();
    if response.status().is_server_error() {
        tracing::warn!(http.method = method, http.route = route, http.status = status, duration_ms, "request finished");
    } else {
        tracing::debug!(http.method = method, http.route = route, http.status = status, duration_ms, "request finished");
    }
    response
}

/// Returns 200 while the process runs.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Returns 200 when the database responds to a query, else 503.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.database.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.run_upkeep();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}
