//! Counters of consecutive failures for the sign-in throttle, shared by every instance.

use sqlx::Row;

use crate::{Database, StoreError};

/// What a counter counts: failures for one username, or for one client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Failed passwords for a normalised username, whether or not it has an account.
    Username,
    /// Failed passwords from a client address.
    ClientAddress,
    /// Sign-ups from a client address that hit an existing username.
    SignUpAddress,
    /// Password reset requests from a client address.
    ResetAddress,
    /// Invitations of one account that hit an address taken by another account.
    InvitationTaken,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::ClientAddress => "client_address",
            Self::SignUpAddress => "sign_up_address",
            Self::ResetAddress => "reset_address",
            Self::InvitationTaken => "invitation_taken",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: i64,
    pub last_failure_at: i64,
}

pub async fn get(database: &Database, scope: Scope, subject: &str) -> Result<Counter, StoreError> {
    let row = sqlx::query("SELECT failures, last_failure_at FROM throttle_counters WHERE scope = $1 AND subject = $2")
        .bind(scope.as_str())
        .bind(subject)
        .fetch_optional(database.pool())
        .await?;

    match row {
        Some(row) => Ok(Counter { failures: row.try_get("failures")?, last_failure_at: row.try_get("last_failure_at")? }),
        None => Ok(Counter::default()),
    }
}

/// Adds one failure atomically and returns the new count.
pub async fn record_failure(database: &Database, scope: Scope, subject: &str, now: i64) -> Result<i64, StoreError> {
    let failures: i64 = sqlx::query_scalar(
        "INSERT INTO throttle_counters (scope, subject, failures, last_failure_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (scope, subject) DO UPDATE SET failures = throttle_counters.failures + 1, last_failure_at = $3 \
         RETURNING failures",
    )
    .bind(scope.as_str())
    .bind(subject)
    .bind(now)
    .fetch_one(database.pool())
    .await?;
    Ok(failures)
}

/// Clears a counter; returns whether there was one.
pub async fn reset(database: &Database, scope: Scope, subject: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM throttle_counters WHERE scope = $1 AND subject = $2")
        .bind(scope.as_str())
        .bind(subject)
        .execute(database.pool())
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Clears the failed-password counters of a username and of a client address in one statement,
/// as after a correct password.
pub async fn reset_password_counters(database: &Database, username: &str, client_address: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM throttle_counters WHERE (scope = $1 AND subject = $2) OR (scope = $3 AND subject = $4)")
        .bind(Scope::Username.as_str())
        .bind(username)
        .bind(Scope::ClientAddress.as_str())
        .bind(client_address)
        .execute(database.pool())
        .await?;
    Ok(())
}
