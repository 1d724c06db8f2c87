//! The Subscriptions pages: the list of collectors, adding one (with its activation key), a
//! collector's details with rename and devices, and renewing its activation key.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use outpost_domain::FieldErrors;
use outpost_domain::collector::{ActivationStatus, CollectorKind, DEFAULT_INVENTORY_INTERVAL_SECONDS, check_name, is_connected};
use outpost_store::collectors::{self, Collector, NewCollector};
use outpost_store::sessions::SessionUser;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfToken;
use crate::auth::token::Token;
use crate::clock::format_utc;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::{Chrome, render};
use crate::state::AppState;

pub const SECTION: &str = "collectors";
/// How long an activation key works, in seconds.
pub const ACTIVATION_KEY_LIFETIME_SECONDS: i64 = 7 * 86_400;

pub struct Row {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub version: String,
    pub activation: &'static str,
    pub connection: &'static str,
    pub expiration: String,
    pub last_seen: String,
}

pub struct Totals {
    pub all: usize,
    pub subscription: usize,
    pub prepaid: usize,
    pub connected: usize,
    pub pending: usize,
    pub expired: usize,
}

#[derive(Template)]
#[template(path = "collectors.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    totals: Totals,
    columns: [(&'static str, &'static str); 7],
    status_options: [(&'static str, &'static str); 5],
    sort: String,
    order: String,
    filter_status: String,
    filter_kind: String,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    sort: Option<String>,
    order: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    done: Option<String>,
}

pub fn kind_label(collector: &Collector) -> &'static str {
    CollectorKind::parse(&collector.kind).map_or("Unknown", CollectorKind::label)
}

pub fn activation_label(collector: &Collector) -> &'static str {
    ActivationStatus::parse(&collector.activation_status).map_or("Unknown", ActivationStatus::label)
}

pub fn connected(state: &AppState, collector: &Collector) -> bool {
    is_connected(collector.last_seen_at, state.now(), state.config.collector_offline_after_seconds)
}

fn connection_label(state: &AppState, collector: &Collector) -> &'static str {
    if connected(state, collector) { "Connected" } else { "Disconnected" }
}

fn expiration_text(collector: &Collector) -> String {
    match (collector.kind.as_str(), collector.expires_at) {
        ("prepaid", Some(at)) => format_utc(at),
        _ => "—".to_owned(),
    }
}

fn matches(state: &AppState, collector: &Collector, status: &str, kind: &str) -> bool {
    let status_ok = match status {
        "pending" | "active" | "expired" => collector.activation_status == status,
        "connected" => connected(state, collector),
        "disconnected" => !connected(state, collector),
        _ => true,
    };
    let kind_ok = kind.is_empty() || collector.kind == kind;
    status_ok && kind_ok
}

pub async fn list(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let all = collectors::list(&state.database, &user.account_id).await?;
    let totals = Totals {
        all: all.len(),
        subscription: all.iter().filter(|collector| collector.kind == "subscription").count(),
        prepaid: all.iter().filter(|collector| collector.kind == "prepaid").count(),
        connected: all.iter().filter(|collector| connected(&state, collector)).count(),
        pending: all.iter().filter(|collector| collector.activation_status == "pending").count(),
        expired: all.iter().filter(|collector| collector.activation_status == "expired").count(),
    };

    let status = query.status.unwrap_or_default();
    let kind = query.kind.unwrap_or_default();
    let mut shown: Vec<Collector> = all.into_iter().filter(|collector| matches(&state, collector, &status, &kind)).collect();

    let sort = query.sort.filter(|sort| ["name", "kind", "version", "activation", "connection", "expiration", "last_seen"].contains(&sort.as_str())).unwrap_or_else(|| "name".to_owned());
    let order = if query.order.as_deref() == Some("desc") { "desc" } else { "asc" }.to_owned();
    shown.sort_by(|a, b| {
        let ordering = match sort.as_str() {
            "kind" => a.kind.cmp(&b.kind),
            "version" => a.package_version.cmp(&b.package_version),
            "activation" => a.activation_status.cmp(&b.activation_status),
            "connection" => connected(&state, b).cmp(&connected(&state, a)),
            "expiration" => a.expires_at.cmp(&b.expires_at),
            "last_seen" => a.last_seen_at.cmp(&b.last_seen_at),
            _ => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        };
        if order == "desc" { ordering.reverse() } else { ordering }
    });

    let rows = shown
        .iter()
        .map(|collector| Row {
            id: collector.id.clone(),
            name: collector.name.clone(),
            kind: kind_label(collector),
            version: collector.package_version.clone(),
            activation: activation_label(collector),
            connection: connection_label(&state, collector),
            expiration: expiration_text(collector),
            last_seen: collector.last_seen_at.map_or_else(|| "never".to_owned(), format_utc),
        })
        .collect();

    let notice = match query.done.as_deref() {
        Some("deleted") => Some("The collector was deleted with its data and credential.".to_owned()),
        _ => None,
    };
    let page = ListPage {
        chrome: Chrome::new(Some(&user), &csrf, SECTION),
        rows,
        totals,
        columns: [
            ("name", "Name"),
            ("kind", "Kind"),
            ("version", "Version"),
            ("activation", "Activation"),
            ("connection", "Connection"),
            ("expiration", "Expiration"),
            ("last_seen", "Last seen"),
        ],
        status_options: [("pending", "Pending"), ("active", "Active"), ("expired", "Expired"), ("connected", "Connected"), ("disconnected", "Disconnected")],
        sort,
        order,
        filter_status: status,
        filter_kind: kind,
        notice,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "collector_new.html")]
struct NewPage {
    chrome: Chrome,
    collector_name: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "activation_key.html")]
struct KeyPage {
    chrome: Chrome,
    collector_id: String,
    collector_name: String,
    server: String,
    key: String,
    expires: String,
}

pub async fn show_new(CurrentUser(user): CurrentUser, csrf: CsrfToken) -> Result<Response, AppError> {
    let page = NewPage { chrome: Chrome::new(Some(&user), &csrf, SECTION), collector_name: String::new(), errors: FieldErrors::new() };
    render(StatusCode::OK, &page)
}

fn key_page(state: &AppState, user: &SessionUser, csrf: &CsrfToken, collector_id: &str, name: &str, key: &Token, expires_at: i64) -> KeyPage {
    KeyPage {
        chrome: Chrome::new(Some(user), csrf, SECTION),
        collector_id: collector_id.to_owned(),
        collector_name: name.to_owned(),
        server: state.config.public_url.clone(),
        key: key.expose().to_owned(),
        expires: format_utc(expires_at),
    }
}

pub async fn create(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken, form: Form) -> Result<Response, AppError> {
    let name = match check_name(form.text("name")) {
        Ok(name) => name,
        Err(errors) => {
            let page = NewPage { chrome: Chrome::new(Some(&user), &csrf, SECTION), collector_name: form.text("name").to_owned(), errors };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };

    let key = Token::generate();
    let now = state.now();
    let expires_at = now + ACTIVATION_KEY_LIFETIME_SECONDS;
    let collector = NewCollector {
        account_id: &user.account_id,
        name: &name,
        created_by: &user.username,
        key_hash: &key.digest(),
        key_expires_at: expires_at,
        inventory_interval_seconds: DEFAULT_INVENTORY_INTERVAL_SECONDS,
        now,
    };
    let id = collectors::create(&state.database, collector).await?;
    tracing::info!(collector.id = %id, account.id = %user.account_id, "collector added");

    render(StatusCode::OK, &key_page(&state, &user, &csrf, &id, &name, &key, expires_at))
}

pub struct DeviceRow {
    pub ip: String,
    pub mac: String,
    pub hostname: String,
    pub first_seen: String,
    pub last_seen: String,
}

#[derive(Template)]
#[template(path = "collector.html")]
struct DetailPage {
    chrome: Chrome,
    collector: Collector,
    kind: &'static str,
    activation: &'static str,
    connection: &'static str,
    activated: String,
    expiration: String,
    last_seen: String,
    devices: Vec<DeviceRow>,
    new_name: String,
    errors: FieldErrors,
    notice: Option<String>,
    alert: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    done: Option<String>,
}

/// Finds a collector of the caller's account; ids of other accounts are not found.
pub async fn own_collector(state: &AppState, user: &SessionUser, collector_id: &str) -> Result<Collector, AppError> {
    collectors::get(&state.database, &user.account_id, collector_id).await?.ok_or(AppError::NotFound)
}

async fn detail_page(state: &AppState, user: &SessionUser, csrf: &CsrfToken, collector: Collector) -> Result<DetailPage, AppError> {
    let devices = collectors::devices(&state.database, &user.account_id, &collector.id)
        .await?
        .into_iter()
        .map(|device| DeviceRow {
            ip: device.ip,
            mac: device.mac,
            hostname: device.hostname,
            first_seen: format_utc(device.first_seen),
            last_seen: format_utc(device.last_seen),
        })
        .collect();

    Ok(DetailPage {
        chrome: Chrome::new(Some(user), csrf, SECTION),
        kind: kind_label(&collector),
        activation: activation_label(&collector),
        connection: connection_label(state, &collector),
        activated: collector.activated_at.map_or_else(|| "not yet".to_owned(), format_utc),
        expiration: expiration_text(&collector),
        last_seen: collector.last_seen_at.map_or_else(|| "never".to_owned(), format_utc),
        new_name: collector.name.clone(),
        collector,
        devices,
        errors: FieldErrors::new(),
        notice: None,
        alert: None,
    })
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Path(collector_id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let collector = own_collector(&state, &user, &collector_id).await?;
    let mut page = detail_page(&state, &user, &csrf, collector).await?;
    page.notice = match query.done.as_deref() {
        Some("renamed") => Some("Collector renamed.".to_owned()),
        Some("cleaned") => Some("Configuration and devices deleted; name and subscription stay.".to_owned()),
        _ => None,
    };
    render(StatusCode::OK, &page)
}

pub async fn rename(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Path(collector_id): Path<String>,
    form: Form,
) -> Result<Response, AppError> {
    let collector = own_collector(&state, &user, &collector_id).await?;
    let name = match check_name(form.text("name")) {
        Ok(name) => name,
        Err(errors) => {
            let mut page = detail_page(&state, &user, &csrf, collector).await?;
            page.new_name = form.text("name").to_owned();
            page.errors = errors;
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };

    if !collectors::rename(&state.database, &user.account_id, &collector.id, &name, &user.username, state.now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/collectors/{}?done=renamed", collector.id)).into_response())
}

pub async fn renew_key(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Path(collector_id): Path<String>,
    _form: Form,
) -> Result<Response, AppError> {
    let collector = own_collector(&state, &user, &collector_id).await?;
    let key = Token::generate();
    let now = state.now();
    let expires_at = now + ACTIVATION_KEY_LIFETIME_SECONDS;
    if !collectors::renew_key(&state.database, &user.account_id, &collector.id, &key.digest(), expires_at, &user.username, now).await? {
        return Err(AppError::NotFound);
    }
    render(StatusCode::OK, &key_page(&state, &user, &csrf, &collector.id, &collector.name, &key, expires_at))
}
