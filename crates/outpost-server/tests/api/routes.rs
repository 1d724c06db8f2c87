//! Every route of the table tried as anonymous and as a signed-in Team Master.

use outpost_server::routes::{Access, table};
use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

fn concrete(path: &str) -> String {
    path.replace("{file}", "outpost.css").replace("{id}", "01900000-0000-7000-8000-000000000000")
}

#[tokio::test]
async fn signed_in_routes_send_anonymous_to_sign_in() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let token = browser.csrf_token().await;

    for spec in table().iter().filter(|spec| matches!(spec.access, Access::SignedIn | Access::TwoFactorSetup | Access::TeamMaster)) {
        let request = browser.client.request(spec.method.clone(), browser.url(&concrete(spec.path)));
        let request = if spec.method == Method::POST { request.form(&[("csrf_token", token.as_str())]) } else { request };
        let response = request.send().await.unwrap();

        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{} {}", spec.method, spec.path);
        let location = response.headers().get("location").unwrap().to_str().unwrap();
        assert!(location.starts_with("/sign-in?"), "{} {}: {location}", spec.method, spec.path);
    }
}

#[tokio::test]
async fn open_routes_answer_anonymous() {
    let app = TestApp::spawn().await;
    let browser = app.browser();

    for spec in table().iter().filter(|spec| spec.method == Method::GET && matches!(spec.access, Access::Public | Access::Anonymous)) {
        let response = browser.client.get(browser.url(&concrete(spec.path))).send().await.unwrap();
        let location = response.headers().get("location").map(|value| value.to_str().unwrap().to_owned());

        assert!(response.status().as_u16() < 500, "{} answered {}", spec.path, response.status());
        assert!(spec.path == "/" || location.is_none(), "{} redirected to {location:?}", spec.path);
    }
}

#[tokio::test]
async fn every_post_route_requires_csrf_token() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    // The code page's own CSRF check is covered by the two-factor tests, with a session that
    // waits for the second factor.
    // The agent API takes a bearer credential instead of a form token.
    for spec in table().iter().filter(|spec| spec.method == Method::POST && !matches!(spec.access, Access::SecondFactorPending | Access::Agent)) {
        let response = browser.client.post(browser.url(&concrete(spec.path))).form(&[("name", "x")]).send().await.unwrap();

        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {}", spec.path);
    }
    assert_eq!(browser.get("/account").await.status, StatusCode::OK, "still signed in: sign-out was refused too");
}

#[tokio::test]
async fn every_page_route_works_for_team_master() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    for spec in table().iter().filter(|spec| spec.method == Method::GET && spec.access != Access::Public) {
        let page = browser.get(&concrete(spec.path)).await;

        assert!(page.status.as_u16() < 500, "{} answered {}", spec.path, page.status);
        assert!(!page.location().is_some_and(|location| location.starts_with("/sign-in")), "{} sent a signed-in Team Master to sign-in", spec.path);
    }
}

#[tokio::test]
async fn unknown_path_gets_not_found_page() {
    let app = TestApp::spawn().await;

    let page = app.browser().get("/no-such-page").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
}

/// Who sends a request in [`every_route_by_actor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    Member,
    TeamMaster,
    /// The Team Master of another account, with the first account's ids in the path.
    OtherTeamMaster,
}

#[tokio::test]
async fn every_route_by_actor() {
    use outpost_store::two_factor::{self, NewTrustedDevice};

    let app = TestApp::spawn().await;
    let master = app.sign_up("master@example.com").await;
    master.submit("/team/invite", &[("email", "member@example.com"), ("name", "Mia")]).await;
    let link = app.link_in_mail(1, "/invitation?token=").await;
    let member = app.browser();
    let token = link.split("token=").nth(1).unwrap();
    let password = crate::helpers::PASSWORD;
    member.submit("/invitation", &[("token", token), ("password", password), ("password_confirmation", password)]).await;
    master.submit("/team/invite", &[("email", "pending@example.com"), ("name", "Pat")]).await;
    let other = app.sign_up("other@example.com").await;
    let anonymous = app.browser();

    let database = &app.state.database;
    let master_user = outpost_store::users::find_by_username(database, "master@example.com").await.unwrap().unwrap();
    let member_id = outpost_store::users::find_by_username(database, "member@example.com").await.unwrap().unwrap().id;
    let invitation_id = outpost_store::team::pending_invitations(database, &master_user.account_id).await.unwrap()[0].id.clone();
    let device = NewTrustedDevice {
        user_id: &master_user.id,
        token_hash: "digest-of-a-device-token",
        user_agent: "test",
        client_address: "127.0.0.1",
        now: crate::helpers::START_TIME,
        expires_at: crate::helpers::START_TIME + 86_400,
    };
    let device_id = two_factor::add_trusted_device(database, device).await.unwrap();
    let collector = outpost_store::collectors::NewCollector {
        account_id: &master_user.account_id,
        name: "Branch office",
        created_by: "master@example.com",
        key_hash: "digest-of-an-activation-key",
        key_expires_at: crate::helpers::START_TIME + 86_400,
        inventory_interval_seconds: 900,
        now: crate::helpers::START_TIME,
    };
    let collector_id = outpost_store::collectors::create(database, collector).await.unwrap();

    let actors = [(Actor::Anonymous, &anonymous), (Actor::Member, &member), (Actor::TeamMaster, &master), (Actor::OtherTeamMaster, &other)];
    for spec in table() {
        let has_id = spec.path.contains("{id}");
        // Whose id the path carries: the Team Master's own (a trusted device), or the
        // account's (members, invitations, collectors), which its members may reach.
        let account_scoped = !spec.path.starts_with("/security/");
        let path = if spec.path.starts_with("/collectors/") {
            spec.path.replace("{id}", &collector_id)
        } else if spec.path.starts_with("/team/members/") {
            spec.path.replace("{id}", &member_id)
        } else if spec.path.starts_with("/team/invitations/") {
            spec.path.replace("{id}", &invitation_id)
        } else {
            concrete(spec.path).replace("01900000-0000-7000-8000-000000000000", &device_id)
        };

        for (actor, browser) in actors {
            let is_post = spec.method == Method::POST;
            // The Team Master's own posts change the account, and sign-out ends sessions;
            // feature tests cover those.
            if is_post && (actor == Actor::TeamMaster || (spec.access == Access::AnySession && actor != Actor::Anonymous)) {
                continue;
            }
            if is_post && actor == Actor::OtherTeamMaster && !has_id && spec.access == Access::TeamMaster {
                continue;
            }

            let page = match spec.method {
                Method::POST => browser.submit(&path, &[("required", "yes")]).await,
                Method::PUT => browser.post_raw(&path, b"{}".to_vec()).await,
                _ => browser.get(&path).await,
            };
            let context = format!("{} {} as {actor:?}: {} {:?}", spec.method, path, page.status, page.location());
            let to_sign_in = page.location().is_some_and(|location| location.starts_with("/sign-in"));
            assert!(page.status.as_u16() < 500, "{context}");

            match (spec.access, actor) {
                (Access::Public, _) => assert!(page.status.as_u16() < 400, "{context}"),
                // Pages never open the agent API: it takes a bearer credential and JSON.
                (Access::Agent, _) => assert!(page.status.is_client_error(), "{context}"),
                // "/" sends each visitor to their first page, sign-in for anonymous ones.
                (Access::Anonymous, _) => assert!(!to_sign_in || spec.path == "/", "{context}"),
                (_, Actor::Anonymous) => assert!(to_sign_in, "{context}"),
                (Access::SecondFactorPending, _) => assert_eq!(page.location(), Some("/"), "{context}"),
                (Access::AnySession, _) => {}
                (Access::SignedIn | Access::TwoFactorSetup, Actor::Member | Actor::TeamMaster) if has_id && account_scoped => {
                    assert!(page.status != StatusCode::NOT_FOUND && page.status != StatusCode::FORBIDDEN, "{context}");
                }
                (Access::SignedIn | Access::TwoFactorSetup, _) if has_id => assert_eq!(page.status, StatusCode::NOT_FOUND, "{context}"),
                (Access::SignedIn | Access::TwoFactorSetup, _) => {
                    assert!(!to_sign_in, "{context}");
                    assert_ne!(page.status, StatusCode::FORBIDDEN, "{context}");
                }
                (Access::TeamMaster, Actor::Member) => assert_eq!(page.status, StatusCode::FORBIDDEN, "{context}"),
                (Access::TeamMaster, Actor::OtherTeamMaster) if has_id => assert_eq!(page.status, StatusCode::NOT_FOUND, "{context}"),
                (Access::TeamMaster, _) => assert!(page.status.as_u16() < 400, "{context}"),
            }
        }
    }

    assert!(outpost_store::users::find_by_id(database, &member_id).await.unwrap().is_some(), "no request removed the member");
    assert!(outpost_store::collectors::get(database, &master_user.account_id, &collector_id).await.unwrap().is_some(), "no request deleted the collector");
}
