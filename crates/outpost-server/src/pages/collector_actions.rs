//! Team Master actions on one collector: its configuration, clean up and delete; and the
//! history of key actions with its CSV export.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use outpost_domain::FieldErrors;
use outpost_domain::collector::{DEFAULT_INVENTORY_INTERVAL_SECONDS, MAX_INVENTORY_INTERVAL_SECONDS, MIN_INVENTORY_INTERVAL_SECONDS, parse_excluded_addresses};
use outpost_store::collectors::{self, Deletion};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfToken;
use crate::clock::format_utc;
use crate::csv;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::collectors::{SECTION, connected, own_collector};
use crate::pages::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "collector_configuration.html")]
struct ConfigurationPage {
    chrome: Chrome,
    collector_id: String,
    collector_name: String,
    interval_minutes: String,
    excluded: String,
    errors: FieldErrors,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ConfigurationQuery {
    saved: Option<String>,
}

pub async fn show_configuration(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Path(collector_id): Path<String>,
    Query(query): Query<ConfigurationQuery>,
) -> Result<Response, AppError> {
    let collector = own_collector(&state, &user, &collector_id).await?;
    let page = ConfigurationPage {
        chrome: Chrome::new(Some(&user), &csrf, SECTION),
        interval_minutes: (collector.inventory_interval_seconds / 60).to_string(),
        excluded: collector.excluded_addresses.clone(),
        collector_id: collector.id,
        collector_name: collector.name,
        errors: FieldErrors::new(),
        notice: query.saved.map(|_| "Configuration saved; the agent picks it up within the hour.".to_owned()),
    };
    render(StatusCode::OK, &page)
}

pub async fn save_configuration(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Path(collector_id): Path<String>,
    form: Form,
) -> Result<Response, AppError> {
    let collector = own_collector(&state, &user, &collector_id).await?;
    let mut errors = FieldErrors::new();

    let minutes = form.text("inventory_interval_minutes").trim().parse::<i64>().ok();
    let interval = minutes.map(|minutes| minutes.saturating_mul(60));
    let interval = match interval {
        Some(seconds) if (MIN_INVENTORY_INTERVAL_SECONDS..=MAX_INVENTORY_INTERVAL_SECONDS).contains(&seconds) => seconds,
        _ => {
            errors.add("inventory_interval_minutes", "Enter a whole number of minutes from 1 to 1440.");
            DEFAULT_INVENTORY_INTERVAL_SECONDS
        }
    };
    let excluded = match parse_excluded_addresses(form.text("excluded_addresses")) {
        Ok(entries) => entries.join("\n"),
        Err(message) => {
            errors.add("excluded_addresses", message);
            String::new()
        }
    };

    if !errors.is_empty() {
        let page = ConfigurationPage {
            chrome: Chrome::new(Some(&user), &csrf, SECTION),
            collector_id: collector.id,
            collector_name: collector.name,
            interval_minutes: form.text("inventory_interval_minutes").to_owned(),
            excluded: form.text("excluded_addresses").to_owned(),
            errors,
            notice: None,
        };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }

    if !collectors::save_configuration(&state.database, &user.account_id, &collector.id, interval, &excluded, &user.username, state.now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/collectors/{}/configuration?saved=1", collector.id)).into_response())
}

#[derive(Template)]
#[template(path = "collector_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    collector_id: String,
    heading: String,
    explanation: &'static str,
    action: String,
    button: &'static str,
    refusal: Option<String>,
}

const CLEAN_UP_EXPLANATION: &str = "This deletes the collector's configuration and every device it found. Its name and subscription stay, and the agent keeps reporting.";
const DELETE_EXPLANATION: &str = "This removes the collector, everything it found and its credential, and ends its subscription. The agent on site can no longer report.";

fn still_connected(name: &str) -> String {
    format!("{name} is connected: its agent sent a heartbeat within the last minutes. Stop the agent on site (outpost-collector) and wait until the collector shows as disconnected, then delete it.")
}

pub async fn show_clean_up(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken, Path(collector_id): Path<String>) -> Result<Response, AppError> {
    let collector = own_collector(&state, &user, &collector_id).await?;
    let page = ConfirmPage {
        chrome: Chrome::new(Some(&user), &csrf, SECTION),
        heading: format!("Clean up {}", collector.name),
        explanation: CLEAN_UP_EXPLANATION,
        action: format!("/collectors/{}/clean-up", collector.id),
        button: "Clean up",
        refusal: None,
        collector_id: collector.id,
    };
    render(StatusCode::OK, &page)
}

pub async fn clean_up(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(collector_id): Path<String>, _form: Form) -> Result<Response, AppError> {
    let collector = own_collector(&state, &user, &collector_id).await?;
    if !collectors::clean_up(&state.database, &user.account_id, &collector.id, DEFAULT_INVENTORY_INTERVAL_SECONDS, &user.username, state.now()).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(collector.id = %collector.id, account.id = %user.account_id, "collector cleaned up");
    Ok(Redirect::to(&format!("/collectors/{}?done=cleaned", collector.id)).into_response())
}

pub async fn show_delete(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken, Path(collector_id): Path<String>) -> Result<Response, AppError> {
    let collector = own_collector(&state, &user, &collector_id).await?;
    let refusal = connected(&state, &collector).then(|| still_connected(&collector.name));
    let page = ConfirmPage {
        chrome: Chrome::new(Some(&user), &csrf, SECTION),
        heading: format!("Delete {}", collector.name),
        explanation: DELETE_EXPLANATION,
        action: format!("/collectors/{}/delete", collector.id),
        button: "Delete collector",
        refusal,
        collector_id: collector.id,
    };
    render(StatusCode::OK, &page)
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Path(collector_id): Path<String>,
    _form: Form,
) -> Result<Response, AppError> {
    let now = state.now();
    let connected_since = now - state.config.collector_offline_after_seconds;
    match collectors::delete(&state.database, &user.account_id, &collector_id, connected_since, &user.username, now).await? {
        Deletion::Deleted => {
            state.credentials.forget_collector(&collector_id);
            tracing::info!(collector.id = %collector_id, account.id = %user.account_id, "collector deleted");
            Ok(Redirect::to("/collectors?done=deleted").into_response())
        }
        // A collector this account deleted is gone; ids of other accounts are not found.
        Deletion::NotFound if collectors::was_deleted(&state.database, &user.account_id, &collector_id).await? => {
            Err(AppError::Gone("This collector no longer exists: it was deleted, perhaps in another window.".to_owned()))
        }
        Deletion::NotFound => Err(AppError::NotFound),
        Deletion::Connected => {
            let collector = own_collector(&state, &user, &collector_id).await?;
            let page = ConfirmPage {
                chrome: Chrome::new(Some(&user), &csrf, SECTION),
                heading: format!("Delete {}", collector.name),
                explanation: DELETE_EXPLANATION,
                action: format!("/collectors/{}/delete", collector.id),
                button: "Delete collector",
                refusal: Some(still_connected(&collector.name)),
                collector_id: collector.id,
            };
            render(StatusCode::CONFLICT, &page)
        }
    }
}

pub struct HistoryRow {
    pub time: String,
    pub collector_name: String,
    pub action: String,
    pub actor: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "collector_history.html")]
struct HistoryPage {
    chrome: Chrome,
    entries: Vec<HistoryRow>,
    collectors: Vec<(String, String)>,
    filter: String,
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    collector: Option<String>,
}

/// Entries shown at most on the page and in the export.
const HISTORY_LIMIT: i64 = 5_000;

pub async fn history(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken, Query(query): Query<HistoryQuery>) -> Result<Response, AppError> {
    let filter = query.collector.unwrap_or_default();
    let entries = collectors::history(&state.database, &user.account_id, Some(filter.as_str()).filter(|id| !id.is_empty()), HISTORY_LIMIT)
        .await?
        .into_iter()
        .map(|entry| HistoryRow { time: format_utc(entry.occurred_at), collector_name: entry.collector_name, action: entry.action, actor: entry.actor, detail: entry.detail })
        .collect();
    let collectors = collectors::list(&state.database, &user.account_id).await?.into_iter().map(|collector| (collector.id, collector.name)).collect();

    let page = HistoryPage { chrome: Chrome::new(Some(&user), &csrf, SECTION), entries, collectors, filter };
    render(StatusCode::OK, &page)
}

pub async fn history_csv(State(state): State<AppState>, CurrentUser(user): CurrentUser, Query(query): Query<HistoryQuery>) -> Result<Response, AppError> {
    let filter = query.collector.unwrap_or_default();
    let entries = collectors::history(&state.database, &user.account_id, Some(filter.as_str()).filter(|id| !id.is_empty()), HISTORY_LIMIT).await?;

    let mut body = csv::row(&["time_utc", "collector_id", "collector_name", "action", "by", "details"]);
    for entry in &entries {
        body.push_str(&csv::row(&[&format_utc(entry.occurred_at), &entry.collector_id, &entry.collector_name, &entry.action, &entry.actor, &entry.detail]));
    }
    let headers = [
        (CONTENT_TYPE, "text/csv; charset=utf-8"),
        (CONTENT_DISPOSITION, "attachment; filename=\"outpost-collector-history.csv\""),
        (CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, body).into_response())
}
