use outpost_store::sessions;
use outpost_store::users;
use reqwest::StatusCode;

use crate::helpers::{NEW_PASSWORD, PASSWORD, TestApp, field_error};

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

async fn reset(app: &TestApp, token: &str, password: &str) -> crate::helpers::Page {
    app.browser()
        .submit("/reset-password", &[("token", token), ("password", password), ("password_confirmation", password)])
        .await
}

#[tokio::test]
async fn reset_link_sets_new_password_and_ends_sessions() {
    let app = TestApp::spawn().await;
    let signed_in = app.sign_up("dana@example.com").await;
    app.browser().submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let link = app.reset_link(1).await;
    assert!(link.starts_with(&format!("{}/reset-password?token=", app.address)));

    let form = app.browser().get(&link).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Set a new password"));
    let done = reset(&app, &token_of(&link), NEW_PASSWORD).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/sign-in?reset=1"));
    assert_eq!(signed_in.get("/account").await.status, StatusCode::SEE_OTHER, "old session ended");
    assert_eq!(app.browser().sign_in("dana@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.browser().sign_in("dana@example.com", NEW_PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn reset_link_works_once() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    app.browser().submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let link = app.reset_link(1).await;

    assert_eq!(reset(&app, &token_of(&link), NEW_PASSWORD).await.status, StatusCode::SEE_OTHER);
    let second = reset(&app, &token_of(&link), "another fresh passphrase here").await;

    assert_eq!(second.status, StatusCode::GONE);
    assert!(second.body.contains("does not work"));
    assert_eq!(app.browser().get(&link).await.status, StatusCode::GONE);
}

#[tokio::test]
async fn reset_link_expires_after_an_hour() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    app.browser().submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let link = app.reset_link(1).await;

    app.clock.advance(3600);

    assert_eq!(app.browser().get(&link).await.status, StatusCode::GONE);
    assert_eq!(reset(&app, &token_of(&link), NEW_PASSWORD).await.status, StatusCode::GONE);
}

#[tokio::test]
async fn newer_reset_link_voids_older() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let browser = app.browser();
    browser.submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let older = app.reset_link(1).await;
    browser.submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let newer = app.reset_link(2).await;

    assert_eq!(reset(&app, &token_of(&older), NEW_PASSWORD).await.status, StatusCode::GONE);
    assert_eq!(reset(&app, &token_of(&newer), NEW_PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn reset_request_answers_alike_for_unknown_address() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;

    let known = app.browser().submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let unknown = app.browser().submit("/forgot-password", &[("email", "nobody@example.com")]).await;

    assert_eq!(known.status, unknown.status);
    let blank = |page: &crate::helpers::Page, email: &str| page.body.replace(email, "EMAIL").replace(&extract_csrf(&page.body), "TOKEN");
    assert_eq!(blank(&known, "dana@example.com"), blank(&unknown, "nobody@example.com"));
    assert_eq!(app.wait_for_mail(1).await.len(), 1, "only the known address got mail");
}

fn extract_csrf(body: &str) -> String {
    crate::helpers::extract_field(body, "csrf_token").unwrap_or_default()
}

#[tokio::test]
async fn reset_rejects_weak_password_and_keeps_link_usable() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    app.browser().submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let link = app.reset_link(1).await;

    let weak = reset(&app, &token_of(&link), "password").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&weak.body, "password").unwrap().contains("too short"));

    assert_eq!(reset(&app, &token_of(&link), NEW_PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn reset_with_made_up_token_is_refused() {
    let app = TestApp::spawn().await;

    let page = app.browser().get("/reset-password?token=made-up").await;
    let missing = app.browser().get("/reset-password").await;

    assert_eq!(page.status, StatusCode::GONE);
    assert_eq!(missing.status, StatusCode::GONE);
}

#[tokio::test]
async fn concurrent_resets_with_one_link_succeed_once() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    app.browser().submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let token = token_of(&app.reset_link(1).await);

    let (first, second) = tokio::join!(reset(&app, &token, NEW_PASSWORD), reset(&app, &token, "another fresh passphrase here"));

    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 410]);
    let user = users::find_by_username(&app.state.database, "dana@example.com").await.unwrap().unwrap();
    assert_eq!(sessions::count_for_user(&app.state.database, &user.id).await.unwrap(), 0);
}
