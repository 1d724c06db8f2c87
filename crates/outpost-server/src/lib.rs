//! The Outpost portal over HTTP: pages, authentication and sessions, mail and operations
//! endpoints. Each area exposes its handlers; `routes` declares every route with its access
//! rule in one table.

pub mod agent;
pub mod app;
pub mod auth;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod csv;
pub mod error;
pub mod form;
pub mod mail;
pub mod ops;
pub mod pages;
pub mod routes;
pub mod secret_key;
pub mod security_headers;
pub mod state;
pub mod user_agent;

pub use app::{App, serve};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{MailConfig, ServerConfig, SmtpSecurity};
