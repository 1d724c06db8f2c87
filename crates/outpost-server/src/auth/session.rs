//! Server-side sessions: a random token in an HttpOnly cookie, stored as a digest, ending
//! after the idle or the absolute lifetime, whichever comes first.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::request::Parts;
use outpost_store::sessions::{self, NewSession, SessionUser};
use outpost_store::users::Role;

use crate::auth::csrf::read_cookie;
use crate::auth::token::Token;
use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "outpost_session";

/// `last_seen_at` is written at most this often, in seconds, to spare the database a write
/// per request.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// The user of a request on a route that requires a session: a signed-in user, or on the
/// code page a user who still owes the second factor.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionUser);

impl CurrentUser {
    pub fn is_team_master(&self) -> bool {
        self.0.role == Role::TeamMaster
    }
}

/// The signed-in user, if any, on a route open to everyone.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<SessionUser>);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        match parts.extensions.get::<MaybeUser>() {
            Some(MaybeUser(Some(user))) => Ok(Self(user.clone())),
            _ => Err(AppError::Unauthorized),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        Ok(parts.extensions.get::<MaybeUser>().cloned().unwrap_or(MaybeUser(None)))
    }
}

/// Finds the live session named by the request's cookie. An expired session is deleted and
/// treated as absent.
pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Option<SessionUser>, AppError> {
    let Some(cookie) = read_cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let token = Token::from_client(cookie);
    let Some(session) = sessions::find_by_token_hash(&state.database, &token.digest()).await? else {
        return Ok(None);
    };

    let now = state.now();
    let idle_expired = now - session.last_seen_at >= state.config.session_idle_seconds;
    if idle_expired || now >= session.expires_at {
        sessions::delete(&state.database, &session.session_id).await?;
        tracing::info!(session.id = %session.session_id, user.id = %session.user_id, idle_expired, "session expired");
        return Ok(None);
    }

    if now - session.last_seen_at >= TOUCH_INTERVAL_SECONDS {
        sessions::touch(&state.database, &session.session_id, now).await?;
    }
    Ok(Some(session))
}

/// Starts a new session for the user and returns the `Set-Cookie` value carrying its token.
/// A session with `second_factor_pending` reaches only the code page and sign-out.
pub async fn start(
    state: &AppState,
    user_id: &str,
    client_address: &str,
    user_agent: &str,
    second_factor_pending: bool,
) -> Result<HeaderValue, AppError> {
    let token = Token::generate();
    let now = state.now();
    let session_id = outpost_store::new_id();
    let user_agent: String = user_agent.chars().take(512).collect();

    sessions::insert(
        &state.database,
        NewSession {
            id: &session_id,
            token_hash: &token.digest(),
            user_id,
            now,
            expires_at: now + state.config.session_absolute_seconds,
            client_address,
            user_agent: &user_agent,
            second_factor_pending,
        },
    )
    .await?;

    let secure = if state.config.uses_https() { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}", token.expose());
    HeaderValue::from_str(&cookie).map_err(|error| AppError::Internal(error.into()))
}

/// A `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.config.uses_https() { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}");
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("outpost_session=; Path=/; Max-Age=0"))
}
