//! Invitations: the Team Master adds a member by email; the member opens the single-use link
//! (valid 72 hours), sets a password and is signed in.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use outpost_domain::FieldErrors;
use outpost_domain::email::EmailAddress;
use outpost_domain::fields::required_line;
use outpost_domain::throttle::Verdict;
use outpost_store::audit::{self, Event};
use outpost_store::sessions::SessionUser;
use outpost_store::team::{self, Acceptance, Invitation, InvitationCreated, NewInvitation};
use outpost_store::throttle::Scope;
use outpost_store::users;

use crate::auth::csrf::CsrfToken;
use crate::auth::token::Token;
use crate::auth::{CurrentUser, MaybeUser, session, throttle};
use crate::client_address::ClientAddress;
use crate::clock::format_wait;
use crate::error::AppError;
use crate::form::{self, Form};
use crate::pages::{Chrome, new_password, render, render_throttled, session_audit_entry, user_audit_entry};
use crate::state::AppState;

/// How long an invitation link works, in seconds.
pub const INVITATION_LIFETIME_SECONDS: i64 = 72 * 3600;

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    chrome: Chrome,
    email: String,
    member_name: String,
    require_two_factor: bool,
    errors: FieldErrors,
    alert: Option<String>,
}

#[derive(Template)]
#[template(path = "accept_invitation.html")]
struct AcceptPage {
    chrome: Chrome,
    invitation: Option<Invitation>,
    token: String,
    errors: FieldErrors,
    alert: Option<String>,
}

pub async fn show_invite(CurrentUser(user): CurrentUser, csrf: CsrfToken) -> Result<Response, AppError> {
    let page = InvitePage {
        chrome: Chrome::new(Some(&user), &csrf, "team"),
        email: String::new(),
        member_name: String::new(),
        require_two_factor: true,
        errors: FieldErrors::new(),
        alert: None,
    };
    render(StatusCode::OK, &page)
}

fn send_invitation(state: &AppState, inviter: &SessionUser, email: &str, name: &str, token: &Token) {
    let link = format!("{}/invitation?token={}", state.config.public_url, token.expose());
    let greeting = if name.is_empty() { "Hello".to_owned() } else { format!("Hello {name}") };
    let body = format!(
        "{greeting},\n\n{} invited you to their team on Outpost, the portal of their network-monitoring service.\n\n\
         To join, open this link within 72 hours and choose a password. It works once:\n\n{link}\n\n\
         If you did not expect this, ignore this message.\n",
        inviter.username
    );
    let mailer = state.mailer.clone();
    let recipient = email.to_owned();
    let account_id = inviter.account_id.clone();
    tokio::spawn(async move {
        if let Err(error) = mailer.send(&recipient, "You are invited to an Outpost team", body).await {
            tracing::error!(account.id = %account_id, error = format!("{error:#}"), "failed to send an invitation");
        }
    });
}

pub async fn submit_invite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    csrf: CsrfToken,
    client: ClientAddress,
    form: Form,
) -> Result<Response, AppError> {
    let mut page = InvitePage {
        chrome: Chrome::new(Some(&user), &csrf, "team"),
        email: form.text("email").to_owned(),
        member_name: form.text("name").to_owned(),
        require_two_factor: form.checkbox("require_two_factor"),
        errors: FieldErrors::new(),
        alert: None,
    };

    if let Verdict::Wait(seconds) = throttle::check_address(&state, Scope::InvitationTaken, &user.account_id).await? {
        page.alert = Some(format!("Too many invitations to addresses that already have an account. Try again in {}.", format_wait(seconds)));
        return render_throttled(&page, seconds);
    }

    let email = match EmailAddress::parse(form.text("email")) {
        Ok(email) => Some(email),
        Err(error) => {
            page.errors.add("email", error.to_string());
            None
        }
    };
    let name = required_line(&mut page.errors, "name", "Name", form.text("name"), 200);
    let Some(email) = email.filter(|_| page.errors.is_empty()) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };

    if let Some(existing) = users::find_by_username(&state.database, email.normalized()).await? {
        let message = if existing.account_id == user.account_id {
            "This address is already a member of your team."
        } else {
            throttle::record_address(&state, Scope::InvitationTaken, &user.account_id).await?;
            "This address already has an Outpost account of its own; an address can belong to one account only. Ask the person for another address."
        };
        page.errors.add("email", message);
        return render(StatusCode::CONFLICT, &page);
    }

    let token = Token::generate();
    let now = state.now();
    let created = team::create_invitation(
        &state.database,
        NewInvitation {
            account_id: &user.account_id,
            email: email.as_str(),
            email_normalized: email.normalized(),
            name: &name,
            require_two_factor: page.require_two_factor,
            token_hash: &token.digest(),
            invited_by: &user.username,
            now,
            expires_at: now + INVITATION_LIFETIME_SECONDS,
        },
    )
    .await?;
    if created == InvitationCreated::AlreadyPending {
        page.errors.add("email", "An invitation to this address is already waiting. Resend or cancel it on the Team page.");
        return render(StatusCode::CONFLICT, &page);
    }

    send_invitation(&state, &user, email.as_str(), &name, &token);
    let detail = format!("invited {}", email.as_str());
    let address = client.text();
    let entry = session_audit_entry(&user, &address, &detail);
    audit::record(&state.database, Event::MemberInvited, entry, now).await?;
    Ok(Redirect::to("/team?done=invited").into_response())
}

pub async fn resend(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    client: ClientAddress,
    Path(invitation_id): Path<String>,
    _form: Form,
) -> Result<Response, AppError> {
    let invitation = team::pending_invitation(&state.database, &user.account_id, &invitation_id).await?.ok_or(AppError::NotFound)?;
    let token = Token::generate();
    let now = state.now();
    if !team::renew_invitation(&state.database, &user.account_id, &invitation.id, &token.digest(), now, now + INVITATION_LIFETIME_SECONDS).await? {
        return Err(AppError::NotFound);
    }

    send_invitation(&state, &user, &invitation.email, &invitation.name, &token);
    let detail = format!("resent to {}", invitation.email);
    let address = client.text();
    let entry = session_audit_entry(&user, &address, &detail);
    audit::record(&state.database, Event::InvitationResent, entry, now).await?;
    Ok(Redirect::to("/team?done=resent").into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    client: ClientAddress,
    Path(invitation_id): Path<String>,
    _form: Form,
) -> Result<Response, AppError> {
    let invitation = team::pending_invitation(&state.database, &user.account_id, &invitation_id).await?.ok_or(AppError::NotFound)?;
    let now = state.now();
    if !team::cancel_invitation(&state.database, &user.account_id, &invitation.id, now).await? {
        return Err(AppError::NotFound);
    }

    let detail = format!("cancelled for {}", invitation.email);
    let address = client.text();
    let entry = session_audit_entry(&user, &address, &detail);
    audit::record(&state.database, Event::InvitationCancelled, entry, now).await?;
    Ok(Redirect::to("/team?done=cancelled").into_response())
}

fn token_from_query(query: Option<&str>) -> String {
    let fields = form::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    fields.get("token").cloned().unwrap_or_default()
}

fn unusable(chrome: Chrome) -> Result<Response, AppError> {
    let page = AcceptPage { chrome, invitation: None, token: String::new(), errors: FieldErrors::new(), alert: None };
    render(StatusCode::GONE, &page)
}

pub async fn show_accept(State(state): State<AppState>, MaybeUser(user): MaybeUser, csrf: CsrfToken, RawQuery(query): RawQuery) -> Result<Response, AppError> {
    let chrome = Chrome::new(user.as_ref(), &csrf, "sign-in");
    let token = token_from_query(query.as_deref());
    let invitation = team::usable_invitation(&state.database, &Token::from_client(&token).digest(), state.now()).await?;
    let Some(invitation) = invitation else {
        return unusable(chrome);
    };

    let page = AcceptPage { chrome, invitation: Some(invitation), token, errors: FieldErrors::new(), alert: None };
    render(StatusCode::OK, &page)
}

pub async fn submit_accept(
    State(state): State<AppState>,
    csrf: CsrfToken,
    client: ClientAddress,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, AppError> {
    let chrome = Chrome::new(None, &csrf, "sign-in");
    let token = Token::from_client(form.text("token"));
    let token_hash = token.digest();
    let Some(invitation) = team::usable_invitation(&state.database, &token_hash, state.now()).await? else {
        return unusable(chrome);
    };

    let mut page = AcceptPage { chrome, invitation: Some(invitation.clone()), token: token.expose().to_owned(), errors: FieldErrors::new(), alert: None };
    let email = EmailAddress::parse(&invitation.email).map_err(|error| AppError::Internal(anyhow::anyhow!("stored invitation address is invalid: {error}")))?;
    let password = new_password(&form, "password", "password_confirmation", Some(&email), &mut page.errors);
    let Some(password) = password.filter(|_| page.errors.is_empty()) else {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };

    let password_hash = state.hasher.hash(&password).await?;
    let now = state.now();
    let user = match team::accept_invitation(&state.database, &token_hash, &password_hash, now).await? {
        Acceptance::Accepted(user) => user,
        Acceptance::Unusable => return unusable(page.chrome),
        Acceptance::UsernameTaken => {
            page.alert = Some("This address got an Outpost account of its own since the invitation was sent, so it cannot join this team. Ask your Team Master to invite another address.".to_owned());
            return render(StatusCode::CONFLICT, &page);
        }
    };

    let address = client.text();
    let user_agent = headers.get(USER_AGENT).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let cookie = session::start(&state, &user.id, &address, user_agent, false).await?;
    users::record_sign_in(&state.database, &user.id, now).await?;
    let entry = user_audit_entry(&user, &address, "joined the team");
    audit::record(&state.database, Event::InvitationAccepted, entry, now).await?;
    tracing::info!(user.id = %user.id, account.id = %user.account_id, "invitation accepted");

    Ok((StatusCode::SEE_OTHER, [(SET_COOKIE, cookie), (LOCATION, HeaderValue::from_static("/"))]).into_response())
}
