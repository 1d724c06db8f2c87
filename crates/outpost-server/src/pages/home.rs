use axum::response::Redirect;

use crate::auth::MaybeUser;
use outpost_store::users::Role;

/// Sends the visitor to the first page that fits: Account Info for a Team Master, the
/// Security page for other users, sign-in otherwise.
pub async fn show(MaybeUser(user): MaybeUser) -> Redirect {
    match user {
        Some(user) if user.role == Role::TeamMaster => Redirect::to("/account"),
        Some(_) => Redirect::to("/security/password"),
        None => Redirect::to("/sign-in"),
    }
}
