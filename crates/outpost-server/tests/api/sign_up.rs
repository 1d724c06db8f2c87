use outpost_store::users;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, field_error};

#[tokio::test]
async fn sign_up_makes_team_master_and_signs_in() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = browser.get("/account").await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Account Info"));
    assert!(page.body.contains("signed in as dana@example.com"));
}

#[tokio::test]
async fn sign_up_username_is_case_insensitive() {
    let app = TestApp::spawn().await;
    app.sign_up("Ops@Example.COM").await;

    let second = app
        .browser()
        .submit("/sign-up", &[("username", "ops@example.com"), ("password", PASSWORD), ("password_confirmation", PASSWORD)])
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(field_error(&second.body, "username").unwrap().contains("already exists"));
    assert!(second.body.contains("value=\"ops@example.com\""), "typed username kept");

    let browser = app.browser();
    let signed_in = browser.sign_in("ops@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let account = browser.get("/account").await;
    assert!(account.body.contains("signed in as Ops@Example.COM"), "username shown as typed at sign-up");
}

#[tokio::test]
async fn concurrent_sign_ups_make_one_account() {
    let app = TestApp::spawn().await;
    let first = app.browser();
    let second = app.browser();
    let fields = [("username", "race@example.com"), ("password", PASSWORD), ("password_confirmation", PASSWORD)];

    let (a, b) = tokio::join!(first.submit("/sign-up", &fields), second.submit("/sign-up", &fields));

    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 409]);
    let accounts: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM accounts")
        .fetch_one(app.state.database.pool())
        .await
        .unwrap();
    assert_eq!(accounts, 1, "the losing sign-up left no account behind");
    assert!(users::find_by_username(&app.state.database, "race@example.com").await.unwrap().is_some());
}

#[tokio::test]
async fn sign_up_rejects_short_password_keeping_username() {
    let app = TestApp::spawn().await;
    let page = app
        .browser()
        .submit("/sign-up", &[("username", "dana@example.com"), ("password", "short pass"), ("password_confirmation", "short pass")])
        .await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "password").unwrap().contains("too short"));
    assert!(page.body.contains("value=\"dana@example.com\""));
}

#[tokio::test]
async fn sign_up_rejects_10000_character_password() {
    let app = TestApp::spawn().await;
    let long = "a1b2 c3d4 ".repeat(1_000);
    let page = app
        .browser()
        .submit("/sign-up", &[("username", "dana@example.com"), ("password", &long), ("password_confirmation", &long)])
        .await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "password").unwrap().contains("too long"));
}

#[tokio::test]
async fn sign_up_rejects_password_containing_username() {
    let app = TestApp::spawn().await;
    let password = "dana@example.com is my long password";
    let page = app
        .browser()
        .submit("/sign-up", &[("username", "dana@example.com"), ("password", password), ("password_confirmation", password)])
        .await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "password").unwrap().contains("must not contain your username"));
}

#[tokio::test]
async fn sign_up_rejects_mismatched_confirmation() {
    let app = TestApp::spawn().await;
    let page = app
        .browser()
        .submit("/sign-up", &[("username", "dana@example.com"), ("password", PASSWORD), ("password_confirmation", "something else entirely")])
        .await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_error(&page.body, "password_confirmation").unwrap(), "The two passwords do not match.");
}

#[tokio::test]
async fn sign_up_rejects_invalid_email() {
    let app = TestApp::spawn().await;
    let page = app
        .browser()
        .submit("/sign-up", &[("username", "not an email"), ("password", PASSWORD), ("password_confirmation", PASSWORD)])
        .await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "username").unwrap().contains("invalid"));
    assert!(field_error(&page.body, "password").is_none(), "a good password gets no message");
}

#[tokio::test]
async fn sign_up_reports_email_and_password_errors() {
    let app = TestApp::spawn().await;
    let page = app
        .browser()
        .submit("/sign-up", &[("username", "not an email"), ("password", "short"), ("password_confirmation", "shorter")])
        .await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "username").unwrap().contains("invalid"));
    assert!(field_error(&page.body, "password").unwrap().contains("too short"));
    assert!(field_error(&page.body, "password_confirmation").unwrap().contains("do not match"));
}

#[tokio::test]
async fn sign_up_taken_addresses_are_throttled() {
    let app = TestApp::spawn().await;
    app.sign_up("taken@example.com").await;
    let browser = app.browser();
    let fields = [("username", "taken@example.com"), ("password", PASSWORD), ("password_confirmation", PASSWORD)];

    for attempt in 0..5 {
        let page = browser.submit("/sign-up", &fields).await;
        assert_eq!(page.status, StatusCode::CONFLICT, "attempt {attempt}");
    }
    let throttled = browser.submit("/sign-up", &fields).await;

    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers.get("retry-after").unwrap(), "30");
}

#[tokio::test]
async fn signed_in_user_is_sent_away_from_sign_up() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = browser.get("/sign-up").await;

    assert_eq!(page.location(), Some("/"));
}
