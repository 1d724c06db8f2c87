//! Authentication: password hashing, random tokens, sessions, CSRF protection and the
//! sign-in throttle.

pub mod csrf;
pub mod password_hashing;
pub mod reauthentication;
pub mod secret_box;
pub mod session;
pub mod throttle;
pub mod token;
pub mod two_factor;

pub use session::{CurrentUser, MaybeUser};
