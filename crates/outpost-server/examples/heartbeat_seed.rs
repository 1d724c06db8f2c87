//! Seeds a database for the heartbeat benchmark: one account with COUNT activated collectors,
//! each with its own agent credential, and writes the credentials to TOKENS_FILE, one per
//! line, for the load generator.
//!
//! Usage: `heartbeat_seed DATABASE_URL COUNT TOKENS_FILE`. The database gets the server's
//! migrations first, so the server can start on it afterwards.

use std::io::Write;

use outpost_server::auth::token::Token;
use outpost_store::Database;

/// Rows per INSERT statement.
const CHUNK: usize = 500;

fn main() -> std::process::ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [database_url, count, tokens_file] = arguments.as_slice() else {
        eprintln!("usage: heartbeat_seed DATABASE_URL COUNT TOKENS_FILE");
        return std::process::ExitCode::FAILURE;
    };
    let Ok(count) = count.parse::<usize>() else {
        eprintln!("error: COUNT {count:?} is not a whole number");
        return std::process::ExitCode::FAILURE;
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: failed to start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(seed(database_url, count, tokens_file)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn seed(database_url: &str, count: usize, tokens_file: &str) -> Result<(), Box<dyn std::error::Error>> {
    let database = Database::connect(database_url).await?;
    database.migrate().await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    let account_id = outpost_store::new_id();
    sqlx::query("INSERT INTO accounts (id, created_at) VALUES ($1, $2)").bind(&account_id).bind(now).execute(database.pool()).await?;

    let mut tokens = std::io::BufWriter::new(std::fs::File::create(tokens_file)?);
    let mut created = 0;
    while created < count {
        let batch = CHUNK.min(count - created);
        let mut transaction = database.pool().begin().await?;
        let mut collectors_sql = String::from(
            "INSERT INTO collectors (id, account_id, name, kind, activation_status, package_version, hostname, local_ip, mac, \
             activated_at, created_by, created_at, inventory_interval_seconds, excluded_addresses) VALUES ",
        );
        let mut credentials_sql = String::from("INSERT INTO collector_credentials (collector_id, token_hash, created_at) VALUES ");
        for index in 0..batch {
            let id = outpost_store::new_id();
            let token = Token::generate();
            writeln!(tokens, "{}", token.expose())?;
            let separator = if index == 0 { "" } else { ", " };
            let number = created + index;
            collectors_sql.push_str(&format!(
                "{separator}('{id}', '{account_id}', 'bench-{number}', 'subscription', 'active', '0.1.0', 'bench', '192.0.2.1', \
                 '02:00:00:00:00:01', {now}, 'bench', {now}, 900, '')"
            ));
            credentials_sql.push_str(&format!("{separator}('{id}', '{}', {now})", token.digest()));
        }
        // The statements hold only ids, digests and numbers made here.
        sqlx::query(sqlx::AssertSqlSafe(collectors_sql)).execute(&mut *transaction).await?;
        sqlx::query(sqlx::AssertSqlSafe(credentials_sql)).execute(&mut *transaction).await?;
        transaction.commit().await?;
        created += batch;
    }
    tokens.flush()?;
    database.close().await;
    println!("seeded {count} collectors; credentials in {tokens_file}");
    Ok(())
}
