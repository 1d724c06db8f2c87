use std::sync::Arc;

use outpost_server::{App, ManualClock};

use crate::helpers::{START_TIME, base_config, fresh_database_url, temp_dir};

#[tokio::test]
async fn instance_with_other_secret_key_refuses_to_start() {
    let first_dir = temp_dir();
    let second_dir = temp_dir();
    let database_url = fresh_database_url(&first_dir).await;

    let first = App::build(base_config(first_dir.clone(), database_url.clone()), Arc::new(ManualClock::new(START_TIME))).await;
    assert!(first.is_ok());
    let second = App::build(base_config(second_dir.clone(), database_url), Arc::new(ManualClock::new(START_TIME))).await;

    let message = format!("{:#}", second.err().unwrap());
    assert!(message.contains("differs from the key this database was set up with"), "{message}");
    assert!(message.contains("OUTPOST_SECRET_KEY_FILE"), "{message}");
    let _ = std::fs::remove_dir_all(first_dir);
    let _ = std::fs::remove_dir_all(second_dir);
}

#[tokio::test]
async fn instances_sharing_key_file_start() {
    let first_dir = temp_dir();
    let second_dir = temp_dir();
    let database_url = fresh_database_url(&first_dir).await;

    let first = App::build(base_config(first_dir.clone(), database_url.clone()), Arc::new(ManualClock::new(START_TIME))).await;
    assert!(first.is_ok());
    let mut config = base_config(second_dir.clone(), database_url);
    config.secret_key_file = Some(first_dir.join("secret.key"));

    assert!(App::build(config, Arc::new(ManualClock::new(START_TIME))).await.is_ok());
    let _ = std::fs::remove_dir_all(first_dir);
    let _ = std::fs::remove_dir_all(second_dir);
}

#[tokio::test]
async fn unsupported_database_scheme_is_named() {
    let error = outpost_store::Database::connect("mysql://root@127.0.0.1/test").await.err().unwrap();

    let message = error.to_string();
    assert!(message.contains("unsupported database URL scheme \"mysql\""), "{message}");
    assert!(message.contains("sqlite:"), "{message}");
    assert!(message.contains("postgres://"), "{message}");
}
