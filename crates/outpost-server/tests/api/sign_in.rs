use outpost_store::audit;
use outpost_store::throttle::{self, Scope};
use outpost_store::users;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn sign_in_with_correct_password_starts_session() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let browser = app.browser();

    let page = browser.sign_in("dana@example.com", PASSWORD).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/account"));
    let cookie = page.headers.get_all("set-cookie").iter().find(|v| v.to_str().unwrap().starts_with("outpost_session=")).unwrap();
    let cookie = cookie.to_str().unwrap();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain http public URL");
}

#[tokio::test]
async fn sign_in_issues_new_token_each_time() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let browser = app.browser();

    let first = browser.sign_in("dana@example.com", PASSWORD).await;
    let second = browser.sign_in("dana@example.com", PASSWORD).await;

    let token = |page: &crate::helpers::Page| {
        page.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).find(|v| v.starts_with("outpost_session=")).unwrap()
    };
    assert_ne!(token(&first), token(&second));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_alike() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;

    let wrong = app.browser().sign_in("dana@example.com", "not the right password at all").await;
    let unknown = app.browser().sign_in("nobody@example.com", "not the right password at all").await;

    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let message = "The email address or password is incorrect.";
    assert!(wrong.body.contains(message));
    assert!(unknown.body.contains(message));
}

#[tokio::test]
async fn five_failures_then_wait_doubles() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let browser = app.browser();

    for attempt in 0..5 {
        let page = browser.sign_in("dana@example.com", "wrong password number one").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let blocked = browser.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert_eq!(blocked.headers.get("retry-after").unwrap(), "30");
    assert!(blocked.body.contains("Try again in 30 seconds"));

    app.clock.advance(30);
    let sixth = browser.sign_in("dana@example.com", "wrong password number two").await;
    assert_eq!(sixth.status, StatusCode::UNAUTHORIZED);
    let blocked_again = browser.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(blocked_again.headers.get("retry-after").unwrap(), "60");

    app.clock.advance(60);
    let allowed = browser.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(allowed.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn correct_password_clears_both_counters() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let browser = app.browser();
    for _ in 0..4 {
        browser.sign_in("dana@example.com", "wrong password number one").await;
    }
    let counted = throttle::get(&app.state.database, Scope::ClientAddress, "127.0.0.1").await.unwrap();
    assert_eq!(counted.failures, 4, "the failures were counted under this address");

    let allowed = browser.sign_in("dana@example.com", PASSWORD).await;

    assert_eq!(allowed.status, StatusCode::SEE_OTHER);
    let by_username = throttle::get(&app.state.database, Scope::Username, "dana@example.com").await.unwrap();
    let by_address = throttle::get(&app.state.database, Scope::ClientAddress, "127.0.0.1").await.unwrap();
    assert_eq!(by_username.failures, 0);
    assert_eq!(by_address.failures, 0);
}

#[tokio::test]
async fn throttle_follows_username_across_addresses_and_case() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;

    for _ in 0..5 {
        app.browser().sign_in("DANA@example.com", "wrong password number one").await;
    }
    let blocked = app.browser().sign_in("dana@example.com", PASSWORD).await;

    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn hundred_failures_lock_until_reset() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let browser = app.browser();

    for _ in 0..100 {
        app.clock.advance(900);
        browser.sign_in("dana@example.com", "wrong password number one").await;
    }
    app.clock.advance(3600);
    let locked = browser.sign_in("dana@example.com", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::LOCKED);
    assert!(locked.body.contains("locked"));
    assert!(locked.body.contains("support@outpost.example"));

    browser.submit("/forgot-password", &[("email", "dana@example.com")]).await;
    let link = app.reset_link(1).await;
    let token = link.split("token=").nth(1).unwrap();
    let new_password = "violet harbour mountain engine";
    let done = browser
        .submit("/reset-password", &[("token", token), ("password", new_password), ("password_confirmation", new_password)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);

    let unlocked = browser.sign_in("dana@example.com", new_password).await;
    assert_eq!(unlocked.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn outdated_hash_is_rehashed_at_sign_in() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let user = users::find_by_username(&app.state.database, "dana@example.com").await.unwrap().unwrap();
    // argon2id of PASSWORD with m=8192, t=1, p=1, weaker than the server's parameters.
    let weak = argon2_weak_hash(PASSWORD);
    users::update_password_hash(&app.state.database, &user.id, &weak).await.unwrap();

    let page = app.browser().sign_in("dana@example.com", PASSWORD).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let rehashed = users::find_by_id(&app.state.database, &user.id).await.unwrap().unwrap();
    assert!(rehashed.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", rehashed.password_hash);
}

fn argon2_weak_hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher as _;
    let params = argon2::Params::new(8 * 1024, 1, 1, None).unwrap();
    let argon2 = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon2.hash_password(password.as_bytes()).unwrap().to_string()
}

#[tokio::test]
async fn sign_in_events_are_audited_with_address() {
    let app = TestApp::spawn().await;
    app.sign_up("dana@example.com").await;
    let browser = app.browser();
    browser.sign_in("dana@example.com", "wrong password number one").await;
    browser.sign_in("dana@example.com", PASSWORD).await;
    browser.submit("/sign-out", &[]).await;

    let user = users::find_by_username(&app.state.database, "dana@example.com").await.unwrap().unwrap();
    let entries = audit::list_for_account(&app.state.database, &user.account_id, 50).await.unwrap();
    let events: Vec<&str> = entries.iter().rev().map(|entry| entry.event.as_str()).collect();

    assert_eq!(events, ["sign_up", "sign_in_failed", "sign_in_succeeded", "sign_out"]);
    assert!(entries.iter().all(|entry| entry.client_address.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn forwarded_address_used_only_from_trusted_proxy() {
    let trusted = TestApp::spawn_with(|config| config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let untrusted = TestApp::spawn().await;

    for app in [&trusted, &untrusted] {
        app.sign_up("dana@example.com").await;
        let browser = app.browser();
        let token = browser.csrf_token().await;
        browser
            .client
            .post(browser.url("/sign-in"))
            .header("x-forwarded-for", "203.0.113.7")
            .form(&[("username", "dana@example.com"), ("password", PASSWORD), ("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
    }

    let address_of = |app: &TestApp| {
        let database = app.state.database.clone();
        async move {
            let user = users::find_by_username(&database, "dana@example.com").await.unwrap().unwrap();
            let entries = audit::list_for_account(&database, &user.account_id, 1).await.unwrap();
            entries[0].client_address.clone().unwrap()
        }
    };
    assert_eq!(address_of(&trusted).await, "203.0.113.7");
    assert_eq!(address_of(&untrusted).await, "127.0.0.1");
}
