//! Embedded migrations, applied in order. An applied migration is never edited: a change is a
//! new file. Each migration runs in one transaction together with its row in
//! `schema_migrations`, whose primary key stops two instances from applying it twice.

use sqlx::AnyPool;

use crate::StoreError;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: include_str!("../migrations/0001_foundation.sql") },
    Migration { version: 2, name: "two_factor", sql: include_str!("../migrations/0002_two_factor.sql") },
    Migration { version: 3, name: "team", sql: include_str!("../migrations/0003_team.sql") },
    Migration { version: 4, name: "collectors", sql: include_str!("../migrations/0004_collectors.sql") },
    Migration { version: 5, name: "credential_changes", sql: include_str!("../migrations/0005_credential_changes.sql") },
];

/// Splits a migration into statements at semicolons that end a line, skipping comments.
fn statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();

    for line in sql.lines() {
        let line = line.trim_end();
        if line.trim_start().starts_with("--") || line.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        statements.push(current);
    }
    statements
}

pub(crate) async fn apply(pool: &AnyPool) -> Result<Vec<i64>, StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await?;

    let mut applied = Vec::new();
    for migration in MIGRATIONS {
        let exists: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(migration.version)
            .fetch_optional(pool)
            .await?;
        if exists.is_some() {
            continue;
        }

        let failed = |source| StoreError::Migration { version: migration.version, name: migration.name, source };
        let mut transaction = pool.begin().await?;

        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX));
        let claimed = sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(now)
            .execute(&mut *transaction)
            .await;
        match claimed {
            Ok(_) => {}
            // Another instance applied it in the meantime.
            Err(error) if StoreError::is_unique_violation(&error) => continue,
            Err(error) => return Err(failed(error)),
        }

        for statement in statements(migration.sql) {
            // The statements come from the migration files compiled into the binary.
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *transaction).await.map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)?;

        tracing::info!(migration.version = migration.version, migration.name = migration.name, "applied migration");
        applied.push(migration.version);
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_line_ending_semicolons() {
        let parts = statements("-- comment\nCREATE TABLE a (x TEXT);\n\nCREATE INDEX b ON a (x);\n");
        assert_eq!(parts, vec!["CREATE TABLE a (x TEXT);\n".to_owned(), "CREATE INDEX b ON a (x);\n".to_owned()]);
    }

    #[test]
    fn versions_are_strictly_increasing() {
        assert!(MIGRATIONS.windows(2).all(|pair| pair[0].version < pair[1].version));
    }
}
