//! Black-box tests: the real app on port 0, driven over HTTP. They run on SQLite, and on
//! PostgreSQL when `OUTPOST_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account_info;
mod change_password;
mod collectors;
mod helpers;
mod operations;
mod password_reset;
mod routes;
mod sessions;
mod sign_in;
mod sign_up;
mod startup;
mod team;
mod two_factor;
