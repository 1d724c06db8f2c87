//! Accounts and their users.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, new_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    TeamMaster,
    TeamMember,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TeamMaster => "team_master",
            Self::TeamMember => "team_member",
        }
    }

    fn from_column(value: &str) -> Self {
        if value == "team_master" { Self::TeamMaster } else { Self::TeamMember }
    }
}

#[derive(Clone)]
pub struct User {
    pub id: String,
    pub account_id: String,
    /// As typed at sign-up, for display.
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: i64,
    pub password_changed_at: i64,
    pub last_sign_in_at: Option<i64>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        role: Role::from_column(&role),
        created_at: row.try_get("created_at")?,
        password_changed_at: row.try_get("password_changed_at")?,
        last_sign_in_at: row.try_get("last_sign_in_at")?,
    })
}

/// Creates an account and its Team Master in one transaction. Fails with
/// [`StoreError::UsernameTaken`] when the normalised username exists, also when two sign-ups
/// race: the unique constraint decides.
pub async fn create_account_with_team_master(
    database: &Database,
    username: &str,
    username_normalized: &str,
    password_hash: &str,
    now: i64,
) -> Result<User, StoreError> {
    let account_id = new_id();
    let user_id = new_id();
    let mut transaction = database.pool().begin().await?;

    sqlx::query("INSERT INTO accounts (id, created_at) VALUES ($1, $2)")
        .bind(&account_id)
        .bind(now)
        .execute(&mut *transaction)
        .await?;

    let inserted = sqlx::query(
        "INSERT INTO users (id, account_id, username, username_normalized, password_hash, role, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&user_id)
    .bind(&account_id)
    .bind(username)
    .bind(username_normalized)
    .bind(password_hash)
    .bind(Role::TeamMaster.as_str())
    .bind(now)
    .execute(&mut *transaction)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if StoreError::is_unique_violation(&error) => return Err(StoreError::UsernameTaken),
        Err(error) => return Err(error.into()),
    }

    transaction.commit().await?;

    Ok(User {
        id: user_id,
        account_id,
        username: username.to_owned(),
        password_hash: password_hash.to_owned(),
        role: Role::TeamMaster,
        created_at: now,
        password_changed_at: now,
        last_sign_in_at: None,
    })
}

pub async fn find_by_username(database: &Database, username_normalized: &str) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(
        "SELECT id, account_id, username, password_hash, role, created_at, password_changed_at, last_sign_in_at \
         FROM users WHERE username_normalized = $1",
    )
        .bind(username_normalized)
        .fetch_optional(database.pool())
        .await?;
    Ok(row.as_ref().map(user_from_row).transpose()?)
}

pub async fn find_by_id(database: &Database, user_id: &str) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(
        "SELECT id, account_id, username, password_hash, role, created_at, password_changed_at, last_sign_in_at \
         FROM users WHERE id = $1",
    )
        .bind(user_id)
        .fetch_optional(database.pool())
        .await?;
    Ok(row.as_ref().map(user_from_row).transpose()?)
}

/// Replaces the stored hash without counting as a password change (a rehash with new
/// parameters).
pub async fn update_password_hash(database: &Database, user_id: &str, password_hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(database.pool())
        .await?;
    Ok(())
}

pub async fn record_sign_in(database: &Database, user_id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(database.pool())
        .await?;
    Ok(())
}

/// Sets a new password, ends the user's sessions (all but `keep_session_id` when given) and
/// removes the user's trusted devices, in one transaction.
pub async fn change_password(
    database: &Database,
    user_id: &str,
    password_hash: &str,
    keep_session_id: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    let mut transaction = database.pool().begin().await?;

    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut *transaction)
        .await?;

    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(keep_session_id.unwrap_or(""))
        .execute(&mut *transaction)
        .await?;

    sqlx::query("DELETE FROM trusted_devices WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *transaction)
        .await?;

    transaction.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameChange {
    Changed { user_id: String, account_id: String, old_username: String },
    UnknownUser,
    Taken,
}

/// Changes a username and ends every session of the user, in one transaction.
pub async fn change_username(
    database: &Database,
    old_normalized: &str,
    new_username: &str,
    new_normalized: &str,
) -> Result<UsernameChange, StoreError> {
    let mut transaction = database.pool().begin().await?;

    let row = sqlx::query("SELECT id, account_id, username FROM users WHERE username_normalized = $1")
        .bind(old_normalized)
        .fetch_optional(&mut *transaction)
        .await?;
    let Some(row) = row else {
        return Ok(UsernameChange::UnknownUser);
    };
    let user_id: String = row.try_get("id")?;
    let account_id: String = row.try_get("account_id")?;
    let old_username: String = row.try_get("username")?;

    let updated = sqlx::query("UPDATE users SET username = $1, username_normalized = $2 WHERE id = $3")
        .bind(new_username)
        .bind(new_normalized)
        .bind(&user_id)
        .execute(&mut *transaction)
        .await;
    match updated {
        Ok(_) => {}
        Err(error) if StoreError::is_unique_violation(&error) => return Ok(UsernameChange::Taken),
        Err(error) => return Err(error.into()),
    }

    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(&user_id)
        .execute(&mut *transaction)
        .await?;

    transaction.commit().await?;
    Ok(UsernameChange::Changed { user_id, account_id, old_username })
}
