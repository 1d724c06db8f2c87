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

    for spec in table().iter().filter(|spec| matches!(spec.access, Access::SignedIn | Access::TeamMaster)) {
        let request = browser.client.request(spec.method.clone(), browser.url(&concrete(spec.path)));
        let request = if spec.method == Method::POST { request.form(&[("csrf_token", token.as_str())]) } else { request };
        let response = request.send().await.unwrap();

        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{} {}", spec.method, spec.path);
        assert_eq!(response.headers().get("location").unwrap(), "/sign-in", "{} {}", spec.method, spec.path);
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
    for spec in table().iter().filter(|spec| spec.method == Method::POST && spec.access != Access::SecondFactorPending) {
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
        assert_ne!(page.location(), Some("/sign-in"), "{} sent a signed-in Team Master to sign-in", spec.path);
    }
}

#[tokio::test]
async fn unknown_path_gets_not_found_page() {
    let app = TestApp::spawn().await;

    let page = app.browser().get("/no-such-page").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
}
