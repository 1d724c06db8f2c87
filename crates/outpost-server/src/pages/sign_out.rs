use axum::extract::State;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_store::audit::{self, Event};
use outpost_store::sessions;

use crate::auth::CurrentUser;
use crate::client_address::ClientAddress;
use crate::error::AppError;
use crate::form::Form;
use crate::pages::session_audit_entry;
use crate::state::AppState;

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    client: ClientAddress,
    _form: Form,
) -> Result<Response, AppError> {
    sessions::delete(&state.database, &user.session_id).await?;

    let address = client.text();
    let entry = session_audit_entry(&user, &address, "");
    audit::record(&state.database, Event::SignOut, entry, state.now()).await?;
    tracing::info!(user.id = %user.user_id, "signed out");

    let headers = [
        (SET_COOKIE, crate::auth::session::clearing_cookie(&state)),
        (LOCATION, HeaderValue::from_static("/sign-in?signed_out=1")),
    ];
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}
