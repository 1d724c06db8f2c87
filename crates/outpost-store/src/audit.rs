//! The audit log of security events. Entries are never changed or deleted, and they outlive
//! the users they name.

use sqlx::Row;

use crate::{Database, StoreError, new_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    SignUp,
    SignInSucceeded,
    SignInFailed,
    SignOut,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    UsernameChanged,
    AccountUnlocked,
    BillingDetailsChanged,
    TwoFactorEnabled,
    TwoFactorDisabled,
    TwoFactorRenewed,
    TwoFactorReset,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    TrustedDeviceAdded,
    TrustedDeviceRemoved,
    MemberInvited,
    InvitationResent,
    InvitationCancelled,
    InvitationAccepted,
    MemberRemoved,
    MemberTwoFactorRequirementChanged,
    TeamTwoFactorRequirementChanged,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::SignInSucceeded => "sign_in_succeeded",
            Self::SignInFailed => "sign_in_failed",
            Self::SignOut => "sign_out",
            Self::PasswordChanged => "password_changed",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::UsernameChanged => "username_changed",
            Self::AccountUnlocked => "account_unlocked",
            Self::BillingDetailsChanged => "billing_details_changed",
            Self::TwoFactorEnabled => "two_factor_enabled",
            Self::TwoFactorDisabled => "two_factor_disabled",
            Self::TwoFactorRenewed => "two_factor_renewed",
            Self::TwoFactorReset => "two_factor_reset",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::TrustedDeviceAdded => "trusted_device_added",
            Self::TrustedDeviceRemoved => "trusted_device_removed",
            Self::MemberInvited => "member_invited",
            Self::InvitationResent => "invitation_resent",
            Self::InvitationCancelled => "invitation_cancelled",
            Self::InvitationAccepted => "invitation_accepted",
            Self::MemberRemoved => "member_removed",
            Self::MemberTwoFactorRequirementChanged => "member_two_factor_requirement_changed",
            Self::TeamTwoFactorRequirementChanged => "team_two_factor_requirement_changed",
        }
    }
}

/// One entry. `actor` names who acted: a username, `support` for the command line, or
/// `anonymous`.
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    pub actor: &'a str,
    pub user_id: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub client_address: Option<&'a str>,
    pub detail: &'a str,
}

pub async fn record(database: &Database, event: Event, entry: Entry<'_>, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (id, occurred_at, event, actor, user_id, account_id, client_address, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(now)
    .bind(event.as_str())
    .bind(entry.actor)
    .bind(entry.user_id)
    .bind(entry.account_id)
    .bind(entry.client_address)
    .bind(entry.detail)
    .execute(database.pool())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub occurred_at: i64,
    pub event: String,
    pub actor: String,
    pub user_id: Option<String>,
    pub client_address: Option<String>,
    pub detail: String,
}

/// Entries of one account, newest first.
pub async fn list_for_account(database: &Database, account_id: &str, limit: i64) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT occurred_at, event, actor, user_id, client_address, detail FROM audit_events \
         WHERE account_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(database.pool())
    .await?;

    rows.iter()
        .map(|row| {
            Ok(StoredEntry {
                occurred_at: row.try_get("occurred_at")?,
                event: row.try_get("event")?,
                actor: row.try_get("actor")?,
                user_id: row.try_get("user_id")?,
                client_address: row.try_get("client_address")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect()
}
