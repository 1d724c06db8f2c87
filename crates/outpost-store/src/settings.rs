//! Server-wide settings shared by every instance on the same database.

use crate::{Database, StoreError};

const SECRET_KEY_FINGERPRINT: &str = "secret_key_fingerprint";

/// Outcome of comparing this instance's secret key with the one the database was set up with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// The database had no fingerprint; this instance's has been stored.
    Recorded,
    Matches,
    /// The database was set up with another key, whose fingerprint is given.
    Differs(String),
}

/// Stores `fingerprint` when the database has none yet, otherwise compares it.
pub async fn check_secret_key_fingerprint(database: &Database, fingerprint: &str) -> Result<KeyCheck, StoreError> {
    let inserted = sqlx::query("INSERT INTO server_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(SECRET_KEY_FINGERPRINT)
        .bind(fingerprint)
        .execute(database.pool())
        .await?;
    if inserted.rows_affected() == 1 {
        return Ok(KeyCheck::Recorded);
    }

    let stored: String = sqlx::query_scalar("SELECT value FROM server_settings WHERE name = $1")
        .bind(SECRET_KEY_FINGERPRINT)
        .fetch_one(database.pool())
        .await?;
    if stored == fingerprint { Ok(KeyCheck::Matches) } else { Ok(KeyCheck::Differs(stored)) }
}
