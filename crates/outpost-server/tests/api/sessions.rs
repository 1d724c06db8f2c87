use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn session_ends_after_idle_timeout() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    app.clock.advance(29 * 60);
    assert_eq!(browser.get("/account").await.status, StatusCode::OK, "29 idle minutes keep the session");
    app.clock.advance(30 * 60);

    assert_eq!(browser.get("/account").await.location(), Some("/sign-in"));
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

    assert_eq!(browser.get("/account").await.location(), Some("/sign-in"), "12 hours after sign-in");
}

#[tokio::test]
async fn sign_out_ends_session() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = browser.submit("/sign-out", &[]).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/sign-in?signed_out=1"));
    assert_eq!(browser.get("/account").await.location(), Some("/sign-in"));
}

#[tokio::test]
async fn https_public_url_makes_cookies_secure() {
    let app = TestApp::spawn_with(|config| config.public_url = "https://portal.example.com".into()).await;
    let browser = app.browser();

    let page = browser.get("/sign-in").await;

    let cookie = page.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}
