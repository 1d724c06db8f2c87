use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::spawn().await;
    let browser = app.browser();

    assert_eq!(browser.get("/healthz").await.status, StatusCode::OK);
    let ready = browser.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body, "ready\n");
}

#[tokio::test]
async fn metrics_count_by_route_never_raw_path() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.get("/sign-in").await;
    browser.get("/reset-password?token=SECRETTOKENVALUE").await;

    let metrics = browser.get("/metrics").await;

    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.body.contains("http_requests_total{method=\"GET\",route=\"/sign-in\",status=\"200\"}"), "{}", metrics.body);
    assert!(metrics.body.contains("http_request_duration_seconds_bucket"));
    assert!(!metrics.body.contains("SECRETTOKENVALUE"));
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = TestApp::spawn().await;

    let page = app.browser().get("/sign-in").await;

    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("script-src 'self'"));
    assert_eq!(page.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(page.headers.get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(page.headers.get("x-frame-options").unwrap(), "DENY");
}

#[tokio::test]
async fn pages_load_no_outside_assets() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    for path in ["/sign-in", "/sign-up", "/forgot-password", "/account", "/security/password", "/security/username"] {
        let page = browser.get(path).await;
        assert!(!page.body.contains("http://"), "{path} links outside the server");
        assert!(!page.body.contains("https://"), "{path} links outside the server");
    }
}

#[tokio::test]
async fn form_fields_are_labelled() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    for path in ["/account", "/security/password"] {
        let page = browser.get(path).await;
        for id in page.body.split("<input id=\"").skip(1).map(|rest| rest.split('"').next().unwrap()) {
            assert!(page.body.contains(&format!("<label for=\"{id}\">")), "{path}: input {id} has no label");
        }
    }
}

#[tokio::test]
async fn agent_and_health_responses_carry_security_headers() {
    let app = TestApp::spawn().await;
    crate::helpers::install_crypto_provider();
    let client = reqwest::Client::new();

    let health = client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    let agent = client.post(format!("{}/agent/v1/heartbeat", app.address)).bearer_auth("unknown").body("{}").send().await.unwrap();

    for response in [&health, &agent] {
        assert_eq!(response.headers().get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(response.headers().get("x-frame-options").unwrap(), "DENY");
        assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
        assert!(response.headers().get("set-cookie").is_none(), "no CSRF cookie without a form");
    }
    assert_eq!(agent.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_method_counts_under_its_route() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    crate::helpers::install_crypto_provider();

    let response = reqwest::Client::new().delete(format!("{}/sign-in", app.address)).send().await.unwrap();
    let metrics = browser.get("/metrics").await;

    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(metrics.body.contains("http_requests_total{method=\"DELETE\",route=\"/sign-in\",status=\"405\"}"), "{}", metrics.body);
}
