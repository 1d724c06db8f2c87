//! Collectors through the pages and the agent API.

use outpost_store::{collectors, users};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, field_error, unescape};

const MASTER: &str = "master@example.com";

/// Adds a collector from the Team Master's browser; returns its id and activation key.
async fn add_collector(master: &Browser, name: &str) -> (String, String) {
    let page = master.submit("/collectors/new", &[("name", name)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let key = page.body.split("--key=").nth(1).unwrap().split('<').next().unwrap().trim().to_owned();
    let id = page.body.split("href=\"/collectors/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    (id, key)
}

fn agent() -> reqwest::Client {
    crate::helpers::install_crypto_provider();
    reqwest::Client::new()
}

async fn call(app: &TestApp, method: reqwest::Method, path: &str, credential: Option<&str>, body: Option<Value>) -> (StatusCode, Value, String) {
    let mut request = agent().request(method, format!("{}/agent/v1{path}", app.address));
    if let Some(credential) = credential {
        request = request.bearer_auth(credential);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default();
    let value = response.json().await.unwrap_or(Value::Null);
    (status, value, content_type)
}

fn activation(key: &str) -> Value {
    json!({"key": key, "hostname": "gw-berlin", "version": "1.2.3", "local_ip": "192.0.2.10", "mac": "AA-BB-CC-DD-EE-FF"})
}

fn heartbeat_body() -> Value {
    json!({"version": "1.2.4", "local_ip": "FE80::1", "mac": "aabb.ccdd.eeff", "uptime_seconds": 42})
}

async fn activate(app: &TestApp, key: &str) -> String {
    let (status, body, _) = call(app, reqwest::Method::POST, "/activate", None, Some(activation(key))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["heartbeat_interval_seconds"], 60);
    body["credential"].as_str().unwrap().to_owned()
}

/// Waits until the heartbeat writer has stored a heartbeat at or after `at`.
async fn wait_for_heartbeat(app: &TestApp, account_id: &str, collector_id: &str, at: i64) -> collectors::Collector {
    for _ in 0..300 {
        let collector = collectors::get(&app.state.database, account_id, collector_id).await.unwrap().unwrap();
        if collector.last_seen_at.is_some_and(|seen| seen >= at) && collector.uptime_seconds.is_some() {
            return collector;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the heartbeat was not written within 6 seconds");
}

async fn account_id(app: &TestApp) -> String {
    users::find_by_username(&app.state.database, MASTER).await.unwrap().unwrap().account_id
}

#[tokio::test]
async fn add_activate_heartbeat_shows_connected() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    assert!(master.get("/collectors").await.body.contains("<td>Pending</td>"));

    let credential = activate(&app, &key).await;
    app.clock.advance(10);
    let now = app.state.now();
    let (status, body, _) = call(&app, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(heartbeat_body())).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["server_time"], now);
    let stored = wait_for_heartbeat(&app, &account_id(&app).await, &id, now).await;
    assert_eq!(stored.local_ip, "fe80::1", "IPv6 stored in canonical form");
    assert_eq!(stored.mac, "aa:bb:cc:dd:ee:ff", "MAC stored normalised");
    assert_eq!(stored.package_version, "1.2.4");
    let list = master.get("/collectors").await.body;
    assert!(list.contains("<td>Active</td>"));
    assert!(list.contains("<td>Connected</td>"));
    assert!(list.contains("1 collector: 1 subscription, 0 prepaid"), "{list}");
    let detail = master.get(&format!("/collectors/{id}")).await.body;
    assert!(detail.contains("gw-berlin"));
}

#[tokio::test]
async fn collector_disconnects_after_window() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    activate(&app, &key).await;

    app.clock.advance(180);

    let detail = master.get(&format!("/collectors/{id}")).await.body;
    assert!(detail.contains("<td>Disconnected</td>"));
}

#[tokio::test]
async fn used_or_renewed_key_is_refused() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    activate(&app, &key).await;

    let (reused, body, content_type) = call(&app, reqwest::Method::POST, "/activate", None, Some(activation(&key))).await;
    assert_eq!(reused, StatusCode::FORBIDDEN);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["type"], "urn:outpost:problem:invalid-activation-key");

    let renewed_page = master.submit(&format!("/collectors/{id}/activation-key"), &[]).await;
    let new_key = renewed_page.body.split("--key=").nth(1).unwrap().split('<').next().unwrap().trim().to_owned();
    let (_, _, _) = call(&app, reqwest::Method::POST, "/activate", None, Some(activation(&new_key))).await;
    let renewed_again = master.submit(&format!("/collectors/{id}/activation-key"), &[]).await;
    let newest_key = renewed_again.body.split("--key=").nth(1).unwrap().split('<').next().unwrap().trim().to_owned();
    assert_ne!(new_key, newest_key);
    let (old_key_status, _, _) = call(&app, reqwest::Method::POST, "/activate", None, Some(activation(&new_key))).await;
    assert_eq!(old_key_status, StatusCode::FORBIDDEN, "a renewed key kills the old one");
}

#[tokio::test]
async fn activation_key_expires_after_seven_days() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (_, key) = add_collector(&master, "Berlin office").await;

    app.clock.advance(7 * 86_400);

    let (status, _, _) = call(&app, reqwest::Method::POST, "/activate", None, Some(activation(&key))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_heartbeats_get_problem_details() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (_, key) = add_collector(&master, "Berlin office").await;
    let credential = activate(&app, &key).await;
    let url = format!("{}/agent/v1/heartbeat", app.address);

    let huge = agent().post(&url).bearer_auth(&credential).header("content-type", "application/json").body(vec![b' '; 1024 * 1024]).send().await.unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.headers().get("content-type").unwrap(), "application/problem+json");

    let missing = call(&app, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(json!({"version": "1"}))).await;
    assert_eq!(missing.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.1["type"], "urn:outpost:problem:invalid-request");

    let wrong_type = call(&app, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(json!({"version": 1, "local_ip": "10.0.0.1", "mac": "aa:bb:cc:dd:ee:ff", "uptime_seconds": "long"}))).await;
    assert_eq!(wrong_type.0, StatusCode::UNPROCESSABLE_ENTITY);

    let bad_mac = call(&app, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(json!({"version": "1", "local_ip": "10.0.0.1", "mac": "gg:bb:cc:dd:ee:ff", "uptime_seconds": 1}))).await;
    assert_eq!(bad_mac.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_mac.1["detail"].as_str().unwrap().contains("not a MAC address"));

    let short_mac = call(&app, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(json!({"version": "1", "local_ip": "10.0.0.1", "mac": "aa:bb:cc", "uptime_seconds": 1}))).await;
    assert_eq!(short_mac.0, StatusCode::UNPROCESSABLE_ENTITY);

    let unknown = call(&app, reqwest::Method::POST, "/heartbeat", Some("not-a-real-credential"), Some(heartbeat_body())).await;
    assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.1["type"], "urn:outpost:problem:invalid-credential");

    let not_json = agent().post(&url).bearer_auth(&credential).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn credential_only_reaches_its_own_collector() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let other = app.sign_up("other@example.com").await;
    let (mine, _) = add_collector(&master, "Mine").await;
    let (_, other_key) = add_collector(&other, "Theirs").await;
    let other_credential = activate(&app, &other_key).await;

    call(&app, reqwest::Method::PUT, "/inventory", Some(&other_credential), Some(json!({"devices": [{"ip": "10.0.0.7", "mac": "aa:bb:cc:dd:ee:07", "first_seen": 1, "last_seen": 2}]}))).await;

    let account = account_id(&app).await;
    assert!(collectors::devices(&app.state.database, &account, &mine).await.unwrap().is_empty());
    assert_eq!(master.get(&format!("/collectors/{mine}")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn inventory_is_stored_and_limited() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    let credential = activate(&app, &key).await;

    let devices = json!({"devices": [
        {"ip": "192.0.2.20", "mac": "AA:BB:CC:DD:EE:20", "hostname": "printer", "first_seen": 100, "last_seen": 200},
        {"ip": "FE80::20", "mac": "aabb.ccdd.ee21", "first_seen": 100, "last_seen": 200}
    ]});
    let (status, body, _) = call(&app, reqwest::Method::PUT, "/inventory", Some(&credential), Some(devices)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], 2);
    let detail = master.get(&format!("/collectors/{id}")).await.body;
    assert!(detail.contains("<td>192.0.2.20</td>"));
    assert!(detail.contains("<td>fe80::20</td>"));

    let many: Vec<Value> = (0..100_000).map(|index| json!({"ip": format!("10.{}.{}.{}", index / 65536, (index / 256) % 256, index % 256), "mac": "aa:bb:cc:dd:ee:ff", "first_seen": 1, "last_seen": 2})).collect();
    let (too_many, problem, _) = call(&app, reqwest::Method::PUT, "/inventory", Some(&credential), Some(json!({"devices": many}))).await;
    assert_eq!(too_many, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(problem["type"], "urn:outpost:problem:too-large");
}

#[tokio::test]
async fn configuration_is_served_to_agent() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    let credential = activate(&app, &key).await;

    let bad = master.submit(&format!("/collectors/{id}/configuration"), &[("inventory_interval_minutes", "0"), ("excluded_addresses", "printer")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_error(&bad.body, "excluded_addresses").unwrap().contains("not an IP address"));
    assert!(bad.body.contains(">printer</textarea>"), "typed text kept");
    master.submit(&format!("/collectors/{id}/configuration"), &[("inventory_interval_minutes", "30"), ("excluded_addresses", "192.0.2.1\n10.0.0.0/8")]).await;

    let (status, body, _) = call(&app, reqwest::Method::GET, "/configuration", Some(&credential), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["inventory_interval_seconds"], 1800);
    assert_eq!(body["excluded_addresses"], json!(["192.0.2.1", "10.0.0.0/8"]));
}

#[tokio::test]
async fn rename_validates_name() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, _) = add_collector(&master, "Berlin office").await;

    for bad in ["", &"x".repeat(10_000), "Berlin\u{7}office"] {
        let page = master.submit(&format!("/collectors/{id}/rename"), &[("name", bad)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(field_error(&page.body, "name").is_some());
    }
    let renamed = master.submit(&format!("/collectors/{id}/rename"), &[("name", "Berlin HQ")]).await;

    assert_eq!(renamed.location().unwrap(), format!("/collectors/{id}?done=renamed"));
    let history = master.get("/collectors/history").await.body;
    assert!(history.contains("<td>Berlin HQ</td><td>renamed</td>"));
}

#[tokio::test]
async fn clean_up_keeps_name_and_kind() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    let credential = activate(&app, &key).await;
    call(&app, reqwest::Method::PUT, "/inventory", Some(&credential), Some(json!({"devices": [{"ip": "192.0.2.20", "mac": "aa:bb:cc:dd:ee:20", "first_seen": 1, "last_seen": 2}]}))).await;
    master.submit(&format!("/collectors/{id}/configuration"), &[("inventory_interval_minutes", "30"), ("excluded_addresses", "192.0.2.1")]).await;

    let done = master.submit(&format!("/collectors/{id}/clean-up"), &[]).await;

    assert_eq!(done.location().unwrap(), format!("/collectors/{id}?done=cleaned"));
    let account = account_id(&app).await;
    assert!(collectors::devices(&app.state.database, &account, &id).await.unwrap().is_empty());
    let stored = collectors::get(&app.state.database, &account, &id).await.unwrap().unwrap();
    assert_eq!(stored.name, "Berlin office");
    assert_eq!(stored.kind, "subscription");
    assert_eq!(stored.excluded_addresses, "");
    assert_eq!(stored.inventory_interval_seconds, 900);
}

#[tokio::test]
async fn delete_refused_while_connected() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    let credential = activate(&app, &key).await;

    let refused = master.submit(&format!("/collectors/{id}/delete"), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(unescape(&refused.body).contains("is connected"));

    app.clock.advance(180);
    let deleted = master.submit(&format!("/collectors/{id}/delete"), &[]).await;
    assert_eq!(deleted.location(), Some("/collectors?done=deleted"));
    let (status, body, _) = call(&app, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(heartbeat_body())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let history = master.get(&format!("/collectors/history?collector={id}")).await.body;
    assert!(history.contains("<td>Berlin office</td><td>deleted</td>"));
}

#[tokio::test]
async fn concurrent_deletes_one_succeeds() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, _) = add_collector(&master, "Berlin office").await;
    let path = format!("/collectors/{id}/delete");

    let (first, second) = tokio::join!(master.submit(&path, &[]), master.submit(&path, &[]));

    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 410]);
    let gone = if first.status == StatusCode::GONE { first } else { second };
    assert!(gone.body.contains("no longer exists"));
}

#[tokio::test]
async fn prepaid_collector_expires_once() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    let credential = activate(&app, &key).await;
    let now = app.state.now();
    collectors::grant_prepaid(&app.state.database, &id, now + 60, "test grant", now).await.unwrap();

    app.clock.advance(60);
    let first = collectors::expire_due(&app.state.database, app.state.now()).await.unwrap();
    let second = collectors::expire_due(&app.state.database, app.state.now()).await.unwrap();

    assert_eq!(first.len(), 1);
    assert!(second.is_empty(), "expired once");
    tokio::time::sleep(std::time::Duration::from_millis(5_100)).await;
    let (status, body, _) = call(&app, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(heartbeat_body())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["type"], "urn:outpost:problem:collector-expired");
    let history = master.get("/collectors/history").await.body;
    assert!(history.contains("<td>expired</td><td>system</td>"));
}

#[tokio::test]
async fn history_csv_neutralises_formulas() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    add_collector(&master, "=cmd|' /C calc'!A0").await;

    let response = master.client.get(master.url("/collectors/history.csv")).send().await.unwrap();

    let body = response.text().await.unwrap();
    assert!(body.starts_with("time_utc,collector_id,collector_name,action,by,details\r\n"));
    assert!(body.contains(",'=cmd|' /C calc'!A0,added,master@example.com,"), "{body}");
}

#[tokio::test]
async fn member_views_and_renames_only() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;
    let (id, _) = add_collector(&master, "Berlin office").await;
    master.submit("/team/invite", &[("email", "member@example.com"), ("name", "Mia")]).await;
    let link = app.link_in_mail(1, "/invitation?token=").await;
    let member = app.browser();
    let token = link.split("token=").nth(1).unwrap();
    member.submit("/invitation", &[("token", token), ("password", crate::helpers::PASSWORD), ("password_confirmation", crate::helpers::PASSWORD)]).await;

    assert_eq!(member.get(&format!("/collectors/{id}")).await.status, StatusCode::OK);
    assert_eq!(member.submit(&format!("/collectors/{id}/rename"), &[("name", "Berlin HQ")]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(member.get("/collectors/new").await.status, StatusCode::FORBIDDEN);
    assert_eq!(member.submit(&format!("/collectors/{id}/clean-up"), &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(member.submit(&format!("/collectors/{id}/delete"), &[]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn deleted_credential_refused_on_other_instance() {
    let first = TestApp::spawn().await;
    let database_url = first.state.config.database_url.clone();
    let key_file = first.data_dir.join("secret.key");
    let second = TestApp::spawn_with(|config| {
        config.database_url = database_url;
        config.secret_key_file = Some(key_file);
    })
    .await;
    let master = first.sign_up(MASTER).await;
    let (id, key) = add_collector(&master, "Berlin office").await;
    let credential = activate(&first, &key).await;
    let (cached, _, _) = call(&second, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(heartbeat_body())).await;
    assert_eq!(cached, StatusCode::OK, "the second instance now holds the credential in its cache");

    first.clock.advance(180);
    let deleted = master.submit(&format!("/collectors/{id}/delete"), &[]).await;
    assert_eq!(deleted.location(), Some("/collectors?done=deleted"));
    let started = std::time::Instant::now();
    let mut status = StatusCode::OK;
    while started.elapsed() < std::time::Duration::from_secs(5) && status == StatusCode::OK {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        status = call(&second, reqwest::Method::POST, "/heartbeat", Some(&credential), Some(heartbeat_body())).await.0;
    }

    assert_eq!(status, StatusCode::UNAUTHORIZED, "refused within 5 seconds on the other instance");
}

#[tokio::test]
async fn empty_list_and_empty_filter_say_which() {
    let app = TestApp::spawn().await;
    let master = app.sign_up(MASTER).await;

    let empty = master.get("/collectors").await.body;
    assert!(empty.contains("0 collectors:"), "{empty}");
    assert!(empty.contains("No collectors yet. Add one to get an activation key for the agent."), "{empty}");

    add_collector(&master, "Berlin office").await;
    let filtered = master.get("/collectors?kind=prepaid").await.body;
    assert!(filtered.contains("No collector matches the filter."), "{filtered}");
    assert!(!filtered.contains("No collectors yet."));
}
