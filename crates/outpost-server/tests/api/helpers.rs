//! `TestApp`: the real app on port 0 with its own database (SQLite in a temporary folder, or
//! a fresh PostgreSQL database when `OUTPOST_TEST_DATABASE_URL` is set), a manual clock and
//! the outbox mailer, plus a cookie-keeping `Browser` client.

use std::path::PathBuf;
use std::sync::Arc;

use outpost_server::config::MailConfig;
use outpost_server::state::AppState;
use outpost_server::{App, ManualClock, ServerConfig};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use tokio::sync::oneshot;

/// 2026-12-01 00:00:00 UTC.
pub const START_TIME: i64 = 1_796_083_200;

pub const PASSWORD: &str = "copper kettle river lantern";
pub const NEW_PASSWORD: &str = "violet harbour mountain engine";

pub struct TestApp {
    pub address: String,
    pub clock: Arc<ManualClock>,
    pub data_dir: PathBuf,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Makes a database URL for one test: a fresh PostgreSQL database, or an SQLite file.
pub async fn fresh_database_url(data_dir: &std::path::Path) -> String {
    let Ok(base) = std::env::var("OUTPOST_TEST_DATABASE_URL") else {
        return format!("sqlite://{}", data_dir.join("outpost.db").display());
    };

    let name = format!("outpost_test_{}", uuid::Uuid::now_v7().simple());
    let admin = outpost_store::Database::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(admin.pool()).await.unwrap();
    admin.close().await;

    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("outpost-test-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn base_config(data_dir: PathBuf, database_url: String) -> ServerConfig {
    ServerConfig {
        data_dir,
        database_url,
        public_url: String::new(),
        support_email: "support@outpost.example".into(),
        trusted_proxies: Vec::new(),
        session_idle_seconds: 30 * 60,
        session_absolute_seconds: 12 * 3600,
        heartbeat_interval_seconds: 60,
        collector_offline_after_seconds: 180,
        totp_issuer: "Outpost".into(),
        trusted_device_days: 30,
        secret_key_file: None,
        mail: MailConfig { from: "outpost@outpost.example".into(), smtp: None },
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the app after `adjust` has changed the default test settings.
    pub async fn spawn_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let data_dir = temp_dir();
        let database_url = fresh_database_url(&data_dir).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());

        let mut config = base_config(data_dir.clone(), database_url);
        config.public_url = address.clone();
        adjust(&mut config);

        let clock = Arc::new(ManualClock::new(START_TIME));
        let app = App::build(config, clock.clone()).await.unwrap();
        let state = app.state.clone();

        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = outpost_server::serve(app, listener, async {
                let _ = stopped.await;
            })
            .await;
        });

        Self { address, clock, data_dir, state, shutdown: Some(shutdown) }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// Signs up a Team Master with `username` and [`PASSWORD`]; returns the signed-in browser.
    pub async fn sign_up(&self, username: &str) -> Browser {
        let browser = self.browser();
        let response = browser
            .submit("/sign-up", &[("username", username), ("password", PASSWORD), ("password_confirmation", PASSWORD)])
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "sign-up of {username} failed: {}", response.body);
        browser
    }

    /// The messages written to the outbox, oldest first.
    pub fn outbox(&self) -> Vec<String> {
        let mut entries: Vec<_> = std::fs::read_dir(self.data_dir.join("outbox"))
            .map(|dir| dir.filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.extension().is_some_and(|ext| ext == "eml")).collect())
            .unwrap_or_default();
        entries.sort();
        entries.iter().filter_map(|path| std::fs::read_to_string(path).ok()).collect()
    }

    /// Waits for the outbox to hold `count` messages; mail is written by a background task.
    pub async fn wait_for_mail(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let messages = self.outbox();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the outbox did not reach {count} messages");
    }

    /// The first line of the newest message that contains `marker`, trimmed.
    pub async fn link_in_mail(&self, count: usize, marker: &str) -> String {
        let messages = self.wait_for_mail(count).await;
        let message = messages.last().unwrap();
        message.lines().find(|line| line.contains(marker)).unwrap().trim().to_owned()
    }

    /// The reset link in the newest message.
    pub async fn reset_link(&self, count: usize) -> String {
        let messages = self.wait_for_mail(count).await;
        let message = messages.last().unwrap();
        let line = message.lines().find(|line| line.contains("/reset-password?token=")).unwrap();
        line.trim().to_owned()
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|value| value.to_str().ok())
    }
}

/// Installs rustls' ring provider once. In a workspace build reqwest is compiled with the
/// agent's `rustls-no-provider` feature, and then every client needs a provider, even one
/// that only speaks plain HTTP.
pub fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Browser {
    pub fn new(base: &str) -> Self {
        install_crypto_provider();
        let client = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Self { client, base: base.to_owned() }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) }
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        Page { status: response.status(), headers: response.headers().clone(), body: response.text().await.unwrap() }
    }

    /// The CSRF token from a form page.
    pub async fn csrf_token(&self) -> String {
        let page = self.get("/sign-in").await;
        extract_field(&page.body, "csrf_token").unwrap()
    }

    /// Posts a form with this browser's CSRF token added.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form(path, &all).await
    }

    /// Posts exactly the given fields.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self.client.post(self.url(path)).form(fields).send().await.unwrap();
        Page { status: response.status(), headers: response.headers().clone(), body: response.text().await.unwrap() }
    }

    /// Posts a raw body as a form.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Page {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        Page { status: response.status(), headers: response.headers().clone(), body: response.text().await.unwrap() }
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> Page {
        self.submit("/sign-in", &[("username", username), ("password", password)]).await
    }
}

/// The `value` of the input named `name` in an HTML page.
pub fn extract_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let start = html.find(&marker)?;
    let rest = &html[start..];
    let value_start = rest.find("value=\"")? + "value=\"".len();
    let value_end = rest[value_start..].find('"')?;
    Some(rest[value_start..value_start + value_end].to_owned())
}

/// The message shown beside a field, from its `<small id="NAME-error">`.
pub fn field_error(html: &str, name: &str) -> Option<String> {
    let marker = format!("id=\"{name}-error\" class=\"field-error\">");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find("</small>")?;
    Some(unescape(&html[start..start + end]))
}

/// Undoes askama's HTML escaping.
pub fn unescape(text: &str) -> String {
    text.replace("&#34;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}
