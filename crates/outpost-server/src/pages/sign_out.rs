use axum::extract::State;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_store::audit::{self, Entry, Event};
use outpost_store::sessions;

use crate::auth::CurrentUser;
use crate::client_address::ClientAddress;
use crate::error::AppError;
use crate::form::Form;
use crate::state::AppState;

pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    client: ClientAddress,
    _form: Form,
) -> Result<Response, AppError> {
    sessions::delete(&state.database, &user.session_id).await?;

    let address = client.text();
    let entry = Entry {
        actor: &user.username,
        user_id: Some(&user.user_id),
        account_id: Some(&user.account_id),
        client_address: Some(&address),
        detail: "",
    };
    audit::record(&state.database, Event::SignOut, entry, state.now()).await?;
    tracing::info!(user.id = %user.user_id, "signed out");

    let headers = [
        (SET_COOKIE, crate::auth::session::clearing_cookie(&state)),
        (LOCATION, HeaderValue::from_static("/sign-in?signed_out=1")),
    ];
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}
