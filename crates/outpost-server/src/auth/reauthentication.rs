//! Password re-confirmation for sensitive changes, throttled like sign-in.

use outpost_domain::email::normalize;
use outpost_domain::password::Password;
use outpost_domain::throttle::Verdict;
use outpost_store::users;

use crate::auth::password_hashing::Verification;
use crate::auth::throttle;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Correct,
    Wrong,
    /// Too many failures: wait this many seconds.
    Wait(i64),
    Locked,
}

/// Checks the signed-in user's password. A wrong password counts as a failed sign-in.
pub async fn check_password(state: &AppState, user_id: &str, username: &str, address: &str, input: &str) -> Result<PasswordCheck, AppError> {
    let username_key = normalize(username);
    match throttle::check_password_attempt(state, &username_key, address).await? {
        Verdict::Allowed => {}
        Verdict::Wait(seconds) => return Ok(PasswordCheck::Wait(seconds)),
        Verdict::Locked => return Ok(PasswordCheck::Locked),
    }

    let stored = users::find_by_id(&state.database, user_id).await?.ok_or(AppError::Unauthorized)?;
    let verification = state.hasher.verify(&Password::normalize(input), Some(&stored.password_hash)).await?;
    if verification == Verification::Mismatch {
        throttle::record_password_failure(state, &username_key, address).await?;
        return Ok(PasswordCheck::Wrong);
    }
    Ok(PasswordCheck::Correct)
}

/// Counts a wrong second factor like a wrong password.
pub async fn record_code_failure(state: &AppState, username: &str, address: &str) -> Result<(), AppError> {
    throttle::record_password_failure(state, &normalize(username), address).await?;
    Ok(())
}

/// Clears the failure counters after a correct second factor.
pub async fn record_code_success(state: &AppState, username: &str, address: &str) -> Result<(), AppError> {
    throttle::record_password_success(state, &normalize(username), address).await?;
    Ok(())
}
