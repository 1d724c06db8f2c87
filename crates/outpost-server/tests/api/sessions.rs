use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn session_ends_after_idle_timeout() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    app.clock.advance(29 * 60);
    assert_eq!(browser.get("/account").await.status, StatusCode::OK, "29 idle minutes keep the session");
    app.clock.advance(30 * 60);

    assert_eq!(browser.get("/account").await.location().map(|location| location.starts_with("/sign-in")), Some(true));
}

#[tokio::test]
async fn session_ends_after_absolute_lifetime() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    for _ in 0..71 {
        app.clock.advance(10 * 60);
        assert_eq!(browser.get("/account").await.status, StatusCode::OK);
    }
    app.clock.advance(10 * 60);

    assert_eq!(browser.get("/account").await.location().map(|location| location.starts_with("/sign-in")), Some(true), "12 hours after sign-in");
}

#[tokio::test]
async fn sign_out_ends_session() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = browser.submit("/sign-out", &[]).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/sign-in?signed_out=1"));
    assert_eq!(browser.get("/account").await.location().map(|location| location.starts_with("/sign-in")), Some(true));
}

#[tokio::test]
async fn https_public_url_makes_cookies_secure() {
    let app = TestApp::spawn_with(|config| config.public_url = "https://portal.example.com".into()).await;
    let browser = app.browser();

    let page = browser.get("/sign-in").await;

    let cookie = page.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn sign_in_returns_to_requested_page() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let browser = app.browser();

    let redirect = browser.get("/security/username?tab=1").await;
    assert_eq!(redirect.location(), Some("/sign-in?next=/security/username%3Ftab%3D1"));
    let form = browser.get(redirect.location().unwrap()).await;
    assert!(form.body.contains("name=\"next\" value=\"/security/username?tab=1\""));
    let page = browser.submit("/sign-in", &[("username", "dana@example.com"), ("password", crate::helpers::PASSWORD), ("next", "/security/username?tab=1")]).await;

    assert_eq!(page.location(), Some("/security/username?tab=1"));
}

#[tokio::test]
async fn sign_in_ignores_next_outside_server() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;

    for next in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
        let page = app.browser().submit("/sign-in", &[("username", "dana@example.com"), ("password", crate::helpers::PASSWORD), ("next", next)]).await;
        assert_eq!(page.location(), Some("/account"), "{next}");
    }
}

#[tokio::test]
async fn post_after_session_end_explains() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;
    let token = browser.csrf_token().await;
    app.clock.advance(31 * 60);

    let page = browser.post_form("/account", &[("csrf_token", &token), ("name", "x")]).await;

    assert_eq!(page.location(), Some("/sign-in?expired=1"));
    assert!(browser.get("/sign-in?expired=1").await.body.contains("Your session ended, so the form was not sent."));
}
