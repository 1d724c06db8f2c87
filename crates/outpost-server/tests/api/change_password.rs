use outpost_store::audit;
use outpost_store::users;
use reqwest::StatusCode;

use crate::helpers::{NEW_PASSWORD, PASSWORD, TestApp, field_error};

async fn change(browser: &crate::helpers::Browser, current: &str, new: &str, confirmation: &str) -> crate::helpers::Page {
    browser
        .submit("/security/password", &[("current_password", current), ("new_password", new), ("password_confirmation", confirmation)])
        .await
}

#[tokio::test]
async fn change_password_ends_other_sessions_only() {
    let app = TestApp::spawn().await;
    let current = app.sign_up("dana@example.com").await;
    let other = app.browser();
    other.sign_in("dana@example.com", PASSWORD).await;

    let page = change(&current, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(current.get("/account").await.status, StatusCode::OK, "this session stays");
    assert_eq!(other.get("/account").await.location().map(|location| location.starts_with("/sign-in")), Some(true), "other session ended");
    assert!(current.get("/security/password?changed=1").await.body.contains("Your password has been changed."));
}

#[tokio::test]
async fn old_password_fails_after_change() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;
    change(&browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    assert_eq!(app.browser().sign_in("dana@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.browser().sign_in("dana@example.com", NEW_PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn wrong_current_password_gets_message() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = change(&browser, "not my current password", NEW_PASSWORD, NEW_PASSWORD).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_error(&page.body, "current_password").unwrap(), "The current password is incorrect.");
    assert_eq!(app.browser().sign_in("dana@example.com", PASSWORD).await.status, StatusCode::SEE_OTHER, "password unchanged");
}

#[tokio::test]
async fn weak_new_password_gets_message() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = change(&browser, PASSWORD, "aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaa").await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "new_password").unwrap().contains("too easy to guess"));
}

#[tokio::test]
async fn mismatched_confirmation_gets_message() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = change(&browser, PASSWORD, NEW_PASSWORD, "violet harbour mountain engines").await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_error(&page.body, "password_confirmation").unwrap(), "The two passwords do not match.");
}

#[tokio::test]
async fn password_change_is_audited() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;
    change(&browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    let user = users::find_by_username(&app.state.database, "dana@example.com").await.unwrap().unwrap();
    let entries = audit::list_for_account(&app.state.database, &user.account_id, 1).await.unwrap();

    assert_eq!(entries[0].event, "password_changed");
    assert_eq!(entries[0].actor, "dana@example.com");
}

#[tokio::test]
async fn username_page_points_to_support() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = browser.get("/security/username").await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("mailto:support@outpost.example"));
    assert!(page.body.contains("cannot be changed here"));
}

#[tokio::test]
async fn same_password_is_rejected() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = change(&browser, PASSWORD, PASSWORD, PASSWORD).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "new_password").unwrap().contains("same as the current one"));
}

#[tokio::test]
async fn password_change_sends_notice() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    change(&browser, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;

    let mail = app.wait_for_mail(1).await;
    assert!(mail[0].contains("Subject: Your Outpost password was changed"));
}
