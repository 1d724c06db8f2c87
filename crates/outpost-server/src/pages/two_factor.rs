//! The Security page for two-factor authentication: switching it on (password, QR code,
//! confirming code), the status once on, renewing the key, new recovery codes, trusted
//! devices, and switching it off.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use outpost_domain::FieldErrors;
use outpost_domain::totp::{TotpSecret, matching_step, parse_code};
use outpost_store::audit::{self, Event};
use outpost_store::sessions::SessionUser;
use outpost_store::two_factor::{self, EnrollmentPurpose};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::csrf::read_cookie;
use crate::auth::token::Token;
use crate::auth::csrf::CsrfToken;
use crate::auth::reauthentication::{check_password, record_code_failure, record_code_success};
use crate::auth::two_factor::{
    TRUSTED_DEVICE_COOKIE, check_second_factor, check_totp_code, new_recovery_codes, open_secret, seal_secret, send_notice, trust_browser,
};
use crate::client_address::ClientAddress;
use crate::clock::format_utc;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::{Chrome, password_refusal, render, render_refusal, session_audit_entry};
use crate::state::AppState;
use crate::user_agent;

const SECTION: &str = "two-factor";

pub struct Status {
    pub set_up_on: String,
    pub last_used: String,
    pub recovery_codes_left: i64,
}

pub struct DeviceRow {
    pub id: String,
    /// The device is the browser viewing the page.
    pub is_this_browser: bool,
    pub browser: String,
    pub client_address: String,
    pub added: String,
    pub last_used: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "two_factor.html")]
struct StatusPage {
    chrome: Chrome,
    status: Option<Status>,
    /// Two-factor is required of the user, so it cannot be turned off.
    required: bool,
    devices: Vec<DeviceRow>,
    trusted_days: i64,
    errors: FieldErrors,
    notice: Option<String>,
    alert: Option<String>,
}

#[derive(Template)]
#[template(path = "two_factor_password.html")]
struct PasswordPage {
    chrome: Chrome,
    heading: &'static str,
    explanation: &'static str,
    action: &'static str,
    button: &'static str,
    ask_code: bool,
    errors: FieldErrors,
    alert: Option<String>,
}

#[derive(Template)]
#[template(path = "two_factor_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    renewing: bool,
    key_text: String,
    trusted_days: i64,
    errors: FieldErrors,
    alert: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    codes: Vec<String>,
    /// An earlier set existed and was voided.
    replaced: bool,
    download: String,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    done: Option<String>,
}

/// Groups a base32 key in blocks of four for typing by hand.
fn group_key(key: &str) -> String {
    key.as_bytes().chunks(4).map(|chunk| String::from_utf8_lossy(chunk).into_owned()).collect::<Vec<_>>().join(" ")
}

async fn status_page(state: &AppState, user: &SessionUser, csrf: &CsrfToken, headers: &HeaderMap) -> Result<StatusPage, AppError> {
    let this_browser = read_cookie(headers, TRUSTED_DEVICE_COOKIE).map(|value| Token::from_client(value).digest());
    let now = state.now();
    let status = match two_factor::credential(&state.database, &user.user_id).await? {
        Some(credential) => Some(Status {
            set_up_on: format_utc(credential.created_at),
            last_used: credential.last_used_at.map_or_else(|| "never".to_owned(), |at| format!("on {}", format_utc(at))),
            recovery_codes_left: two_factor::unused_recovery_codes(&state.database, &user.user_id).await?,
        }),
        None => None,
    };

    let devices = two_factor::trusted_devices(&state.database, &user.user_id, now)
        .await?
        .into_iter()
        .map(|device| DeviceRow {
            is_this_browser: this_browser.as_deref() == Some(device.token_hash.as_str()),
            id: device.id,
            browser: user_agent::describe(&device.user_agent),
            client_address: device.client_address,
            added: format_utc(device.created_at),
            last_used: format_utc(device.last_used_at),
            expires: format_utc(device.expires_at),
        })
        .collect();

    Ok(StatusPage {
        chrome: Chrome::new(Some(user), csrf, SECTION),
        status,
        required: user.two_factor_required,
        devices,
        trusted_days: state.config.trusted_device_days,
        errors: FieldErrors::new(),
        notice: None,
        alert: None,
    })
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    headers: HeaderMap,
    Query(query): Query<StatusQuery>,
) -> Result<Response, AppError> {
    let mut page = status_page(&state, &user, &csrf, &headers).await?;
    page.notice = match query.done.as_deref() {
        Some("renewed") => Some("The new key is in use; codes from the old key no longer work.".to_owned()),
        Some("disabled") => Some("Two-factor authentication is off. Recovery codes and trusted devices were removed.".to_owned()),
        Some("device-removed") => Some("The device was removed: it needs a code at its next sign-in.".to_owned()),
        _ => None,
    };
    render(StatusCode::OK, &page)
}

fn enable_page(user: &SessionUser, csrf: &CsrfToken) -> PasswordPage {
    PasswordPage {
        chrome: Chrome::new(Some(user), csrf, SECTION),
        heading: "Turn on two-factor authentication",
        explanation: "Confirm your password to see the QR code for your authenticator app.",
        action: "/security/two-factor/enable",
        button: "Continue",
        ask_code: false,
        errors: FieldErrors::new(),
        alert: None,
    }
}

pub async fn show_enable(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken) -> Result<Response, AppError> {
    if two_factor::credential(&state.database, &user.user_id).await?.is_some() {
        return Ok(Redirect::to("/security/two-factor").into_response());
    }
    render(StatusCode::OK, &enable_page(&user, &csrf))
}

pub async fn submit_enable(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    if two_factor::credential(&state.database, &user.user_id).await?.is_some() {
        return Ok(Redirect::to("/security/two-factor").into_response());
    }

    let address = client.text();
    let check = check_password(&state, &user.user_id, &user.username, &address, form.text("password")).await?;
    if let Some(refusal) = password_refusal(check, &state) {
        let mut page = enable_page(&user, &csrf);
        page.errors.add("password", refusal.message.clone());
        return render_refusal(&page, &refusal);
    }

    start_enrollment(&state, &user, EnrollmentPurpose::Enable).await
}

async fn start_enrollment(state: &AppState, user: &SessionUser, purpose: EnrollmentPurpose) -> Result<Response, AppError> {
    let secret = TotpSecret::generate().map_err(|error| AppError::Internal(error.into()))?;
    let sealed = seal_secret(state, &user.user_id, &secret)?;
    two_factor::save_enrollment(&state.database, &user.user_id, &sealed, purpose, state.now()).await?;
    Ok(Redirect::to("/security/two-factor/confirm").into_response())
}

async fn enrolled_secret(state: &AppState, user: &SessionUser) -> Result<Option<(TotpSecret, two_factor::Enrollment)>, AppError> {
    let Some(enrollment) = two_factor::enrollment(&state.database, &user.user_id).await? else {
        return Ok(None);
    };
    let secret = open_secret(state, &user.user_id, &enrollment.secret_ciphertext)?;
    Ok(Some((secret, enrollment)))
}

fn confirm_page(state: &AppState, user: &SessionUser, csrf: &CsrfToken, secret: &TotpSecret, purpose: EnrollmentPurpose) -> ConfirmPage {
    ConfirmPage {
        chrome: Chrome::new(Some(user), csrf, SECTION),
        renewing: purpose == EnrollmentPurpose::Renew,
        key_text: group_key(&secret.to_base32()),
        trusted_days: state.config.trusted_device_days,
        errors: FieldErrors::new(),
        alert: None,
    }
}

pub async fn show_confirm(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken) -> Result<Response, AppError> {
    let Some((secret, enrollment)) = enrolled_secret(&state, &user).await? else {
        return Ok(Redirect::to("/security/two-factor").into_response());
    };
    render(StatusCode::OK, &confirm_page(&state, &user, &csrf, &secret, enrollment.purpose))
}

/// The pending key as a QR code, for the confirm page's image.
pub async fn qr_png(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    let Some((secret, _)) = enrolled_secret(&state, &user).await? else {
        return Err(AppError::NotFound);
    };

    let issuer = state.config.totp_issuer.clone();
    let account = user.username.clone();
    let span = tracing::Span::current();
    let png = tokio::task::spawn_blocking(move || span.in_scope(|| secret.qr_png(&issuer, &account)))
        .await
        .map_err(|error| AppError::Internal(error.into()))?
        .map_err(|error| AppError::Internal(error.into()))?;

    Ok(([(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-store")], png).into_response())
}

pub async fn submit_confirm(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, AppError> {
    let Some((secret, enrollment)) = enrolled_secret(&state, &user).await? else {
        return Ok(Redirect::to("/security/two-factor").into_response());
    };
    let address = client.text();
    let now = state.now();

    let Some(code) = parse_code(form.text("code")) else {
        let mut page = confirm_page(&state, &user, &csrf, &secret, enrollment.purpose);
        page.errors.add("code", "Enter the 6-digit code that the app shows, digits only.");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let Some(step) = matching_step(&secret, &code, now) else {
        record_code_failure(&state, &user.username, &address).await?;
        let mut page = confirm_page(&state, &user, &csrf, &secret, enrollment.purpose);
        page.errors.add("code", "The code does not match. Enter the 6 digits the app shows now; if the app shows a new code, use that one.");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    record_code_success(&state, &user.username, &address).await?;

    if enrollment.purpose == EnrollmentPurpose::Renew {
        if two_factor::activate(&state.database, &user.user_id, &enrollment.secret_ciphertext, step, &[], now).await? {
            audit::record(&state.database, Event::TwoFactorRenewed, session_audit_entry(&user, &address, ""), now).await?;
            send_notice(&state, &user.user_id, &user.username, "Your Outpost authenticator key was renewed", "The key of your authenticator app was renewed. Codes from the old key no longer work.");
            tracing::info!(user.id = %user.user_id, "two-factor key renewed");
        }
        return Ok(Redirect::to("/security/two-factor?done=renewed").into_response());
    }

    let (codes, digests) = new_recovery_codes();
    if !two_factor::activate(&state.database, &user.user_id, &enrollment.secret_ciphertext, step, &digests, now).await? {
        return Ok(Redirect::to("/security/two-factor").into_response());
    }
    audit::record(&state.database, Event::TwoFactorEnabled, session_audit_entry(&user, &address, ""), now).await?;
    send_notice(&state, &user.user_id, &user.username, "Two-factor authentication is on for your Outpost account", "Two-factor authentication was turned on: signing in now needs a code from your authenticator app.");
    tracing::info!(user.id = %user.user_id, "two-factor authentication enabled");

    let mut response = render(StatusCode::OK, &recovery_codes_page(&user, &csrf, codes, "Two-factor authentication is on.", false))?;
    if form.checkbox("remember") {
        let user_agent = headers.get(USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default();
        let cookie = trust_browser(&state, &user.user_id, &address, user_agent).await?;
        response.headers_mut().append(SET_COOKIE, cookie);
        audit::record(&state.database, Event::TrustedDeviceAdded, session_audit_entry(&user, &address, "at activation"), now).await?;
        let notice = format!("A browser at {address} was added as a trusted device: it signs in without a code for {} days.", state.config.trusted_device_days);
        send_notice(&state, &user.user_id, &user.username, "New trusted device on your Outpost account", &notice);
    }
    Ok(response)
}

fn recovery_codes_page(user: &SessionUser, csrf: &CsrfToken, codes: Vec<String>, notice: &str, replaced: bool) -> RecoveryCodesPage {
    let text = format!("Outpost recovery codes for {}\n\n{}\n", user.username, codes.join("\n"));
    let download = text.bytes().map(|byte| if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) { char::from(byte).to_string() } else { format!("%{byte:02X}") }).collect();
    RecoveryCodesPage { chrome: Chrome::new(Some(user), csrf, SECTION), codes, replaced, download, notice: Some(notice.to_owned()) }
}

/// Checks password and a current authenticator code on the status page's form; returns the
/// page to show when either is wrong.
async fn check_password_and_code(
    state: &AppState,
    user: &SessionUser,
    csrf: &CsrfToken,
    address: &str,
    form: &Form,
) -> Result<Option<Response>, AppError> {
    let check = check_password(state, &user.user_id, &user.username, address, form.text("password")).await?;
    if let Some(refusal) = password_refusal(check, state) {
        let mut page = status_page(state, user, csrf, &HeaderMap::new()).await?;
        page.errors.add("password", refusal.message.clone());
        return Ok(Some(render_refusal(&page, &refusal)?));
    }

    if !check_totp_code(state, &user.user_id, form.text("code")).await? {
        record_code_failure(state, &user.username, address).await?;
        let mut page = status_page(state, user, csrf, &HeaderMap::new()).await?;
        page.errors.add("code", "The code is wrong or was already used. Enter the current 6-digit code from your authenticator app.");
        return Ok(Some(render(StatusCode::UNPROCESSABLE_ENTITY, &page)?));
    }
    record_code_success(state, &user.username, address).await?;
    Ok(None)
}

pub async fn submit_renew(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    if two_factor::credential(&state.database, &user.user_id).await?.is_none() {
        return Ok(Redirect::to("/security/two-factor").into_response());
    }
    if let Some(refusal) = check_password_and_code(&state, &user, &csrf, &client.text(), &form).await? {
        return Ok(refusal);
    }
    start_enrollment(&state, &user, EnrollmentPurpose::Renew).await
}

pub async fn submit_recovery_codes(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    if two_factor::credential(&state.database, &user.user_id).await?.is_none() {
        return Ok(Redirect::to("/security/two-factor").into_response());
    }
    let address = client.text();
    if let Some(refusal) = check_password_and_code(&state, &user, &csrf, &address, &form).await? {
        return Ok(refusal);
    }

    let now = state.now();
    let (codes, digests) = new_recovery_codes();
    two_factor::replace_recovery_codes(&state.database, &user.user_id, &digests, now).await?;
    audit::record(&state.database, Event::RecoveryCodesRegenerated, session_audit_entry(&user, &address, ""), now).await?;
    send_notice(&state, &user.user_id, &user.username, "New Outpost recovery codes", "A new set of recovery codes was made; the earlier codes no longer work.");
    render(StatusCode::OK, &recovery_codes_page(&user, &csrf, codes, "New recovery codes were made.", true))
}

fn disable_page(user: &SessionUser, csrf: &CsrfToken) -> PasswordPage {
    PasswordPage {
        chrome: Chrome::new(Some(user), csrf, SECTION),
        heading: "Turn off two-factor authentication",
        explanation: "Confirm with your password and a current authenticator code or a recovery code. Your recovery codes and trusted devices are removed with it.",
        action: "/security/two-factor/disable",
        button: "Turn off",
        ask_code: true,
        errors: FieldErrors::new(),
        alert: None,
    }
}

const REQUIRED_BY_TEAM_MASTER: &str = "Your Team Master requires two-factor authentication of you, so it cannot be turned off.";

pub async fn show_disable(State(state): State<AppState>, CurrentUser(user): CurrentUser, csrf: CsrfToken) -> Result<Response, AppError> {
    if user.two_factor_required {
        return Err(AppError::Conflict(REQUIRED_BY_TEAM_MASTER.to_owned()));
    }
    if two_factor::credential(&state.database, &user.user_id).await?.is_none() {
        return Ok(Redirect::to("/security/two-factor").into_response());
    }
    render(StatusCode::OK, &disable_page(&user, &csrf))
}

pub async fn submit_disable(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    if user.two_factor_required {
        return Err(AppError::Conflict(REQUIRED_BY_TEAM_MASTER.to_owned()));
    }
    if two_factor::credential(&state.database, &user.user_id).await?.is_none() {
        return Ok(Redirect::to("/security/two-factor").into_response());
    }
    let address = client.text();

    let check = check_password(&state, &user.user_id, &user.username, &address, form.text("password")).await?;
    if let Some(refusal) = password_refusal(check, &state) {
        let mut page = disable_page(&user, &csrf);
        page.errors.add("password", refusal.message.clone());
        return render_refusal(&page, &refusal);
    }

    let now = state.now();
    let Some(factor) = check_second_factor(&state, &user.user_id, form.text("code")).await? else {
        record_code_failure(&state, &user.username, &address).await?;
        let mut page = disable_page(&user, &csrf);
        page.errors.add("code", "The code is wrong or was already used. Enter the current authenticator code or an unused recovery code.");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    record_code_success(&state, &user.username, &address).await?;

    two_factor::disable(&state.database, &user.user_id).await?;
    audit::record(&state.database, Event::TwoFactorDisabled, session_audit_entry(&user, &address, factor.describe()), now).await?;
    send_notice(&state, &user.user_id, &user.username, "Two-factor authentication is off for your Outpost account", "Two-factor authentication was turned off. Your recovery codes and trusted devices were removed.");
    tracing::info!(user.id = %user.user_id, "two-factor authentication disabled");
    Ok(Redirect::to("/security/two-factor?done=disabled").into_response())
}

pub async fn remove_trusted_device(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    client: ClientAddress,
    Path(device_id): Path<String>,
    _form: Form,
) -> Result<Response, AppError> {
    if !two_factor::remove_trusted_device(&state.database, &user.user_id, &device_id).await? {
        return Err(AppError::NotFound);
    }

    let address = client.text();
    let now = state.now();
    audit::record(&state.database, Event::TrustedDeviceRemoved, session_audit_entry(&user, &address, ""), now).await?;
    send_notice(&state, &user.user_id, &user.username, "A trusted device was removed from your Outpost account", "A browser was removed from your trusted devices: it needs a code at its next sign-in.");
    Ok((StatusCode::SEE_OTHER, [(LOCATION, HeaderValue::from_static("/security/two-factor?done=device-removed"))]).into_response())
}
