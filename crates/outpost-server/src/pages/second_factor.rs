//! The code page of sign-in: after the password, a TOTP code or a recovery code. Passing it
//! replaces the session with a new one.

use askama::Template;
use axum::extract::State;
use axum::http::header::USER_AGENT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use outpost_store::audit::{self, Event};
use outpost_store::{sessions, two_factor, users};

use crate::auth::csrf::CsrfToken;
use crate::auth::reauthentication::{record_code_failure, record_code_success};
use crate::auth::two_factor::{SecondFactor, check_second_factor, send_notice, trust_browser};
use crate::auth::{CurrentUser, throttle};
use crate::client_address::ClientAddress;
use crate::clock::format_wait;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::sign_in::{complete_sign_in, lock_message};
use crate::pages::{Chrome, render, render_throttled, user_audit_entry};
use crate::state::AppState;
use outpost_domain::email::normalize;
use outpost_domain::throttle::Verdict;

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    chrome: Chrome,
    trusted_days: i64,
    alert: Option<String>,
}

pub async fn show(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken) -> Result<Response, AppError> {
    let page = SecondFactorPage { chrome: Chrome::new(Some(&user), &csrf, "sign-in"), trusted_days: state.config.trusted_device_days, alert: None };
    render(StatusCode::OK, &page)
}

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, AppError> {
    let address = client.text();
    let mut page = SecondFactorPage { chrome: Chrome::new(Some(&session), &csrf, "sign-in"), trusted_days: state.config.trusted_device_days, alert: None };

    match throttle::check_password_attempt(&state, &normalize(&session.username), &address).await? {
        Verdict::Allowed => {}
        Verdict::Wait(seconds) => {
            page.alert = Some(format!("Too many wrong codes. Try again in {}.", format_wait(seconds)));
            return render_throttled(&page, seconds);
        }
        Verdict::Locked => {
            page.alert = Some(lock_message(&state));
            return render(StatusCode::LOCKED, &page);
        }
    }

    let user = users::find_by_id(&state.database, &session.user_id).await?.ok_or(AppError::Unauthorized)?;
    let now = state.now();
    let Some(factor) = check_second_factor(&state, &user.id, form.text("code")).await? else {
        record_code_failure(&state, &user.username, &address).await?;
        let entry = user_audit_entry(&user, &address, "wrong or reused second factor");
        audit::record(&state.database, Event::SignInFailed, entry, now).await?;
        page.alert = Some(
            "The code is wrong or was already used. Enter the current 6-digit code from your authenticator app, or an unused recovery code."
                .to_owned(),
        );
        return render(StatusCode::UNAUTHORIZED, &page);
    };

    record_code_success(&state, &user.username, &address).await?;
    sessions::delete(&state.database, &session.session_id).await?;
    let entry = |detail: &'static str| user_audit_entry(&user, &address, detail);

    if factor == SecondFactor::RecoveryCode {
        audit::record(&state.database, Event::RecoveryCodeUsed, entry("at sign-in"), now).await?;
        let left = two_factor::unused_recovery_codes(&state.database, &user.id).await?;
        let notice = format!("A recovery code was used to sign in from {address}. {left} unused recovery codes are left.");
        send_notice(&state, &user.id, &user.username, "A recovery code was used on your Outpost account", &notice);
    }

    let user_agent = headers.get(USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let mut cookies = Vec::new();
    if form.checkbox("remember") {
        cookies.push(trust_browser(&state, &user.id, &address, user_agent).await?);
        audit::record(&state.database, Event::TrustedDeviceAdded, entry("at sign-in"), now).await?;
        let notice = format!("A browser at {address} was added as a trusted device: it signs in without a code for {} days.", state.config.trusted_device_days);
        send_notice(&state, &user.id, &user.username, "New trusted device on your Outpost account", &notice);
    }

    let detail = match factor {
        SecondFactor::TotpCode => "password and authenticator code",
        SecondFactor::RecoveryCode => "password and recovery code",
    };
    complete_sign_in(&state, &user, &address, user_agent, detail, cookies, None).await
}
