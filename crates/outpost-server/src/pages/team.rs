//! The Team page of the Team Master: members with their two-factor status, two-factor
//! requirements, CSV export, resetting a member's two-factor and removing a member.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use outpost_domain::FieldErrors;
use outpost_store::audit::{self, Entry, Event};
use outpost_store::sessions::SessionUser;
use outpost_store::team::{self, Member};
use outpost_store::two_factor;
use outpost_store::users::Role;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfToken;
use crate::auth::reauthentication::check_password;
use crate::auth::two_factor::send_notice;
use crate::client_address::ClientAddress;
use crate::clock::format_utc;
use crate::csv;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::{Chrome, password_refusal, render, render_refusal, session_audit_entry};
use crate::state::AppState;

const SECTION: &str = "team";

pub struct MemberRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub role: &'static str,
    pub two_factor: &'static str,
    pub last_sign_in: String,
    pub is_team_master: bool,
    pub required_by_master: bool,
    pub has_two_factor: bool,
}

pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub require_two_factor: bool,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    chrome: Chrome,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    team_requires_two_factor: bool,
    filter: String,
    notice: Option<String>,
    alert: Option<String>,
}

#[derive(Template)]
#[template(path = "member_action.html")]
struct MemberActionPage {
    chrome: Chrome,
    heading: String,
    explanation: String,
    action: String,
    button: &'static str,
    ask_password: bool,
    errors: FieldErrors,
    alert: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TeamQuery {
    two_factor: Option<String>,
    done: Option<String>,
}

/// The two-factor status shown for a member.
fn two_factor_status(member: &Member, team_requires: bool) -> &'static str {
    if member.has_two_factor {
        "Enabled"
    } else if member.two_factor_required || team_requires {
        "Required, not set up"
    } else {
        "Not set up"
    }
}

fn matches_filter(member: &Member, team_requires: bool, filter: &str) -> bool {
    let required = member.two_factor_required || team_requires;
    match filter {
        "enabled" => member.has_two_factor,
        "not_set_up" => !member.has_two_factor && !required,
        "required" => !member.has_two_factor && required,
        _ => true,
    }
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::TeamMaster => "Team Master",
        Role::TeamMember => "Team Member",
    }
}

async fn filtered_members(state: &AppState, account_id: &str, filter: &str) -> Result<(Vec<Member>, bool), AppError> {
    let team_requires = team::account_requires_two_factor(&state.database, account_id).await?;
    let members = team::members(&state.database, account_id)
        .await?
        .into_iter()
        .filter(|member| matches_filter(member, team_requires, filter))
        .collect();
    Ok((members, team_requires))
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Query(query): Query<TeamQuery>,
) -> Result<Response, AppError> {
    let filter = query.two_factor.unwrap_or_default();
    let (members, team_requires) = filtered_members(&state, &user.account_id, &filter).await?;
    let now = state.now();

    let members = members
        .into_iter()
        .map(|member| MemberRow {
            two_factor: two_factor_status(&member, team_requires),
            last_sign_in: member.last_sign_in_at.map_or_else(|| "never".to_owned(), format_utc),
            role: role_label(member.role),
            is_team_master: member.role == Role::TeamMaster,
            required_by_master: member.two_factor_required,
            has_two_factor: member.has_two_factor,
            id: member.id,
            username: member.username,
            name: member.name,
        })
        .collect();

    let invitations = team::pending_invitations(&state.database, &user.account_id)
        .await?
        .into_iter()
        .map(|invitation| InvitationRow {
            expires: if invitation.expires_at <= now { "expired".to_owned() } else { format_utc(invitation.expires_at) },
            id: invitation.id,
            email: invitation.email,
            name: invitation.name,
            require_two_factor: invitation.require_two_factor,
        })
        .collect();

    let notice = match query.done.as_deref() {
        Some("invited") => Some("Invitation sent.".to_owned()),
        Some("resent") => Some("Invitation sent again with a new link; the earlier link no longer works.".to_owned()),
        Some("cancelled") => Some("Invitation cancelled: its link no longer works.".to_owned()),
        Some("removed") => Some("Member removed: their sessions have ended.".to_owned()),
        Some("reset") => Some("The member's two-factor authentication was reset.".to_owned()),
        Some("saved") => Some("Two-factor requirement saved.".to_owned()),
        _ => None,
    };

    let page = TeamPage {
        chrome: Chrome::new(Some(&user), &csrf, SECTION),
        members,
        invitations,
        team_requires_two_factor: team_requires,
        filter,
        notice,
        alert: None,
    };
    render(StatusCode::OK, &page)
}

pub async fn export_csv(State(state): State<AppState>, CurrentUser(user): CurrentUser, Query(query): Query<TeamQuery>) -> Result<Response, AppError> {
    let filter = query.two_factor.unwrap_or_default();
    let (members, team_requires) = filtered_members(&state, &user.account_id, &filter).await?;

    let mut body = csv::row(&["username", "name", "role", "two_factor", "last_sign_in_utc"]);
    for member in &members {
        let last_sign_in = member.last_sign_in_at.map_or_else(String::new, format_utc);
        body.push_str(&csv::row(&[&member.username, &member.name, role_label(member.role), two_factor_status(member, team_requires), &last_sign_in]));
    }

    let headers = [
        (CONTENT_TYPE, "text/csv; charset=utf-8"),
        (CONTENT_DISPOSITION, "attachment; filename=\"outpost-team.csv\""),
        (CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, body).into_response())
}

pub async fn submit_team_requirement(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    let required = form.text("required") == "yes";
    team::set_account_requires_two_factor(&state.database, &user.account_id, required).await?;

    let detail = if required { "required team-wide" } else { "no longer required team-wide" };
    audit::record(&state.database, Event::TeamTwoFactorRequirementChanged, session_audit_entry(&user, &client.text(), detail), state.now()).await?;
    tracing::info!(account.id = %user.account_id, required, "team-wide two-factor requirement changed");
    Ok(Redirect::to("/team?done=saved").into_response())
}

/// Finds a Team Member of the caller's account; the Team Master and ids of other accounts
/// are not found.
async fn team_member(state: &AppState, user: &SessionUser, member_id: &str) -> Result<Member, AppError> {
    match team::member(&state.database, &user.account_id, member_id).await? {
        Some(member) if member.role == Role::TeamMember => Ok(member),
        _ => Err(AppError::NotFound),
    }
}

pub async fn submit_member_requirement(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    client: ClientAddress,
    Path(member_id): Path<String>,
    form: Form,
) -> Result<Response, AppError> {
    let member = team_member(&state, &user, &member_id).await?;
    let required = form.text("required") == "yes";
    team::set_member_requires_two_factor(&state.database, &user.account_id, &member.id, required).await?;

    let detail = format!("{} for {}", if required { "required" } else { "no longer required" }, member.username);
    audit::record(&state.database, Event::MemberTwoFactorRequirementChanged, session_audit_entry(&user, &client.text(), &detail), state.now()).await?;
    Ok(Redirect::to("/team?done=saved").into_response())
}

fn reset_page(user: &SessionUser, csrf: &CsrfToken, member: &Member) -> MemberActionPage {
    MemberActionPage {
        chrome: Chrome::new(Some(user), csrf, SECTION),
        heading: format!("Reset two-factor of {}", member.username),
        explanation: "Their authenticator key, recovery codes and trusted devices are removed, and they are told by email. \
                      If two-factor is required of them, their next request takes them to set it up again."
            .to_owned(),
        action: format!("/team/members/{}/reset-two-factor", member.id),
        button: "Reset two-factor",
        ask_password: true,
        errors: FieldErrors::new(),
        alert: None,
    }
}

pub async fn show_reset_two_factor(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Path(member_id): Path<String>,
) -> Result<Response, AppError> {
    let member = team_member(&state, &user, &member_id).await?;
    render(StatusCode::OK, &reset_page(&user, &csrf, &member))
}

pub async fn submit_reset_two_factor(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    Path(member_id): Path<String>,
    form: Form,
) -> Result<Response, AppError> {
    let member = team_member(&state, &user, &member_id).await?;
    let address = client.text();

    let check = check_password(&state, &user.user_id, &user.username, &address, form.text("password")).await?;
    if let Some(refusal) = password_refusal(check, &state) {
        let mut page = reset_page(&user, &csrf, &member);
        page.errors.add("password", refusal.message.clone());
        return render_refusal(&page, &refusal);
    }

    two_factor::disable(&state.database, &member.id).await?;
    let detail = format!("of {} by the Team Master", member.username);
    let now = state.now();
    let member_entry = Entry {
        actor: &user.username,
        user_id: Some(&member.id),
        account_id: Some(&user.account_id),
        client_address: Some(&address),
        detail: &detail,
    };
    audit::record(&state.database, Event::TwoFactorReset, member_entry, now).await?;
    send_notice(
        &state,
        &member.id,
        &member.username,
        "Your Outpost two-factor authentication was reset",
        "Your Team Master reset your two-factor authentication: your authenticator key, recovery codes and trusted devices were removed. Set it up again on the Two-factor page.",
    );
    tracing::info!(user.id = %member.id, account.id = %user.account_id, "Team Master reset a member's two-factor");
    Ok(Redirect::to("/team?done=reset").into_response())
}

fn remove_page(user: &SessionUser, csrf: &CsrfToken, member: &Member) -> MemberActionPage {
    MemberActionPage {
        chrome: Chrome::new(Some(user), csrf, SECTION),
        heading: format!("Remove {}", member.username),
        explanation: "They are signed out at once and can no longer sign in. The audit log keeps their entries.".to_owned(),
        action: format!("/team/members/{}/remove", member.id),
        button: "Remove member",
        ask_password: false,
        errors: FieldErrors::new(),
        alert: None,
    }
}

const KEEP_TEAM_MASTER: &str = "An account always keeps its Team Master, so you cannot remove yourself.";

pub async fn show_remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    Path(member_id): Path<String>,
) -> Result<Response, AppError> {
    if member_id == user.user_id {
        return Err(AppError::Conflict(KEEP_TEAM_MASTER.to_owned()));
    }
    let member = team_member(&state, &user, &member_id).await?;
    render(StatusCode::OK, &remove_page(&user, &csrf, &member))
}

pub async fn submit_remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    client: ClientAddress,
    Path(member_id): Path<String>,
    _form: Form,
) -> Result<Response, AppError> {
    if member_id == user.user_id {
        return Err(AppError::Conflict(KEEP_TEAM_MASTER.to_owned()));
    }
    let member = team_member(&state, &user, &member_id).await?;
    if !team::remove_member(&state.database, &user.account_id, &member.id).await? {
        return Err(AppError::NotFound);
    }

    let detail = format!("removed {}", member.username);
    let member_entry = Entry {
        actor: &user.username,
        user_id: Some(&member.id),
        account_id: Some(&user.account_id),
        client_address: Some(&client.text()),
        detail: &detail,
    };
    audit::record(&state.database, Event::MemberRemoved, member_entry, state.now()).await?;
    tracing::info!(user.id = %member.id, account.id = %user.account_id, "Team Master removed a member");
    Ok(Redirect::to("/team?done=removed").into_response())
}
