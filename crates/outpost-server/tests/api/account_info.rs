use outpost_store::billing;
use outpost_store::users;
use reqwest::StatusCode;

use crate::helpers::{TestApp, field_error};

fn valid_fields() -> Vec<(&'static str, String)> {
    vec![
        ("account_type", "business".into()),
        ("name", "Nordlicht IT GmbH – Zürich 北京".into()),
        ("address_line1", "Hauptstraße 5".into()),
        ("address_line2", String::new()),
        ("postal_code", "10115".into()),
        ("city", "Berlin".into()),
        ("region", String::new()),
        ("country", "DE".into()),
        ("tax_id", "DE 123 456 789".into()),
        ("reverse_charge", "yes".into()),
        ("billing_email", "billing@nordlicht.example".into()),
    ]
}

fn with(field: &'static str, value: &str) -> Vec<(&'static str, String)> {
    valid_fields().into_iter().map(|(name, old)| if name == field { (name, value.to_owned()) } else { (name, old) }).collect()
}

async fn save(browser: &crate::helpers::Browser, fields: &[(&'static str, String)]) -> crate::helpers::Page {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
    browser.submit("/account", &pairs).await
}

async fn stored(app: &TestApp) -> Option<billing::StoredBillingDetails> {
    let user = users::find_by_username(&app.state.database, "dana@example.com").await.unwrap().unwrap();
    billing::get(&app.state.database, &user.account_id).await.unwrap()
}

#[tokio::test]
async fn billing_details_save_and_show_again() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let saved = save(&browser, &valid_fields()).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = browser.get(saved.location().unwrap()).await;

    assert!(page.body.contains("Billing details saved."));
    assert!(page.body.contains("value=\"Nordlicht IT GmbH – Zürich 北京\""));
    assert!(page.body.contains("value=\"DE123456789\""), "VAT number normalised");
    assert!(page.body.contains("<option value=\"DE\" selected>"));
    assert_eq!(stored(&app).await.unwrap().country, "DE");
}

#[tokio::test]
async fn unknown_country_gets_message_and_saves_nothing() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = save(&browser, &with("country", "XX")).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "country").unwrap().contains("\"XX\" is not in the ISO 3166-1 list"));
    assert!(page.body.contains("value=\"Nordlicht IT GmbH – Zürich 北京\""), "typed name kept");
    assert!(stored(&app).await.is_none());
}

#[tokio::test]
async fn malformed_vat_number_gets_message() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = save(&browser, &with("tax_id", "DE12")).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "tax_id").unwrap().contains("does not have the format used in Germany (DE)"));
    assert!(page.body.contains("value=\"DE12\""), "typed VAT number kept");
}

#[tokio::test]
async fn overlong_address_line_gets_message() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = save(&browser, &with("address_line1", &"x".repeat(10_000))).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "address_line1").unwrap().contains("too long: 10000 characters"));
    assert!(stored(&app).await.is_none());
}

#[tokio::test]
async fn nul_byte_in_field_gets_message() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;

    let page = save(&browser, &with("city", "Ber\0lin")).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&page.body, "city").unwrap().contains("control characters"));
    assert!(stored(&app).await.is_none());
}

#[tokio::test]
async fn invalid_utf8_form_is_rejected_with_message() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;
    let token = browser.csrf_token().await;

    let page = browser.post_raw("/account", format!("csrf_token={token}&city=%FF%FEBerlin").into_bytes()).await;

    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(crate::helpers::unescape(&page.body).contains("The form field \"city\" is not valid UTF-8 text."));
}

#[tokio::test]
async fn one_megabyte_form_is_rejected_with_413() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;
    let token = browser.csrf_token().await;
    let body = format!("csrf_token={token}&name={}", "a".repeat(1024 * 1024));

    let page = browser.post_raw("/account", body.into_bytes()).await;

    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("64 KiB"));
}

#[tokio::test]
async fn form_without_csrf_token_is_rejected() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;
    let fields = valid_fields();
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();

    let page = browser.post_form("/account", &pairs).await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("security token is missing or expired"));
    assert!(stored(&app).await.is_none());
}

#[tokio::test]
async fn form_from_another_origin_is_rejected() {
    let app = TestApp::spawn().await;
    let browser = app.sign_up("dana@example.com").await;
    let token = browser.csrf_token().await;
    let mut fields: Vec<(&str, String)> = valid_fields();
    fields.push(("csrf_token", token));

    let response = browser
        .client
        .post(browser.url("/account"))
        .header("origin", "https://attacker.example")
        .form(&fields)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(stored(&app).await.is_none());
}
