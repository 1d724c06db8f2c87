//! Operations endpoints, and the measuring and logging of every request by its matched route
//! (never the raw path, which may carry a secret token).

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

const DURATION_METRIC: &str = "http_request_duration_seconds";
const REQUESTS_METRIC: &str = "http_requests_total";

/// Installs the process-wide Prometheus recorder once and returns its handle; later calls,
/// such as a second app in the same test process, share it. `OnceLock::get_or_init` runs one
/// installation at a time, so the handle kept is always the installed recorder's: with two
/// racing installations, the loser's handle would render an empty page.
pub fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE.get_or_init(|| install_recorder().map_err(|error| format!("{error:#}"))).clone().map_err(|error| anyhow::anyhow!(error))
}

fn install_recorder() -> anyhow::Result<PrometheusHandle> {
    let buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION_METRIC.to_owned()), &buckets)?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| anyhow::anyhow!("failed to install the metrics recorder: another recorder is installed"))?;
    Ok(handle)
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

/// Returns the status code as a static label.
fn status_label(status: StatusCode) -> &'static str {
    static CODES: LazyLock<Vec<String>> = LazyLock::new(|| (0..1000).map(|code: u16| code.to_string()).collect());
    CODES.get(usize::from(status.as_u16())).map_or("other", String::as_str)
}

/// The counter and histogram of one method, route and status.
struct Series {
    requests: Counter,
    duration: Histogram,
}

type SeriesKey = (&'static str, &'static str, &'static str);

/// Metric handles by labels. The labels are few (routes × methods × statuses seen), so the
/// handles are registered once and then found with one hash look-up instead of building a
/// labelled key in the recorder on every request.
static SERIES: LazyLock<RwLock<HashMap<SeriesKey, Series>>> = LazyLock::new(RwLock::default);

impl Series {
    /// Counts one request and records its duration.
    fn add(&self, elapsed: Duration) {
        self.requests.increment(1);
        self.duration.record(elapsed.as_secs_f64());
    }
}

fn record(key: SeriesKey, elapsed: Duration) {
    if let Ok(series) = SERIES.read()
        && let Some(series) = series.get(&key)
    {
        series.add(elapsed);
        return;
    }
    let (method, route, status) = key;
    let series = Series {
        requests: metrics::counter!(REQUESTS_METRIC, "method" => method, "route" => route, "status" => status),
        duration: metrics::histogram!(DURATION_METRIC, "method" => method, "route" => route, "status" => status),
    };
    series.add(elapsed);
    if let Ok(mut all) = SERIES.write() {
        all.insert(key, series);
    }
}

/// One request being measured: started when the request arrives, finished with its response.
pub struct Observation {
    started: Instant,
    method: &'static str,
    route: &'static str,
}

impl Observation {
    /// Starts measuring a request to `route`, a label from the route table, or `None` when no
    /// route matched.
    pub fn start(method: &Method, route: Option<&'static str>) -> Self {
        Self { started: Instant::now(), method: method_label(method), route: route.unwrap_or("unmatched") }
    }

    /// Counts and times the request and logs its outcome.
    pub fn finish(self, status: StatusCode) {
        let elapsed = self.started.elapsed();
        let status_text = status_label(status);
        record((self.method, self.route, status_text), elapsed);

        let duration_ms = elapsed.as_millis();
        if status.is_server_error() {
            tracing::warn!(http.method = self.method, http.route = self.route, http.status = status_text, duration_ms, "request finished");
        } else {
            tracing::debug!(http.method = self.method, http.route = self.route, http.status = status_text, duration_ms, "request finished");
        }
    }
}

/// How often histogram samples are folded into their buckets, in seconds. The recorder keeps
/// each sample until then, so without this task memory would grow with every request between
/// two scrapes of /metrics.
const METRICS_UPKEEP_SECONDS: u64 = 5;

/// Folds recorded histogram samples every few seconds.
pub async fn metrics_upkeep(handle: PrometheusHandle) {
    let mut interval = tokio::time::interval(Duration::from_secs(METRICS_UPKEEP_SECONDS));
    loop {
        interval.tick().await;
        handle.run_upkeep();
    }
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
