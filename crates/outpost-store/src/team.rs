//! The team of an account: its users, two-factor requirements and invitations. Every query
//! is scoped by the account id of the caller.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::users::{Role, User};
use crate::{Database, StoreError, new_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub username: String,
    pub name: String,
    pub role: Role,
    /// Required of this member by the Team Master (the team-wide setting is separate).
    pub two_factor_required: bool,
    pub has_two_factor: bool,
    pub last_sign_in_at: Option<i64>,
}

fn member_from_row(row: &AnyRow) -> Result<Member, sqlx::Error> {
    let role: String = row.try_get("role")?;
    let required: i64 = row.try_get("two_factor_required")?;
    let has_two_factor: i64 = row.try_get("has_two_factor")?;
    Ok(Member {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        role: if role == "team_master" { Role::TeamMaster } else { Role::TeamMember },
        two_factor_required: required != 0,
        has_two_factor: has_two_factor != 0,
        last_sign_in_at: row.try_get("last_sign_in_at")?,
    })
}

/// The account's users, Team Master first, then by username.
pub async fn members(database: &Database, account_id: &str) -> Result<Vec<Member>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.name, u.role, u.two_factor_required, u.last_sign_in_at, \
         CAST(CASE WHEN t.user_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_two_factor \
         FROM users u LEFT JOIN totp_credentials t ON t.user_id = u.id WHERE u.account_id = $1 \
         ORDER BY CASE WHEN u.role = 'team_master' THEN 0 ELSE 1 END, u.username_normalized",
    )
    .bind(account_id)
    .fetch_all(database.pool())
    .await?;
    Ok(rows.iter().map(member_from_row).collect::<Result<_, _>>()?)
}

pub async fn member(database: &Database, account_id: &str, user_id: &str) -> Result<Option<Member>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.name, u.role, u.two_factor_required, u.last_sign_in_at, \
         CAST(CASE WHEN t.user_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_two_factor \
         FROM users u LEFT JOIN totp_credentials t ON t.user_id = u.id WHERE u.account_id = $1 AND u.id = $2",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_optional(database.pool())
    .await?;
    Ok(row.as_ref().map(member_from_row).transpose()?)
}

pub async fn account_requires_two_factor(database: &Database, account_id: &str) -> Result<bool, StoreError> {
    let required: i64 = sqlx::query_scalar("SELECT require_two_factor FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(database.pool())
        .await?;
    Ok(required != 0)
}

pub async fn set_account_requires_two_factor(database: &Database, account_id: &str, required: bool) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET require_two_factor = $1 WHERE id = $2")
        .bind(i64::from(required))
        .bind(account_id)
        .execute(database.pool())
        .await?;
    Ok(())
}

/// Sets whether two-factor is required of one member; false when the account has no such user.
pub async fn set_member_requires_two_factor(database: &Database, account_id: &str, user_id: &str, required: bool) -> Result<bool, StoreError> {
    let updated = sqlx::query("UPDATE users SET two_factor_required = $1 WHERE id = $2 AND account_id = $3")
        .bind(i64::from(required))
        .bind(user_id)
        .bind(account_id)
        .execute(database.pool())
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// Deletes a Team Member with everything of theirs (sessions, trusted devices, second
/// factor) in one statement; the audit log keeps their entries. The Team Master is never
/// removed. Returns false when the account has no such member.
pub async fn remove_member(database: &Database, account_id: &str, user_id: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM users WHERE id = $1 AND account_id = $2 AND role = 'team_member'")
        .bind(user_id)
        .bind(account_id)
        .execute(database.pool())
        .await?;
    Ok(deleted.rows_affected() == 1)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub require_two_factor: bool,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
}

fn invitation_from_row(row: &AnyRow) -> Result<Invitation, sqlx::Error> {
    let required: i64 = row.try_get("require_two_factor")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        require_two_factor: required != 0,
        invited_by: row.try_get("invited_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

pub struct NewInvitation<'a> {
    pub account_id: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub name: &'a str,
    pub require_two_factor: bool,
    pub token_hash: &'a str,
    pub invited_by: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationCreated {
    Created(String),
    /// An unexpired invitation to this address is pending in the account.
    AlreadyPending,
}

/// Stores an invitation. An expired pending invitation to the same address is cancelled
/// first; an unexpired one makes this fail, decided by a unique index.
pub async fn create_invitation(database: &Database, invitation: NewInvitation<'_>) -> Result<InvitationCreated, StoreError> {
    let id = new_id();
    let mut transaction = database.pool().begin().await?;

    sqlx::query(
        "UPDATE invitations SET cancelled_at = $1 WHERE account_id = $2 AND email_normalized = $3 \
         AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at <= $1",
    )
    .bind(invitation.now)
    .bind(invitation.account_id)
    .bind(invitation.email_normalized)
    .execute(&mut *transaction)
    .await?;

    let inserted = sqlx::query(
        "INSERT INTO invitations (id, account_id, email, email_normalized, name, require_two_factor, token_hash, invited_by, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(invitation.account_id)
    .bind(invitation.email)
    .bind(invitation.email_normalized)
    .bind(invitation.name)
    .bind(i64::from(invitation.require_two_factor))
    .bind(invitation.token_hash)
    .bind(invitation.invited_by)
    .bind(invitation.now)
    .bind(invitation.expires_at)
    .execute(&mut *transaction)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if StoreError::is_unique_violation(&error) => return Ok(InvitationCreated::AlreadyPending),
        Err(error) => return Err(error.into()),
    }

    transaction.commit().await?;
    Ok(InvitationCreated::Created(id))
}

/// Invitations of the account not yet accepted or cancelled, expired ones included, newest
/// first.
pub async fn pending_invitations(database: &Database, account_id: &str) -> Result<Vec<Invitation>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, account_id, email, name, require_two_factor, invited_by, created_at, expires_at FROM invitations \
         WHERE account_id = $1 AND accepted_at IS NULL AND cancelled_at IS NULL ORDER BY created_at DESC, id DESC",
    )
    .bind(account_id)
    .fetch_all(database.pool())
    .await?;
    Ok(rows.iter().map(invitation_from_row).collect::<Result<_, _>>()?)
}

pub async fn pending_invitation(database: &Database, account_id: &str, invitation_id: &str) -> Result<Option<Invitation>, StoreError> {
    let row = sqlx::query(
        "SELECT id, account_id, email, name, require_two_factor, invited_by, created_at, expires_at FROM invitations \
         WHERE account_id = $1 AND id = $2 AND accepted_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(account_id)
    .bind(invitation_id)
    .fetch_optional(database.pool())
    .await?;
    Ok(row.as_ref().map(invitation_from_row).transpose()?)
}

/// The usable invitation with this token digest: not accepted, not cancelled, not expired.
pub async fn usable_invitation(database: &Database, token_hash: &str, now: i64) -> Result<Option<Invitation>, StoreError> {
    let row = sqlx::query(
        "SELECT id, account_id, email, name, require_two_factor, invited_by, created_at, expires_at FROM invitations \
         WHERE token_hash = $1 AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(database.pool())
    .await?;
    Ok(row.as_ref().map(invitation_from_row).transpose()?)
}

/// Gives a pending invitation a new token and a new expiry (resending voids the old link).
pub async fn renew_invitation(
    database: &Database,
    account_id: &str,
    invitation_id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE invitations SET token_hash = $1, created_at = $2, expires_at = $3 \
         WHERE id = $4 AND account_id = $5 AND accepted_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .bind(invitation_id)
    .bind(account_id)
    .execute(database.pool())
    .await?;
    Ok(updated.rows_affected() == 1)
}

pub async fn cancel_invitation(database: &Database, account_id: &str, invitation_id: &str, now: i64) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE invitations SET cancelled_at = $1 WHERE id = $2 AND account_id = $3 AND accepted_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(now)
    .bind(invitation_id)
    .bind(account_id)
    .execute(database.pool())
    .await?;
    Ok(updated.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub enum Acceptance {
    Accepted(User),
    /// Used, cancelled, expired or unknown.
    Unusable,
    /// The address got an account elsewhere since the invitation was sent.
    UsernameTaken,
}

/// Uses up the invitation and creates the Team Member with the given password hash, in one
/// transaction; of two concurrent acceptances only one succeeds.
pub async fn accept_invitation(database: &Database, token_hash: &str, password_hash: &str, now: i64) -> Result<Acceptance, StoreError> {
    let mut transaction = database.pool().begin().await?;

    let row = sqlx::query(
        "UPDATE invitations SET accepted_at = $1 WHERE token_hash = $2 AND accepted_at IS NULL AND cancelled_at IS NULL \
         AND expires_at > $1 RETURNING account_id, email, email_normalized, name, require_two_factor",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(row) = row else {
        return Ok(Acceptance::Unusable);
    };

    let account_id: String = row.try_get("account_id")?;
    let email: String = row.try_get("email")?;
    let email_normalized: String = row.try_get("email_normalized")?;
    let name: String = row.try_get("name")?;
    let required: i64 = row.try_get("require_two_factor")?;
    let user_id = new_id();

    let inserted = sqlx::query(
        "INSERT INTO users (id, account_id, username, username_normalized, password_hash, role, created_at, password_changed_at, \
         name, two_factor_required) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)",
    )
    .bind(&user_id)
    .bind(&account_id)
    .bind(&email)
    .bind(&email_normalized)
    .bind(password_hash)
    .bind(Role::TeamMember.as_str())
    .bind(now)
    .bind(&name)
    .bind(required)
    .execute(&mut *transaction)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if StoreError::is_unique_violation(&error) => return Ok(Acceptance::UsernameTaken),
        Err(error) => return Err(error.into()),
    }

    transaction.commit().await?;
    Ok(Acceptance::Accepted(User {
        id: user_id,
        account_id,
        username: email,
        password_hash: password_hash.to_owned(),
        role: Role::TeamMember,
        created_at: now,
        password_changed_at: now,
        last_sign_in_at: None,
    }))
}
