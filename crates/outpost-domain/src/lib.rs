//! Rules of the Outpost portal with no I/O: validated values, the password policy, the
//! sign-in throttle and the billing details of an account. The clock is always a parameter.

pub mod billing;
pub mod collector;
pub mod country;
pub mod email;
pub mod fields;
pub mod password;
pub mod recovery;
pub mod throttle;
pub mod totp;
pub mod vat;

pub use email::EmailAddress;
pub use fields::FieldErrors;
pub use password::Password;
