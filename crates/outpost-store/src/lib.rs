//! Persistence of the Outpost portal on sqlx's `Any` driver: SQLite or PostgreSQL, chosen by
//! the database URL, with one portable migration set. One module per area.

pub mod audit;
pub mod billing;
pub mod collectors;
mod database;
mod error;
mod migrations;
pub mod resets;
pub mod sessions;
pub mod settings;
pub mod team;
pub mod throttle;
pub mod two_factor;
pub mod users;

pub use database::{Backend, Database};
pub use error::StoreError;

/// A new UUIDv7 as text, the key type of every table.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
