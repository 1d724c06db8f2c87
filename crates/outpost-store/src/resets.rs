//! Single-use password reset tokens, stored as SHA-256 digests.

use crate::{Database, StoreError, new_id};

/// Stores a new reset token for the user and voids every earlier one, in one transaction.
pub async fn create(database: &Database, user_id: &str, token_hash: &str, now: i64, expires_at: i64) -> Result<(), StoreError> {
    let mut transaction = database.pool().begin().await?;

    sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *transaction)
        .await?;

    sqlx::query("INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(user_id)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *transaction)
        .await?;

    transaction.commit().await?;
    Ok(())
}

/// Returns the user id of an unused, unexpired token without using it up.
pub async fn peek(database: &Database, token_hash: &str, now: i64) -> Result<Option<String>, StoreError> {
    let user_id = sqlx::query_scalar("SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
        .bind(token_hash)
        .bind(now)
        .fetch_optional(database.pool())
        .await?;
    Ok(user_id)
}

/// Uses up the token and sets the new password hash, ending every session of the user and
/// removing the user's trusted devices, in one transaction. Returns the user id, or `None` when the token is unknown, used or expired;
/// of two concurrent calls with one token, only one succeeds.
pub async fn consume(database: &Database, token_hash: &str, password_hash: &str, now: i64) -> Result<Option<String>, StoreError> {
    let mut transaction = database.pool().begin().await?;

    let user_id: Option<String> = sqlx::query_scalar(
        "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };

    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(&user_id)
        .execute(&mut *transaction)
        .await?;

    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(&user_id)
        .execute(&mut *transaction)
        .await?;

    sqlx::query("DELETE FROM trusted_devices WHERE user_id = $1")
        .bind(&user_id)
        .execute(&mut *transaction)
        .await?;

    transaction.commit().await?;
    Ok(Some(user_id))
}
