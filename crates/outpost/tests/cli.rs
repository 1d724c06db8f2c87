//! The `outpost` binary run as a support operator would run it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use outpost_store::audit;
use outpost_store::throttle::{self, Scope};
use outpost_store::{Database, sessions, two_factor, users};

const OUTPOST: &str = env!("CARGO_BIN_EXE_outpost");

struct Setup {
    data_dir: PathBuf,
    database_url: String,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A temporary data directory and a database URL: SQLite in that directory, or a fresh
/// PostgreSQL database when `OUTPOST_TEST_DATABASE_URL` is set.
async fn setup() -> Setup {
    let data_dir = std::env::temp_dir().join(format!("outpost-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&data_dir).unwrap();

    let database_url = match std::env::var("OUTPOST_TEST_DATABASE_URL") {
        Err(_) => format!("sqlite://{}", data_dir.join("outpost.db").display()),
        Ok(base) => {
            let name = format!("outpost_cli_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(&base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(admin.pool()).await.unwrap();
            admin.close().await;
            format!("{}/{name}", base.rsplit_once('/').unwrap().0)
        }
    };
    Setup { data_dir, database_url }
}

fn outpost(setup: &Setup, args: &[&str]) -> Output {
    outpost_with_env(setup, args, &[])
}

/// Runs the binary like `outpost`, with the extra environment variables in `env`.
fn outpost_with_env(setup: &Setup, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(OUTPOST)
        .args(args)
        .env("OUTPOST_DATA_DIR", &setup.data_dir)
        .env("OUTPOST_DATABASE_URL", &setup.database_url)
        .env("RUST_LOG", "warn")
        // Without an SMTP host, notices go to the outbox folder in the data directory.
        .env_remove("OUTPOST_SMTP_HOST")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Returns the messages in the outbox folder, as (recipient, subject, whole text).
fn outbox_messages(setup: &Setup) -> Vec<(String, String, String)> {
    let Ok(entries) = std::fs::read_dir(setup.data_dir.join("outbox")) else {
        return Vec::new();
    };
    let header = |text: &str, name: &str| {
        text.lines().find_map(|line| line.strip_prefix(name)).map(str::trim).unwrap_or_default().to_owned()
    };
    let mut messages: Vec<(String, String, String)> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            (header(&text, "To:"), header(&text, "Subject:"), text)
        })
        .collect();
    messages.sort();
    messages
}

async fn database(setup: &Setup) -> Database {
    let database = Database::connect(&setup.database_url).await.unwrap();
    database.migrate().await.unwrap();
    database
}

async fn add_user(database: &Database, username: &str) -> users::User {
    users::create_account_with_team_master(database, username, &username.to_lowercase(), "$argon2id$unused", 1_796_083_200)
        .await
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn mysql_url_is_refused_naming_supported_schemes() {
    let data_dir = std::env::temp_dir().join(format!("outpost-cli-{}", uuid::Uuid::now_v7()));

    let output = Command::new(OUTPOST)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("OUTPOST_DATA_DIR", &data_dir)
        .env("OUTPOST_DATABASE_URL", "mysql://root@127.0.0.1/test")
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert!(stderr(&output).contains("unsupported database URL scheme \"mysql\""), "{}", stderr(&output));
    assert!(stderr(&output).contains("sqlite:"), "{}", stderr(&output));
    assert!(stderr(&output).contains("postgres://"), "{}", stderr(&output));
    let _ = std::fs::remove_dir_all(data_dir);
}

#[tokio::test]
async fn migrate_applies_then_reports_up_to_date() {
    let setup = setup().await;

    let first = outpost(&setup, &["migrate"]);
    let second = outpost(&setup, &["migrate"]);

    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("Applied "), "{}", stdout(&first));
    assert!(!stdout(&first).starts_with("Applied 0 "), "{}", stdout(&first));
    assert_eq!(stdout(&second), "Applied 0 migration(s); the database is up to date.\n");
}

#[tokio::test]
async fn admin_unlock_clears_failures_and_audits() {
    let setup = setup().await;
    let database = database(&setup).await;
    let user = add_user(&database, "Dana@example.com").await;
    for _ in 0..100 {
        throttle::record_failure(&database, Scope::Username, "dana@example.com", 1_796_083_200).await.unwrap();
    }

    let output = outpost(&setup, &["admin", "unlock", "DANA@example.com"]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "Unlocked Dana@example.com: failed sign-ins cleared.\n");
    let counter = throttle::get(&database, Scope::Username, "dana@example.com").await.unwrap();
    assert_eq!(counter.failures, 0);
    let entries = audit::list_for_account(&database, &user.account_id, 1).await.unwrap();
    assert_eq!(entries[0].event, "account_unlocked");
    assert_eq!(entries[0].actor, "support");
}

#[tokio::test]
async fn admin_unlock_unknown_user_fails() {
    let setup = setup().await;

    let output = outpost(&setup, &["admin", "unlock", "nobody@example.com"]);

    assert!(!output.status.success());
    assert!(stderr(&output).contains("no user has the username \"nobody@example.com\""), "{}", stderr(&output));
}

#[tokio::test]
async fn admin_change_username_ends_sessions_and_audits() {
    let setup = setup().await;
    let database = database(&setup).await;
    let user = add_user(&database, "dana@example.com").await;
    let session = sessions::NewSession {
        id: "session-1",
        token_hash: "digest-1",
        user_id: &user.id,
        now: 1_796_083_200,
        expires_at: 1_796_126_400,
        client_address: "127.0.0.1",
        user_agent: "test",
        second_factor_pending: false,
    };
    sessions::insert(&database, session).await.unwrap();

    let output = outpost(&setup, &["admin", "change-username", "dana@example.com", "Dana.Ops@Example.com"]);

    assert!(output.status.success(), "{}", stderr(&output));
    let renamed = users::find_by_username(&database, "dana.ops@example.com").await.unwrap().unwrap();
    assert_eq!(renamed.username, "Dana.Ops@Example.com");
    assert!(users::find_by_username(&database, "dana@example.com").await.unwrap().is_none());
    assert_eq!(sessions::count_for_user(&database, &user.id).await.unwrap(), 0);
    let entries = audit::list_for_account(&database, &user.account_id, 1).await.unwrap();
    assert_eq!(entries[0].event, "username_changed");
    assert_eq!(entries[0].detail, "from dana@example.com to Dana.Ops@Example.com");

    let messages = outbox_messages(&setup);
    let recipients: Vec<&str> = messages.iter().map(|(to, _, _)| to.as_str()).collect();
    assert_eq!(recipients, ["Dana.Ops@Example.com", "dana@example.com"], "both addresses get a notice");
    for (_, subject, text) in &messages {
        assert_eq!(subject, "Your Outpost username was changed");
        assert!(text.contains("from dana@example.com to Dana.Ops@Example.com"), "{text}");
    }
}

#[tokio::test]
async fn admin_change_username_warns_when_notice_fails() {
    let setup = setup().await;
    let database = database(&setup).await;
    add_user(&database, "dana@example.com").await;

    let args = ["admin", "change-username", "dana@example.com", "dana.ops@example.com"];
    let output = outpost_with_env(&setup, &args, &[("RUST_LOG", "off"), ("OUTPOST_MAIL_FROM", "not a sender address")]);

    assert!(output.status.success(), "the change is done even without the notice: {}", stderr(&output));
    assert!(stderr(&output).contains("warning: the notice to dana@example.com was not sent"), "{}", stderr(&output));
    assert!(stderr(&output).contains("invalid sender address"), "{}", stderr(&output));
    assert!(users::find_by_username(&database, "dana.ops@example.com").await.unwrap().is_some());
}

#[tokio::test]
async fn admin_change_username_keeps_uniqueness() {
    let setup = setup().await;
    let database = database(&setup).await;
    add_user(&database, "dana@example.com").await;
    add_user(&database, "lee@example.com").await;

    let output = outpost(&setup, &["admin", "change-username", "dana@example.com", "LEE@example.com"]);

    assert!(!output.status.success());
    assert!(stderr(&output).contains("already belongs to another user"), "{}", stderr(&output));
    assert!(users::find_by_username(&database, "dana@example.com").await.unwrap().is_some());
    assert!(outbox_messages(&setup).is_empty(), "a refused change sends no notice");
}

#[tokio::test]
async fn admin_change_username_rejects_invalid_email() {
    let setup = setup().await;

    let output = outpost(&setup, &["admin", "change-username", "dana@example.com", "not-an-email"]);

    assert!(!output.status.success());
    assert!(stderr(&output).contains("Email address is invalid"), "{}", stderr(&output));
}

#[tokio::test]
async fn admin_reset_2fa_removes_second_factor_and_sessions() {
    let setup = setup().await;
    let database = database(&setup).await;
    let user = add_user(&database, "dana@example.com").await;
    two_factor::save_enrollment(&database, &user.id, "sealed-secret", two_factor::EnrollmentPurpose::Enable, 1_796_083_200).await.unwrap();
    two_factor::activate(&database, &user.id, "sealed-secret", 59_869_440, &["digest".to_owned()], 1_796_083_200).await.unwrap();
    let session = sessions::NewSession {
        id: "session-1",
        token_hash: "digest-1",
        user_id: &user.id,
        now: 1_796_083_200,
        expires_at: 1_796_126_400,
        client_address: "127.0.0.1",
        user_agent: "test",
        second_factor_pending: false,
    };
    sessions::insert(&database, session).await.unwrap();

    let output = outpost(&setup, &["admin", "reset-2fa", "Dana@Example.com"]);

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Reset two-factor authentication of dana@example.com"), "{}", stdout(&output));
    assert!(two_factor::credential(&database, &user.id).await.unwrap().is_none());
    assert_eq!(two_factor::unused_recovery_codes(&database, &user.id).await.unwrap(), 0);
    assert_eq!(sessions::count_for_user(&database, &user.id).await.unwrap(), 0);
    let entries = audit::list_for_account(&database, &user.account_id, 1).await.unwrap();
    assert_eq!(entries[0].event, "two_factor_reset");
    assert_eq!(entries[0].actor, "support");

    let messages = outbox_messages(&setup);
    assert_eq!(messages.len(), 1);
    let (to, subject, text) = &messages[0];
    assert_eq!(to, "dana@example.com");
    assert_eq!(subject, "Two-factor authentication was turned off");
    assert!(text.contains("Support turned off two-factor authentication"), "{text}");
}

async fn add_collector(database: &Database, account_id: &str) -> String {
    let collector = outpost_store::collectors::NewCollector {
        account_id,
        name: "Berlin office",
        created_by: "dana@example.com",
        key_hash: "digest-of-a-key",
        key_expires_at: i64::MAX,
        inventory_interval_seconds: 900,
        now: 1_796_083_200,
    };
    outpost_store::collectors::create(database, collector).await.unwrap()
}

#[tokio::test]
async fn admin_grant_prepaid_makes_collector_prepaid() {
    let setup = setup().await;
    let database = database(&setup).await;
    let user = add_user(&database, "dana@example.com").await;
    let collector_id = add_collector(&database, &user.account_id).await;
    let next_year = time::OffsetDateTime::now_utc().date().replace_year(time::OffsetDateTime::now_utc().year() + 1).unwrap();

    let output = outpost(&setup, &["admin", "grant-prepaid", &collector_id, "--until", &next_year.to_string()]);

    assert!(output.status.success(), "{}", stderr(&output));
    let collector = outpost_store::collectors::get(&database, &user.account_id, &collector_id).await.unwrap().unwrap();
    assert_eq!(collector.kind, "prepaid");
    let end = next_year.next_day().unwrap().midnight().assume_utc().unix_timestamp();
    assert_eq!(collector.expires_at, Some(end));
    let history = outpost_store::collectors::history(&database, &user.account_id, None, 1).await.unwrap();
    assert_eq!(history[0].action, "prepaid time granted");
    assert_eq!(history[0].actor, "support");
}

#[tokio::test]
async fn admin_grant_prepaid_rejects_more_than_five_years() {
    let setup = setup().await;
    let database = database(&setup).await;
    let user = add_user(&database, "dana@example.com").await;
    let collector_id = add_collector(&database, &user.account_id).await;

    let too_far = outpost(&setup, &["admin", "grant-prepaid", &collector_id, "--until", "2099-01-01"]);
    let malformed = outpost(&setup, &["admin", "grant-prepaid", &collector_id, "--until", "01/02/2027"]);

    assert!(!too_far.status.success());
    assert!(stderr(&too_far).contains("more than five years ahead"), "{}", stderr(&too_far));
    assert!(!malformed.status.success());
    assert!(stderr(&malformed).contains("not a date in the form YYYY-MM-DD"), "{}", stderr(&malformed));
    let collector = outpost_store::collectors::get(&database, &user.account_id, &collector_id).await.unwrap().unwrap();
    assert_eq!(collector.kind, "subscription", "nothing changed");
}

fn http_get(address: &str, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    for _ in 0..500 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    panic!("outpost did not stop within 10 seconds of SIGTERM");
}

#[tokio::test]
async fn serve_prints_address_and_stops_on_sigterm() {
    let setup = setup().await;
    let mut child = Command::new(OUTPOST)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("OUTPOST_DATA_DIR", &setup.data_dir)
        .env("OUTPOST_DATABASE_URL", &setup.database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("Outpost is running. Open ").unwrap().strip_suffix(" in a browser.").unwrap().to_owned();
    let address = url.strip_prefix("http://").unwrap();
    let health = http_get(address, "/healthz");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = wait_for_exit(&mut child);

    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(killed.success());
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(secret_key_is_private(&setup.data_dir));
}

fn secret_key_is_private(data_dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(data_dir.join("secret.key")).map(|meta| meta.permissions().mode() & 0o777 == 0o600).unwrap_or(false)
}
