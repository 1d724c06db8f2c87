//! Server-side sessions, looked up by the SHA-256 digest of their cookie token.

use sqlx::Row;

use crate::users::Role;
use crate::{Database, StoreError};

pub struct NewSession<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub now: i64,
    /// Absolute expiry, unix seconds.
    pub expires_at: i64,
    pub client_address: &'a str,
    pub user_agent: &'a str,
    /// The password was right but the second factor is still owed.
    pub second_factor_pending: bool,
}

/// A live session together with the user it belongs to.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_id: String,
    pub account_id: String,
    pub username: String,
    pub role: Role,
    pub second_factor_pending: bool,
    /// Two-factor is required of this user, by the Team Master or team-wide.
    pub two_factor_required: bool,
    pub has_two_factor: bool,
}

impl SessionUser {
    /// Whether the user must set up two-factor before reaching anything else.
    pub fn must_set_up_two_factor(&self) -> bool {
        self.two_factor_required && !self.has_two_factor
    }
}

pub async fn insert(database: &Database, session: NewSession<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, client_address, user_agent, \
         second_factor_pending) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)",
    )
    .bind(session.id)
    .bind(session.token_hash)
    .bind(session.user_id)
    .bind(session.now)
    .bind(session.expires_at)
    .bind(session.client_address)
    .bind(session.user_agent)
    .bind(i64::from(session.second_factor_pending))
    .execute(database.pool())
    .await?;
    Ok(())
}

pub async fn find_by_token_hash(database: &Database, token_hash: &str) -> Result<Option<SessionUser>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id AS session_id, s.last_seen_at, s.expires_at, s.second_factor_pending, u.id AS user_id, u.account_id, \
         u.username, u.role, u.two_factor_required, a.require_two_factor, \
         CAST(CASE WHEN t.user_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_two_factor \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN accounts a ON a.id = u.account_id \
         LEFT JOIN totp_credentials t ON t.user_id = u.id WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(database.pool())
    .await?;

    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    let second_factor_pending: i64 = row.try_get("second_factor_pending")?;
    let member_required: i64 = row.try_get("two_factor_required")?;
    let account_required: i64 = row.try_get("require_two_factor")?;
    let has_two_factor: i64 = row.try_get("has_two_factor")?;
    Ok(Some(SessionUser {
        session_id: row.try_get("session_id")?,
        last_seen_at: row.try_get("last_seen_at")?,
        expires_at: row.try_get("expires_at")?,
        user_id: row.try_get("user_id")?,
        account_id: row.try_get("account_id")?,
        username: row.try_get("username")?,
        role: if role == "team_master" { Role::TeamMaster } else { Role::TeamMember },
        second_factor_pending: second_factor_pending != 0,
        two_factor_required: member_required != 0 || account_required != 0,
        has_two_factor: has_two_factor != 0,
    }))
}

pub async fn touch(database: &Database, session_id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(session_id)
        .execute(database.pool())
        .await?;
    Ok(())
}

pub async fn delete(database: &Database, session_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(session_id)
        .execute(database.pool())
        .await?;
    Ok(())
}

pub async fn delete_for_user(database: &Database, user_id: &str) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(database.pool())
        .await?;
    Ok(deleted.rows_affected())
}

/// Deletes sessions past their absolute expiry or idle for longer than `idle_seconds`.
pub async fn delete_expired(database: &Database, now: i64, idle_seconds: i64) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - idle_seconds)
        .execute(database.pool())
        .await?;
    Ok(deleted.rows_affected())
}

pub async fn count_for_user(database: &Database, user_id: &str) -> Result<i64, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(database.pool())
        .await?;
    Ok(count)
}
