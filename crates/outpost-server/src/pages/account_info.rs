//! Account Info: the billing details of the account. A bad field gets its message beside it
//! and the form keeps what was typed.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_domain::billing::BillingDetailsInput;
use outpost_domain::country::all_countries;
use outpost_domain::FieldErrors;
use outpost_store::audit::{self, Event};
use outpost_store::billing;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfToken;
use crate::client_address::ClientAddress;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::{Chrome, render, session_audit_entry};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account_info.html")]
struct AccountInfoPage {
    chrome: Chrome,
    input: BillingDetailsInput,
    errors: FieldErrors,
    countries: Vec<(&'static str, String)>,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AccountInfoQuery {
    saved: Option<String>,
    welcome: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Query(query): Query<AccountInfoQuery>,
) -> Result<Response, AppError> {
    let input = match billing::get(&state.database, &user.account_id).await? {
        Some(stored) => BillingDetailsInput {
            account_type: stored.account_type,
            name: stored.name,
            address_line1: stored.address_line1,
            address_line2: stored.address_line2,
            postal_code: stored.postal_code,
            city: stored.city,
            region: stored.region,
            country: stored.country,
            tax_id: stored.tax_id,
            reverse_charge: stored.reverse_charge,
            billing_email: stored.billing_email,
        },
        None => BillingDetailsInput { account_type: "business".into(), billing_email: user.username.clone(), ..BillingDetailsInput::default() },
    };

    let notice = if query.saved.is_some() {
        Some("Billing details saved.".to_owned())
    } else if query.welcome.is_some() {
        Some("Welcome to Outpost. Fill in your billing details so invoices carry the right name and address.".to_owned())
    } else {
        None
    };

    let page = AccountInfoPage { chrome: Chrome::new(Some(&user), &csrf, "account"), input, errors: FieldErrors::new(), countries: all_countries(), notice };
    render(StatusCode::OK, &page)
}

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    let input = BillingDetailsInput {
        account_type: form.text("account_type").to_owned(),
        name: form.text("name").to_owned(),
        address_line1: form.text("address_line1").to_owned(),
        address_line2: form.text("address_line2").to_owned(),
        postal_code: form.text("postal_code").to_owned(),
        city: form.text("city").to_owned(),
        region: form.text("region").to_owned(),
        country: form.text("country").to_owned(),
        tax_id: form.text("tax_id").to_owned(),
        reverse_charge: form.checkbox("reverse_charge"),
        billing_email: form.text("billing_email").to_owned(),
    };

    let details = match input.validate() {
        Ok(details) => details,
        Err(errors) => {
            let page = AccountInfoPage { chrome: Chrome::new(Some(&user), &csrf, "account"), input, errors, countries: all_countries(), notice: None };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };

    let now = state.now();
    billing::save(&state.database, &user.account_id, &details, now).await?;

    let address = client.text();
    let entry = session_audit_entry(&user, &address, "");
    audit::record(&state.database, Event::BillingDetailsChanged, entry, now).await?;
    tracing::info!(account.id = %user.account_id, "billing details saved");

    Ok((StatusCode::SEE_OTHER, [(LOCATION, HeaderValue::from_static("/account?saved=1"))]).into_response())
}
