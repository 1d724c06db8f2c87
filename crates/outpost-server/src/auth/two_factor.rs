//! Checking second factors (TOTP codes and recovery codes), trusted devices, and the security
//! notices users get by email.

use axum::http::{HeaderMap, HeaderValue};
use outpost_domain::recovery::{generate_set, normalize_code};
use outpost_domain::totp::{TotpSecret, matching_step, parse_code};
use outpost_store::two_factor::{self, NewTrustedDevice};

use crate::auth::csrf::read_cookie;
use crate::auth::secret_box;
use crate::auth::token::Token;
use crate::error::AppError;
use crate::state::AppState;

pub const TRUSTED_DEVICE_COOKIE: &str = "outpost_trusted_device";

/// Which second factor a user presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    TotpCode,
    RecoveryCode,
}

impl SecondFactor {
    pub fn describe(self) -> &'static str {
        match self {
            Self::TotpCode => "authenticator code",
            Self::RecoveryCode => "recovery code",
        }
    }
}

/// Decrypts a sealed TOTP secret of the user.
pub fn open_secret(state: &AppState, user_id: &str, sealed: &str) -> Result<TotpSecret, AppError> {
    let bytes = secret_box::open(&state.secret_key, user_id, sealed)?;
    TotpSecret::from_bytes(bytes).map_err(|error| AppError::Internal(error.into()))
}

/// Seals a TOTP secret for the user.
pub fn seal_secret(state: &AppState, user_id: &str, secret: &TotpSecret) -> Result<String, AppError> {
    Ok(secret_box::seal(&state.secret_key, user_id, secret.as_bytes())?)
}

/// Checks a TOTP code against the user's credential and uses up its time step. Returns false
/// for a malformed code, a wrong code, or a code of a step already used.
pub async fn check_totp_code(state: &AppState, user_id: &str, input: &str) -> Result<bool, AppError> {
    let Some(code) = parse_code(input) else {
        return Ok(false);
    };
    let Some(credential) = two_factor::credential(&state.database, user_id).await? else {
        return Ok(false);
    };

    let secret = match open_secret(state, user_id, &credential.secret_ciphertext) {
        Ok(secret) => secret,
        Err(error) => {
            // The row was altered or copied from another user: no code can match it.
            tracing::error!(user.id = %user_id, error = %error, "stored TOTP secret does not decrypt for this user");
            return Ok(false);
        }
    };
    let now = state.now();
    let Some(step) = matching_step(&secret, &code, now) else {
        return Ok(false);
    };
    Ok(two_factor::accept_step(&state.database, user_id, step, now).await?)
}

/// Checks a TOTP code or, failing the code format, a recovery code, which is then used up.
pub async fn check_second_factor(state: &AppState, user_id: &str, input: &str) -> Result<Option<SecondFactor>, AppError> {
    if parse_code(input).is_some() {
        let accepted = check_totp_code(state, user_id, input).await?;
        return Ok(accepted.then_some(SecondFactor::TotpCode));
    }

    let Some(code) = normalize_code(input) else {
        return Ok(None);
    };
    let digest = Token::from_client(&code).digest();
    let used = two_factor::use_recovery_code(&state.database, user_id, &digest, state.now()).await?;
    Ok(used.then_some(SecondFactor::RecoveryCode))
}

/// A new set of recovery codes: the codes to show once, and their digests to store.
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes = generate_set();
    let digests = codes
        .iter()
        .filter_map(|code| normalize_code(code))
        .map(|normalized| Token::from_client(&normalized).digest())
        .collect();
    (codes, digests)
}

/// Whether the request carries a trusted-device cookie of this user that has not expired;
/// a device's use is recorded. Cookies of other users and removed devices do not count.
pub async fn is_trusted_device(state: &AppState, user_id: &str, headers: &HeaderMap) -> Result<bool, AppError> {
    let Some(value) = read_cookie(headers, TRUSTED_DEVICE_COOKIE) else {
        return Ok(false);
    };
    let digest = Token::from_client(value).digest();
    Ok(two_factor::use_trusted_device(&state.database, user_id, &digest, state.now()).await?)
}

/// Stores this browser as a trusted device of the user; returns the `Set-Cookie` value.
pub async fn trust_browser(state: &AppState, user_id: &str, client_address: &str, user_agent: &str) -> Result<HeaderValue, AppError> {
    let token = Token::generate();
    let now = state.now();
    let lifetime = state.config.trusted_device_days * 86_400;
    let user_agent: String = user_agent.chars().take(512).collect();

    let device = NewTrustedDevice {
        user_id,
        token_hash: &token.digest(),
        user_agent: &user_agent,
        client_address,
        now,
        expires_at: now + lifetime,
    };
    two_factor::add_trusted_device(&state.database, device).await?;

    let secure = if state.config.uses_https() { "; Secure" } else { "" };
    let cookie = format!("{TRUSTED_DEVICE_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={lifetime}{secure}", token.expose());
    HeaderValue::from_str(&cookie).map_err(|error| AppError::Internal(error.into()))
}

/// Emails the user a security notice in the background; a failure is logged.
pub fn send_notice(state: &AppState, user_id: &str, username: &str, subject: &str, what_happened: &str) {
    let body = crate::mail::security_notice(username, what_happened);
    let mailer = state.mailer.clone();
    let recipient = username.to_owned();
    let subject = subject.to_owned();
    let user_id = user_id.to_owned();
    tokio::spawn(async move {
        if let Err(error) = mailer.send(&recipient, &subject, body).await {
            tracing::error!(user.id = %user_id, error = format!("{error:#}"), "failed to send a security notice");
        }
    });
}
