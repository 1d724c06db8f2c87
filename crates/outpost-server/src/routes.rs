//! Every route of the server with its access rule, in one table. The router is built from
//! this table, and tests enumerate it to try each route as each kind of caller.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post, put};

use crate::auth::MaybeUser;
use crate::auth::session;
use crate::error::AppError;
use crate::ops;
use crate::agent;
use crate::agent::handlers::INVENTORY_BODY_LIMIT;
use crate::pages::{
    account_info, assets, change_password, change_username, collector_actions, collectors, home, invitations, password_reset, second_factor,
    sign_in, sign_out, sign_up, team, two_factor,
};
use crate::state::AppState;
use outpost_store::users::Role;

/// The code page, where a user who passed the password gives the second factor.
pub const SECOND_FACTOR_PATH: &str = "/sign-in/two-factor";

/// The two-factor page, where a user who must have two-factor sets it up.
pub const TWO_FACTOR_SETUP_PATH: &str = "/security/two-factor";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; the session is not consulted (operations endpoints and static assets).
    Public,
    /// Anyone; the session, if any, is loaded (sign-in, sign-up, password reset).
    Anonymous,
    /// A user who passed the password and still owes the second factor.
    SecondFactorPending,
    /// Any session, complete or waiting for the second factor (sign-out).
    AnySession,
    /// A collector agent, authenticated by its bearer credential in the handler (agent API).
    Agent,
    /// Any signed-in user, also one who must still set up two-factor (the setup pages).
    TwoFactorSetup,
    /// Any signed-in user who has set up two-factor where it is required.
    SignedIn,
    /// The Team Master of the account.
    TeamMaster,
}

impl Access {
    /// Returns whether browser sessions and forms can reach the route. That excludes `Public`,
    /// whose routes accept only GET, and `Agent`, whose callers send a bearer credential that
    /// no browser adds on its own. Only the other routes get the CSRF checks.
    pub fn serves_browsers(self) -> bool {
        !matches!(self, Self::Public | Self::Agent)
    }
}

pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> RouteSpec {
    RouteSpec { method, path, access, handler }
}

/// The route table.
pub fn table() -> Vec<RouteSpec> {
    use Access::{Agent, Anonymous, AnySession, Public, SecondFactorPending, SignedIn, TeamMaster, TwoFactorSetup};

    vec![
        route(Method::GET, "/healthz", Public, get(ops::healthz)),
        route(Method::GET, "/readyz", Public, get(ops::readyz)),
        route(Method::GET, "/metrics", Public, get(ops::metrics)),
        route(Method::GET, "/assets/{file}", Public, get(assets::serve)),
        route(Method::GET, "/", Anonymous, get(home::show)),
        route(Method::GET, "/sign-up", Anonymous, get(sign_up::show)),
        route(Method::POST, "/sign-up", Anonymous, post(sign_up::submit)),
        route(Method::GET, "/sign-in", Anonymous, get(sign_in::show)),
        route(Method::POST, "/sign-in", Anonymous, post(sign_in::submit)),
        route(Method::GET, "/forgot-password", Anonymous, get(password_reset::show_request)),
        route(Method::POST, "/forgot-password", Anonymous, post(password_reset::submit_request)),
        route(Method::GET, "/reset-password", Anonymous, get(password_reset::show_reset)),
        route(Method::POST, "/reset-password", Anonymous, post(password_reset::submit_reset)),
        route(Method::GET, SECOND_FACTOR_PATH, SecondFactorPending, get(second_factor::show)),
        route(Method::POST, SECOND_FACTOR_PATH, SecondFactorPending, post(second_factor::submit)),
        route(Method::POST, "/sign-out", AnySession, post(sign_out::submit)),
        route(Method::GET, "/account", TeamMaster, get(account_info::show)),
        route(Method::POST, "/account", TeamMaster, post(account_info::submit)),
        route(Method::GET, "/security/password", SignedIn, get(change_password::show)),
        route(Method::POST, "/security/password", SignedIn, post(change_password::submit)),
        route(Method::GET, "/security/username", SignedIn, get(change_username::show)),
        route(Method::GET, TWO_FACTOR_SETUP_PATH, TwoFactorSetup, get(two_factor::show)),
        route(Method::GET, "/security/two-factor/enable", TwoFactorSetup, get(two_factor::show_enable)),
        route(Method::POST, "/security/two-factor/enable", TwoFactorSetup, post(two_factor::submit_enable)),
        route(Method::GET, "/security/two-factor/confirm", TwoFactorSetup, get(two_factor::show_confirm)),
        route(Method::POST, "/security/two-factor/confirm", TwoFactorSetup, post(two_factor::submit_confirm)),
        route(Method::GET, "/security/two-factor/qr.png", TwoFactorSetup, get(two_factor::qr_png)),
        route(Method::POST, "/security/two-factor/renew", SignedIn, post(two_factor::submit_renew)),
        route(Method::POST, "/security/two-factor/recovery-codes", SignedIn, post(two_factor::submit_recovery_codes)),
        route(Method::GET, "/security/two-factor/disable", SignedIn, get(two_factor::show_disable)),
        route(Method::POST, "/security/two-factor/disable", SignedIn, post(two_factor::submit_disable)),
        route(Method::POST, "/security/trusted-devices/{id}/remove", SignedIn, post(two_factor::remove_trusted_device)),
        route(Method::POST, "/agent/v1/activate", Agent, post(agent::handlers::activate)),
        route(Method::POST, "/agent/v1/heartbeat", Agent, post(agent::handlers::heartbeat)),
        route(Method::PUT, "/agent/v1/inventory", Agent, put(agent::handlers::inventory).layer(DefaultBodyLimit::max(INVENTORY_BODY_LIMIT))),
        route(Method::GET, "/agent/v1/configuration", Agent, get(agent::handlers::configuration)),
        route(Method::GET, "/collectors", SignedIn, get(collectors::list)),
        route(Method::GET, "/collectors/new", TeamMaster, get(collectors::show_new)),
        route(Method::POST, "/collectors/new", TeamMaster, post(collectors::create)),
        route(Method::GET, "/collectors/history", SignedIn, get(collector_actions::history)),
        route(Method::GET, "/collectors/history.csv", SignedIn, get(collector_actions::history_csv)),
        route(Method::GET, "/collectors/{id}", SignedIn, get(collectors::show)),
        route(Method::POST, "/collectors/{id}/rename", SignedIn, post(collectors::rename)),
        route(Method::POST, "/collectors/{id}/activation-key", TeamMaster, post(collectors::renew_key)),
        route(Method::GET, "/collectors/{id}/configuration", TeamMaster, get(collector_actions::show_configuration)),
        route(Method::POST, "/collectors/{id}/configuration", TeamMaster, post(collector_actions::save_configuration)),
        route(Method::GET, "/collectors/{id}/clean-up", TeamMaster, get(collector_actions::show_clean_up)),
        route(Method::POST, "/collectors/{id}/clean-up", TeamMaster, post(collector_actions::clean_up)),
        route(Method::GET, "/collectors/{id}/delete", TeamMaster, get(collector_actions::show_delete)),
        route(Method::POST, "/collectors/{id}/delete", TeamMaster, post(collector_actions::delete)),
        route(Method::GET, "/invitation", Anonymous, get(invitations::show_accept)),
        route(Method::POST, "/invitation", Anonymous, post(invitations::submit_accept)),
        route(Method::GET, "/team", TeamMaster, get(team::show)),
        route(Method::GET, "/team/members.csv", TeamMaster, get(team::export_csv)),
        route(Method::POST, "/team/two-factor", TeamMaster, post(team::submit_team_requirement)),
        route(Method::GET, "/team/invite", TeamMaster, get(invitations::show_invite)),
        route(Method::POST, "/team/invite", TeamMaster, post(invitations::submit_invite)),
        route(Method::POST, "/team/invitations/{id}/resend", TeamMaster, post(invitations::resend)),
        route(Method::POST, "/team/invitations/{id}/cancel", TeamMaster, post(invitations::cancel)),
        route(Method::POST, "/team/members/{id}/two-factor", TeamMaster, post(team::submit_member_requirement)),
        route(Method::GET, "/team/members/{id}/reset-two-factor", TeamMaster, get(team::show_reset_two_factor)),
        route(Method::POST, "/team/members/{id}/reset-two-factor", TeamMaster, post(team::submit_reset_two_factor)),
        route(Method::GET, "/team/members/{id}/remove", TeamMaster, get(team::show_remove)),
        route(Method::POST, "/team/members/{id}/remove", TeamMaster, post(team::submit_remove)),
    ]
}

/// A matched route's label and access rule, for the request layer.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    /// The route's path pattern, used as its metric and log label.
    pub label: &'static str,
    pub access: Access,
}

/// Finds a route of the table by matched path pattern and method. A method without a route
/// on that path (status 405) gets the path's first route, for its label.
pub fn find(method: &Method, matched_path: Option<&MatchedPath>) -> Option<RouteInfo> {
    static ROUTES: LazyLock<HashMap<&'static str, Vec<(Method, RouteInfo)>>> = LazyLock::new(|| {
        let mut routes: HashMap<&'static str, Vec<(Method, RouteInfo)>> = HashMap::new();
        for spec in table() {
            routes.entry(spec.path).or_default().push((spec.method, RouteInfo { label: spec.path, access: spec.access }));
        }
        routes
    });
    let methods = ROUTES.get(matched_path?.as_str())?;
    // The GET route handles HEAD requests.
    let method = if *method == Method::HEAD { &Method::GET } else { method };
    methods.iter().find(|(route_method, _)| route_method == method).or_else(|| methods.first()).map(|(_, info)| *info)
}

#[derive(Clone)]
struct GuardState {
    app: AppState,
    access: Access,
}

/// Enforces a route's access rule and puts the session's user in the request extensions.
async fn guard(State(guard): State<GuardState>, mut request: Request, next: Next) -> Response {
    let user = match session::load(&guard.app, request.headers()).await {
        Ok(user) => user,
        Err(error) => return error.into_response(),
    };

    match (guard.access, &user) {
        (Access::SignedIn | Access::TwoFactorSetup | Access::TeamMaster | Access::SecondFactorPending | Access::AnySession, None) => {
            return sign_in_redirect(&request);
        }
        (Access::SignedIn | Access::TwoFactorSetup | Access::TeamMaster, Some(user)) if user.second_factor_pending => {
            return Redirect::to(SECOND_FACTOR_PATH).into_response();
        }
        // Two-factor is required and missing: only its setup and sign-out are open.
        (Access::SignedIn | Access::TeamMaster, Some(user)) if user.must_set_up_two_factor() => {
            return Redirect::to(TWO_FACTOR_SETUP_PATH).into_response();
        }
        (Access::SecondFactorPending, Some(user)) if !user.second_factor_pending => {
            return Redirect::to("/").into_response();
        }
        (Access::TeamMaster, Some(user)) if user.role != Role::TeamMaster => {
            return AppError::Forbidden("Only the Team Master of the account can open this page.".into()).into_response();
        }
        _ => {}
    }

    request.extensions_mut().insert(MaybeUser(user));
    next.run(request).await
}

/// Sends a request without a session to sign-in: a page request with its address in `next`,
/// so sign-in returns there, and a form post with a note that the session ended.
fn sign_in_redirect(request: &Request) -> Response {
    let location = if request.method() == Method::GET {
        let target = request.uri().path_and_query().map_or("/", |path| path.as_str());
        format!("/sign-in?next={}", percent_encode(target))
    } else {
        "/sign-in?expired=1".to_owned()
    };
    Redirect::to(&location).into_response()
}

/// Percent-encodes everything but unreserved characters and `/` (RFC 3986, 2.3).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Builds the router from the table, each route of a signed-in or anonymous user behind the
/// guard that loads the session. `Public` and `Agent` routes need no session.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for spec in table() {
        let handler = if spec.access.serves_browsers() {
            let guard_state = GuardState { app: state.clone(), access: spec.access };
            spec.handler.route_layer(middleware::from_fn_with_state(guard_state, guard))
        } else {
            spec.handler
        };
        router = router.route(spec.path, handler);
    }
    router
}
