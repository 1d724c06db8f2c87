//! Two-factor authentication data: the TOTP credential, a pending enrolment, recovery codes
//! and trusted devices. Secrets arrive already encrypted, and codes and tokens as digests.

use sqlx::Row;

use crate::{Database, StoreError, new_id};

#[derive(Clone)]
pub struct Credential {
    pub secret_ciphertext: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// The last time step whose code was accepted; a code is accepted only for a later step.
    pub last_step: i64,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// Why a secret waits for confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentPurpose {
    /// Two-factor is being switched on.
    Enable,
    /// A new secret will replace the current one.
    Renew,
}

impl EnrollmentPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Enable => "enable",
            Self::Renew => "renew",
        }
    }
}

#[derive(Clone)]
pub struct Enrollment {
    pub secret_ciphertext: String,
    pub purpose: EnrollmentPurpose,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedDevice {
    pub id: String,
    /// SHA-256 digest of the cookie token, to recognise the browser asking.
    pub token_hash: String,
    pub user_agent: String,
    pub client_address: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
}

pub struct NewTrustedDevice<'a> {
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub user_agent: &'a str,
    pub client_address: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn credential(database: &Database, user_id: &str) -> Result<Option<Credential>, StoreError> {
    let row = sqlx::query("SELECT secret_ciphertext, created_at, last_used_at, last_step FROM totp_credentials WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(database.pool())
        .await?;

    let Some(row) = row else { return Ok(None) };
    Ok(Some(Credential {
        secret_ciphertext: row.try_get("secret_ciphertext")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        last_step: row.try_get("last_step")?,
    }))
}

/// Stores a secret awaiting confirmation, replacing any earlier one.
pub async fn save_enrollment(
    database: &Database,
    user_id: &str,
    secret_ciphertext: &str,
    purpose: EnrollmentPurpose,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO totp_enrollments (user_id, secret_ciphertext, purpose, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = $2, purpose = $3, created_at = $4",
    )
    .bind(user_id)
    .bind(secret_ciphertext)
    .bind(purpose.as_str())
    .bind(now)
    .execute(database.pool())
    .await?;
    Ok(())
}

pub async fn enrollment(database: &Database, user_id: &str) -> Result<Option<Enrollment>, StoreError> {
    let row = sqlx::query("SELECT secret_ciphertext, purpose, created_at FROM totp_enrollments WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(database.pool())
        .await?;

    let Some(row) = row else { return Ok(None) };
    let purpose: String = row.try_get("purpose")?;
    Ok(Some(Enrollment {
        secret_ciphertext: row.try_get("secret_ciphertext")?,
        purpose: if purpose == "renew" { EnrollmentPurpose::Renew } else { EnrollmentPurpose::Enable },
        created_at: row.try_get("created_at")?,
    }))
}

/// Makes the enrolled secret the user's credential, with `step` as its last accepted step, in
/// one transaction: the enrolment is consumed, and for a first enrolment the recovery codes
/// are stored. Returns false when the enrolment is gone, so a double submission activates once.
pub async fn activate(
    database: &Database,
    user_id: &str,
    secret_ciphertext: &str,
    step: i64,
    recovery_code_hashes: &[String],
    now: i64,
) -> Result<bool, StoreError> {
    let mut transaction = database.pool().begin().await?;

    let consumed = sqlx::query("DELETE FROM totp_enrollments WHERE user_id = $1 AND secret_ciphertext = $2")
        .bind(user_id)
        .bind(secret_ciphertext)
        .execute(&mut *transaction)
        .await?;
    if consumed.rows_affected() != 1 {
        return Ok(false);
    }

    sqlx::query(
        "INSERT INTO totp_credentials (user_id, secret_ciphertext, created_at, last_used_at, last_step) VALUES ($1, $2, $3, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = $2, created_at = $3, last_used_at = $3, last_step = $4",
    )
    .bind(user_id)
    .bind(secret_ciphertext)
    .bind(now)
    .bind(step)
    .execute(&mut *transaction)
    .await?;

    if !recovery_code_hashes.is_empty() {
        insert_recovery_codes(&mut transaction, user_id, recovery_code_hashes, now).await?;
    }

    transaction.commit().await?;
    Ok(true)
}

async fn insert_recovery_codes(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut **transaction).await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)")
            .bind(new_id())
            .bind(user_id)
            .bind(hash)
            .bind(now)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(())
}

/// Records that the code of `step` was used, in one conditional update: true only when
/// `step` is later than the last accepted step, so two requests with the same code cannot
/// both pass.
pub async fn accept_step(database: &Database, user_id: &str, step: i64, now: i64) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE totp_credentials SET last_step = $1, last_used_at = $2 WHERE user_id = $3 AND last_step < $1")
        .bind(step)
        .bind(now)
        .bind(user_id)
        .execute(database.pool())
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// Replaces the user's recovery codes with a new set.
pub async fn replace_recovery_codes(database: &Database, user_id: &str, hashes: &[String], now: i64) -> Result<(), StoreError> {
    let mut transaction = database.pool().begin().await?;
    insert_recovery_codes(&mut transaction, user_id, hashes, now).await?;
    transaction.commit().await?;
    Ok(())
}

/// Uses up a recovery code; true only for the first use of an existing code.
pub async fn use_recovery_code(database: &Database, user_id: &str, code_hash: &str, now: i64) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
        .bind(now)
        .bind(user_id)
        .bind(code_hash)
        .execute(database.pool())
        .await?;
    Ok(updated.rows_affected() == 1)
}

pub async fn unused_recovery_codes(database: &Database, user_id: &str) -> Result<i64, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(database.pool())
        .await?;
    Ok(count)
}

/// Removes the credential, any enrolment, the recovery codes and the trusted devices, in one
/// transaction. Returns whether two-factor was on.
pub async fn disable(database: &Database, user_id: &str) -> Result<bool, StoreError> {
    let mut transaction = database.pool().begin().await?;

    let removed = sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1").bind(user_id).execute(&mut *transaction).await?;
    for statement in [
        "DELETE FROM totp_enrollments WHERE user_id = $1",
        "DELETE FROM recovery_codes WHERE user_id = $1",
        "DELETE FROM trusted_devices WHERE user_id = $1",
    ] {
        sqlx::query(statement).bind(user_id).execute(&mut *transaction).await?;
    }

    transaction.commit().await?;
    Ok(removed.rows_affected() == 1)
}

pub async fn add_trusted_device(database: &Database, device: NewTrustedDevice<'_>) -> Result<String, StoreError> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO trusted_devices (id, user_id, token_hash, user_agent, client_address, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(&id)
    .bind(device.user_id)
    .bind(device.token_hash)
    .bind(device.user_agent)
    .bind(device.client_address)
    .bind(device.now)
    .bind(device.expires_at)
    .execute(database.pool())
    .await?;
    Ok(id)
}

/// Finds an unexpired trusted device of this user by its token digest and records its use.
/// A device of another user, or an expired one, is not found.
pub async fn use_trusted_device(database: &Database, user_id: &str, token_hash: &str, now: i64) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE trusted_devices SET last_used_at = $1 WHERE user_id = $2 AND token_hash = $3 AND expires_at > $1")
        .bind(now)
        .bind(user_id)
        .bind(token_hash)
        .execute(database.pool())
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// The user's unexpired trusted devices, most recently added first.
pub async fn trusted_devices(database: &Database, user_id: &str, now: i64) -> Result<Vec<TrustedDevice>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, token_hash, user_agent, client_address, created_at, last_used_at, expires_at FROM trusted_devices \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, id DESC",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(database.pool())
    .await?;

    rows.iter()
        .map(|row| {
            Ok(TrustedDevice {
                id: row.try_get("id")?,
                token_hash: row.try_get("token_hash")?,
                user_agent: row.try_get("user_agent")?,
                client_address: row.try_get("client_address")?,
                created_at: row.try_get("created_at")?,
                last_used_at: row.try_get("last_used_at")?,
                expires_at: row.try_get("expires_at")?,
            })
        })
        .collect()
}

/// Removes one of the user's trusted devices; false when the user has no device with that id.
pub async fn remove_trusted_device(database: &Database, user_id: &str, device_id: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM trusted_devices WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(device_id)
        .execute(database.pool())
        .await?;
    Ok(deleted.rows_affected() == 1)
}
