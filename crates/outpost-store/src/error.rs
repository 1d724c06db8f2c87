#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme \"{0}\": use sqlite: (for example sqlite:///var/lib/outpost/outpost.db) or postgres:// (for example postgres://user@host:5432/outpost)")]
    UnsupportedScheme(String),
    #[error("username is already taken")]
    UsernameTaken,
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: i64, name: &'static str, source: sqlx::Error },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(database_error) if database_error.is_unique_violation())
    }
}
