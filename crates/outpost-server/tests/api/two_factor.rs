//! Two-factor authentication through the pages, with codes computed from the key that the
//! setup page shows for manual entry.

use outpost_domain::totp::TotpSecret;
use outpost_store::{audit, two_factor, users};
use reqwest::StatusCode;

use crate::helpers::{Browser, NEW_PASSWORD, PASSWORD, Page, TestApp, field_error, unescape};

const USERNAME: &str = "dana@example.com";

/// The key shown for manual entry on the confirm page.
fn shown_key(page: &str) -> TotpSecret {
    let marker = "id=\"secret-key\">";
    let start = page.find(marker).unwrap() + marker.len();
    let end = page[start..].find("</span>").unwrap();
    let base32: String = page[start..start + end].chars().filter(|c| !c.is_whitespace()).collect();
    let secret = totp_rs::Secret::try_from_base32(&base32).unwrap();
    TotpSecret::from_bytes(secret.as_bytes().to_vec()).unwrap()
}

fn recovery_codes(page: &str) -> Vec<String> {
    let start = page.find("id=\"recovery-codes\">").unwrap();
    let end = start + page[start..].find("</ol>").unwrap();
    page[start..end].split("<li>").skip(1).map(|item| item.split("</li>").next().unwrap().trim().to_owned()).collect()
}

pub(crate) struct Enabled {
    pub(crate) secret: TotpSecret,
    pub(crate) codes: Vec<String>,
}

/// Turns two-factor on for the signed-in browser; the clock then moves to the next step so
/// the next code is fresh.
pub(crate) async fn enable(app: &TestApp, browser: &Browser, remember: bool) -> Enabled {
    let started = browser.submit("/security/two-factor/enable", &[("password", PASSWORD)]).await;
    assert_eq!(started.location(), Some("/security/two-factor/confirm"));
    let confirm = browser.get("/security/two-factor/confirm").await;
    let secret = shown_key(&confirm.body);

    let code = secret.code_at(app.clock.now_value());
    let mut fields = vec![("code", code.as_str())];
    if remember {
        fields.push(("remember", "yes"));
    }
    let done = browser.submit("/security/two-factor/confirm", &fields).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    app.clock.advance(30);
    Enabled { secret, codes: recovery_codes(&done.body) }
}

async fn sign_in_to_code_page(app: &TestApp) -> Browser {
    let browser = app.browser();
    let page = browser.sign_in(USERNAME, PASSWORD).await;
    assert_eq!(page.location(), Some("/sign-in/two-factor"));
    browser
}

async fn submit_code(browser: &Browser, code: &str) -> Page {
    browser.submit("/sign-in/two-factor", &[("code", code)]).await
}

fn session_cookie(page: &Page) -> Option<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("outpost_session="))
        .map(str::to_owned)
}

trait ClockValue {
    fn now_value(&self) -> i64;
}

impl ClockValue for outpost_server::ManualClock {
    fn now_value(&self) -> i64 {
        outpost_server::Clock::now(self)
    }
}

#[tokio::test]
async fn enabling_shows_ten_recovery_codes_and_audits() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;

    let enabled = enable(&app, &browser, false).await;

    assert_eq!(enabled.codes.len(), 10);
    let status = browser.get("/security/two-factor").await;
    assert!(status.body.contains("Two-factor authentication is on"));
    assert!(status.body.contains("10 of 10 recovery codes are unused"));
    let user = users::find_by_username(&app.state.database, USERNAME).await.unwrap().unwrap();
    let entries = audit::list_for_account(&app.state.database, &user.account_id, 1).await.unwrap();
    assert_eq!(entries[0].event, "two_factor_enabled");
    let mail = app.wait_for_mail(1).await;
    assert!(mail[0].contains("Two-factor authentication is on"));
}

#[tokio::test]
async fn abandoned_setup_leaves_two_factor_off() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    browser.submit("/security/two-factor/enable", &[("password", PASSWORD)]).await;

    let page = app.browser().sign_in(USERNAME, PASSWORD).await;

    assert_eq!(page.location(), Some("/account"), "no code asked");
    assert!(browser.get("/security/two-factor").await.body.contains("Two-factor authentication is off"));
}

#[tokio::test]
async fn wrong_confirmation_code_keeps_it_off() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    browser.submit("/security/two-factor/enable", &[("password", PASSWORD)]).await;

    let page = browser.submit("/security/two-factor/confirm", &[("code", "000000")]).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "code").unwrap().contains("does not match"));
    let user = users::find_by_username(&app.state.database, USERNAME).await.unwrap().unwrap();
    assert!(two_factor::credential(&app.state.database, &user.id).await.unwrap().is_none());
}

#[tokio::test]
async fn enabling_needs_the_password() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;

    let page = browser.submit("/security/two-factor/enable", &[("password", "not my password at all")]).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_error(&page.body, "password").unwrap(), "The password is incorrect.");
}

#[tokio::test]
async fn qr_code_is_a_png_of_pending_key() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    assert_eq!(browser.get("/security/two-factor/qr.png").await.status, StatusCode::NOT_FOUND, "no pending key yet");
    browser.submit("/security/two-factor/enable", &[("password", PASSWORD)]).await;

    let response = browser.client.get(browser.url("/security/two-factor/qr.png")).send().await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get("content-type").unwrap(), "image/png");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}

#[tokio::test]
async fn sign_in_asks_code_and_renews_session_token() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    let browser = app.browser();

    let password_step = browser.sign_in(USERNAME, PASSWORD).await;
    assert_eq!(password_step.location(), Some("/sign-in/two-factor"));
    let code_step = submit_code(&browser, &enabled.secret.code_at(app.clock.now_value())).await;

    assert_eq!(code_step.status, StatusCode::SEE_OTHER);
    assert_eq!(code_step.location(), Some("/account"));
    assert_ne!(session_cookie(&password_step), session_cookie(&code_step));
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn password_only_session_reaches_nothing_else() {
    let app = TestApp::spawn().await;
    enable(&app, &app.sign_up(USERNAME).await, false).await;
    let browser = sign_in_to_code_page(&app).await;

    for path in ["/account", "/security/password", "/security/two-factor", "/security/two-factor/disable", "/security/username"] {
        assert_eq!(browser.get(path).await.location(), Some("/sign-in/two-factor"), "GET {path}");
    }
    let change = browser
        .submit("/security/password", &[("current_password", PASSWORD), ("new_password", NEW_PASSWORD), ("password_confirmation", NEW_PASSWORD)])
        .await;
    assert_eq!(change.location(), Some("/sign-in/two-factor"), "change password refused");
    let disable = browser.submit("/security/two-factor/disable", &[("password", PASSWORD), ("code", "000000")]).await;
    assert_eq!(disable.location(), Some("/sign-in/two-factor"), "disable refused");
    let account = browser.submit("/account", &[("name", "x")]).await;
    assert_eq!(account.location(), Some("/sign-in/two-factor"), "Account Info refused");
    assert_eq!(app.browser().sign_in(USERNAME, NEW_PASSWORD).await.status, StatusCode::UNAUTHORIZED, "password unchanged");
}

#[tokio::test]
async fn code_page_requires_csrf_token() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    let browser = sign_in_to_code_page(&app).await;

    let page = browser.post_form("/sign-in/two-factor", &[("code", &enabled.secret.code_at(app.clock.now_value()))]).await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn malformed_codes_are_rejected_and_spaced_code_accepted() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    let code = enabled.secret.code_at(app.clock.now_value());
    let full_width: String = code.chars().map(|digit| char::from_u32(u32::from(digit) - u32::from('0') + 0xFF10).unwrap()).collect();
    let browser = sign_in_to_code_page(&app).await;

    for wrong in [code[2..].to_owned(), code[1..].to_owned(), format!("0{code}"), format!("+{code}"), full_width] {
        let page = submit_code(&browser, &wrong).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
    // Five failures make the next try wait 30 seconds; the code of the next step is used.
    app.clock.advance(30);
    let code = enabled.secret.code_at(app.clock.now_value());
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let accepted = submit_code(&browser, &spaced).await;

    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{spaced:?}");
}

#[tokio::test]
async fn code_is_accepted_once_per_step() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    let code = enabled.secret.code_at(app.clock.now_value());

    let first = submit_code(&sign_in_to_code_page(&app).await, &code).await;
    let replay = submit_code(&sign_in_to_code_page(&app).await, &code).await;

    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(unescape(&replay.body).contains("was already used"));
}

#[tokio::test]
async fn concurrent_sign_ins_with_one_code_pass_once() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    let code = enabled.secret.code_at(app.clock.now_value());
    let first = sign_in_to_code_page(&app).await;
    let second = sign_in_to_code_page(&app).await;

    let (a, b) = tokio::join!(submit_code(&first, &code), submit_code(&second, &code));

    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 401]);
}

#[tokio::test]
async fn drift_of_one_step_accepted_two_rejected() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    let now = app.clock.now_value();

    let two_ahead = submit_code(&sign_in_to_code_page(&app).await, &enabled.secret.code_at(now + 60)).await;
    let two_behind = submit_code(&sign_in_to_code_page(&app).await, &enabled.secret.code_at(now - 60)).await;
    let one_behind = submit_code(&sign_in_to_code_page(&app).await, &enabled.secret.code_at(now - 30)).await;
    let one_ahead = submit_code(&sign_in_to_code_page(&app).await, &enabled.secret.code_at(now + 30)).await;

    assert_eq!(two_ahead.status, StatusCode::UNAUTHORIZED);
    assert_eq!(two_behind.status, StatusCode::UNAUTHORIZED);
    assert_eq!(one_ahead.status, StatusCode::SEE_OTHER);
    assert_eq!(one_behind.status, StatusCode::UNAUTHORIZED, "this step, the setup step, was used at activation");
}

#[tokio::test]
async fn code_from_previous_step_accepted() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    app.clock.advance(30);

    let page = submit_code(&sign_in_to_code_page(&app).await, &enabled.secret.code_at(app.clock.now_value() - 30)).await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn wrong_codes_are_throttled() {
    let app = TestApp::spawn().await;
    enable(&app, &app.sign_up(USERNAME).await, false).await;
    let browser = sign_in_to_code_page(&app).await;

    for attempt in 0..5 {
        assert_eq!(submit_code(&browser, "000000").await.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let throttled = submit_code(&browser, "000000").await;

    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers.get("retry-after").unwrap(), "30");
}

#[tokio::test]
async fn remembered_browser_skips_code_until_removed() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    let browser = sign_in_to_code_page(&app).await;
    let signed_in = browser.submit("/sign-in/two-factor", &[("code", &enabled.secret.code_at(app.clock.now_value())), ("remember", "yes")]).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    browser.submit("/sign-out", &[]).await;

    let again = browser.sign_in(USERNAME, PASSWORD).await;
    assert_eq!(again.location(), Some("/account"), "trusted browser skips the code");

    let status = browser.get("/security/two-factor").await;
    let marker = "action=\"/security/trusted-devices/";
    let start = status.body.find(marker).unwrap() + marker.len();
    let device_id = status.body[start..].split('/').next().unwrap().to_owned();
    let removed = browser.submit(&format!("/security/trusted-devices/{device_id}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    browser.submit("/sign-out", &[]).await;

    assert_eq!(browser.sign_in(USERNAME, PASSWORD).await.location(), Some("/sign-in/two-factor"), "code asked again");
}

#[tokio::test]
async fn trusted_devices_listed_with_browser_and_address() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    enable(&app, &browser, true).await;

    let page = browser.get("/security/two-factor").await;

    assert!(page.body.contains("<td>Unknown browser on an unknown system <mark>this browser</mark></td>"), "reqwest sends no User-Agent");
    assert!(page.body.contains("<td>127.0.0.1</td>"));
    assert!(page.body.contains("aria-label=\"Remove"));
}

#[tokio::test]
async fn trusted_cookie_of_other_user_is_ignored() {
    let app = TestApp::spawn().await;
    let dana = app.sign_up(USERNAME).await;
    enable(&app, &dana, true).await;
    let lee = app.sign_up("lee@example.com").await;
    let lee_enabled = enable(&app, &lee, false).await;
    lee.submit("/sign-out", &[]).await;
    drop(lee_enabled);

    // Dana's browser holds Dana's trusted-device cookie; Lee signs in on it.
    dana.submit("/sign-out", &[]).await;
    let page = dana.sign_in("lee@example.com", PASSWORD).await;

    assert_eq!(page.location(), Some("/sign-in/two-factor"));
}

#[tokio::test]
async fn trusted_device_expires_after_thirty_days() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    enable(&app, &browser, true).await;
    browser.submit("/sign-out", &[]).await;

    app.clock.advance(30 * 86_400);

    assert_eq!(browser.sign_in(USERNAME, PASSWORD).await.location(), Some("/sign-in/two-factor"));
}

#[tokio::test]
async fn recovery_code_works_once() {
    let app = TestApp::spawn().await;
    let enabled = enable(&app, &app.sign_up(USERNAME).await, false).await;
    let code = enabled.codes[3].to_uppercase();

    let first = submit_code(&sign_in_to_code_page(&app).await, &code).await;
    let second = submit_code(&sign_in_to_code_page(&app).await, &code).await;

    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(second.status, StatusCode::UNAUTHORIZED);
    let user = users::find_by_username(&app.state.database, USERNAME).await.unwrap().unwrap();
    assert_eq!(two_factor::unused_recovery_codes(&app.state.database, &user.id).await.unwrap(), 9);
    let mail = app.wait_for_mail(2).await;
    assert!(mail.iter().any(|message| message.contains("A recovery code was used")));
}

#[tokio::test]
async fn disabling_needs_password_and_code_and_clears_everything() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    let enabled = enable(&app, &browser, true).await;

    let wrong = browser.submit("/security/two-factor/disable", &[("password", PASSWORD), ("code", "000000")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = browser.submit("/security/two-factor/disable", &[("password", PASSWORD), ("code", &enabled.codes[0])]).await;

    assert_eq!(done.location(), Some("/security/two-factor?done=disabled"));
    let user = users::find_by_username(&app.state.database, USERNAME).await.unwrap().unwrap();
    assert_eq!(two_factor::unused_recovery_codes(&app.state.database, &user.id).await.unwrap(), 0);
    assert!(two_factor::trusted_devices(&app.state.database, &user.id, app.clock.now_value()).await.unwrap().is_empty());
    assert_eq!(app.browser().sign_in(USERNAME, PASSWORD).await.location(), Some("/account"), "no code asked");
}

#[tokio::test]
async fn renewed_key_replaces_old_only_when_confirmed() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    let old = enable(&app, &browser, false).await;

    let renew = browser.submit("/security/two-factor/renew", &[("password", PASSWORD), ("code", &old.secret.code_at(app.clock.now_value()))]).await;
    assert_eq!(renew.location(), Some("/security/two-factor/confirm"));
    let new_secret = shown_key(&browser.get("/security/two-factor/confirm").await.body);
    app.clock.advance(30);
    let old_still_works = submit_code(&sign_in_to_code_page(&app).await, &old.secret.code_at(app.clock.now_value())).await;
    assert_eq!(old_still_works.status, StatusCode::SEE_OTHER, "old key works until the new one is confirmed");

    app.clock.advance(30);
    let confirmed = browser.submit("/security/two-factor/confirm", &[("code", &new_secret.code_at(app.clock.now_value()))]).await;
    assert_eq!(confirmed.location(), Some("/security/two-factor?done=renewed"));
    app.clock.advance(30);

    let old_code = submit_code(&sign_in_to_code_page(&app).await, &old.secret.code_at(app.clock.now_value())).await;
    assert_eq!(old_code.status, StatusCode::UNAUTHORIZED);
    let new_code = submit_code(&sign_in_to_code_page(&app).await, &new_secret.code_at(app.clock.now_value())).await;
    assert_eq!(new_code.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn new_recovery_codes_void_old_set() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    let enabled = enable(&app, &browser, false).await;

    let page = browser.submit("/security/two-factor/recovery-codes", &[("password", PASSWORD), ("code", &enabled.secret.code_at(app.clock.now_value()))]).await;
    let fresh = recovery_codes(&page.body);

    assert_eq!(fresh.len(), 10);
    assert_eq!(submit_code(&sign_in_to_code_page(&app).await, &enabled.codes[0]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(submit_code(&sign_in_to_code_page(&app).await, &fresh[0]).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn password_change_removes_trusted_devices() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up(USERNAME).await;
    enable(&app, &browser, true).await;

    browser
        .submit("/security/password", &[("current_password", PASSWORD), ("new_password", NEW_PASSWORD), ("password_confirmation", NEW_PASSWORD)])
        .await;
    browser.submit("/sign-out", &[]).await;

    assert_eq!(browser.sign_in(USERNAME, NEW_PASSWORD).await.location(), Some("/sign-in/two-factor"));
}

#[tokio::test]
async fn password_reset_does_not_skip_code() {
    let app = TestApp::spawn().await;
    enable(&app, &app.sign_up(USERNAME).await, false).await;
    app.browser().submit("/forgot-password", &[("email", USERNAME)]).await;
    let link = app.reset_link(2).await;
    let token = link.split("token=").nth(1).unwrap();
    app.browser()
        .submit("/reset-password", &[("token", token), ("password", NEW_PASSWORD), ("password_confirmation", NEW_PASSWORD)])
        .await;

    let page = app.browser().sign_in(USERNAME, NEW_PASSWORD).await;

    assert_eq!(page.location(), Some("/sign-in/two-factor"));
}

#[tokio::test]
async fn secret_is_encrypted_and_bound_to_user() {
    let app = TestApp::spawn().await;
    let dana = enable(&app, &app.sign_up(USERNAME).await, false).await;
    enable(&app, &app.sign_up("lee@example.com").await, false).await;
    let database = &app.state.database;
    let dana_id = users::find_by_username(database, USERNAME).await.unwrap().unwrap().id;
    let lee_id = users::find_by_username(database, "lee@example.com").await.unwrap().unwrap().id;
    let stored = two_factor::credential(database, &dana_id).await.unwrap().unwrap();
    assert!(!stored.secret_ciphertext.contains(&dana.secret.to_base32()));

    sqlx::query("UPDATE totp_credentials SET secret_ciphertext = $1 WHERE user_id = $2")
        .bind(&stored.secret_ciphertext)
        .bind(&lee_id)
        .execute(database.pool())
        .await
        .unwrap();
    let browser = app.browser();
    browser.sign_in("lee@example.com", PASSWORD).await;
    let page = submit_code(&browser, &dana.secret.code_at(app.clock.now_value())).await;

    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "a secret copied to another user does not decrypt");
}
