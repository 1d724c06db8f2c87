//! Time-based one-time passwords (RFC 6238) and the policy around them: 6 digits, 30-second
//! steps, SHA-1, one step of drift either way, each step accepted at most once per user.

use std::fmt;

use rand::TryRngCore;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Totp};

/// Length of a code, in digits.
pub const DIGITS: usize = 6;
/// Length of a time step, in seconds.
pub const STEP_SECONDS: i64 = 30;
/// Steps of clock drift accepted on either side of the current one.
pub const DRIFT_STEPS: i64 = 1;
/// Length of a secret, in bytes (160 bits, the HMAC-SHA1 output size that RFC 4226, 4
/// recommends).
pub const SECRET_BYTES: usize = 20;

/// A TOTP secret. Its `Debug` output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("a TOTP secret must be at least 16 bytes")]
    SecretTooShort,
    #[error("the issuer must not contain a colon, because the key URI separates issuer and account with one: {0:?}")]
    IssuerHasColon(String),
    #[error("failed to build the key URI: {0}")]
    Uri(String),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

impl TotpSecret {
    /// 160 random bits read directly from the operating system's random source.
    pub fn generate() -> Result<Self, TotpError> {
        let mut bytes = vec![0_u8; SECRET_BYTES];
        OsRng.try_fill_bytes(&mut bytes).map_err(|error| TotpError::Random(error.to_string()))?;
        Ok(Self(bytes))
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        if bytes.len() < 16 {
            return Err(TotpError::SecretTooShort);
        }
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret in base32 without padding, as typed into an authenticator app by hand.
    pub fn to_base32(&self) -> String {
        totp_rs::Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, issuer: &str, account: &str) -> Result<Totp, TotpError> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_step_duration(30)
            .with_secret(self.0.clone())
            .with_issuer(Some(issuer))
            .with_account_name(account)
            .build()
            .map_err(|error| TotpError::Uri(error.to_string()))
    }

    /// Computes the code for the time step that contains unix time `unix_seconds`.
    pub fn code_at(&self, unix_seconds: i64) -> String {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_step_duration(30)
            .with_secret(self.0.clone())
            .build_noncompliant();
        totp.generate(u64::try_from(unix_seconds).unwrap_or(0)).to_string()
    }

    /// The `otpauth://` key URI in Google's Key Uri Format, with label and issuer
    /// percent-encoded (a space is `%20`).
    pub fn key_uri(&self, issuer: &str, account: &str) -> Result<String, TotpError> {
        check_issuer(issuer)?;
        self.totp(issuer, account)?.to_url().map_err(|error| TotpError::Uri(error.to_string()))
    }

    /// Renders the key URI as a QR code in PNG.
    pub fn qr_png(&self, issuer: &str, account: &str) -> Result<Vec<u8>, TotpError> {
        check_issuer(issuer)?;
        self.totp(issuer, account)?.to_qr_png().map_err(|error| TotpError::Uri(error.to_string()))
    }
}

/// Rejects an issuer that the key URI cannot carry.
pub fn check_issuer(issuer: &str) -> Result<(), TotpError> {
    if issuer.contains(':') {
        return Err(TotpError::IssuerHasColon(issuer.to_owned()));
    }
    Ok(())
}

/// Returns the time step that contains unix time `unix_seconds`.
pub fn time_step(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// Reads a code as typed: ASCII spaces are dropped, and the rest must be exactly six ASCII
/// digits. Returns `None` for anything else, so a sign such as `+`, full-width digits or a
/// code of the wrong length never matches.
pub fn parse_code(input: &str) -> Option<String> {
    let code: String = input.chars().filter(|c| *c != ' ').collect();
    if code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit()) { Some(code) } else { None }
}

/// Finds the time step within the drift window whose code equals `code`, comparing every
/// candidate in constant time. Replay is the caller's check: the step must be later than the
/// last step accepted for the user.
pub fn matching_step(secret: &TotpSecret, code: &str, now: i64) -> Option<i64> {
    let current = time_step(now);
    let mut found = None;
    for step in (current - DRIFT_STEPS)..=(current + DRIFT_STEPS) {
        let expected = secret.code_at(step * STEP_SECONDS);
        let equal: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        if equal && found.is_none() {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SHA-1 seed of RFC 6238, Appendix B.
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc6238_sha1_vectors_six_digits() {
        // Appendix B lists 8-digit values; the 6-digit code is the last six digits.
        let vectors = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ];
        for (time, expected) in vectors {
            assert_eq!(rfc_secret().code_at(time), expected, "T = {time}");
        }
    }

    #[test]
    fn parse_code_accepts_spaces() {
        assert_eq!(parse_code("005 924"), Some("005924".to_owned()));
        assert_eq!(parse_code(" 005924 "), Some("005924".to_owned()));
    }

    #[test]
    fn parse_code_rejects_wrong_forms() {
        for input in ["5924", "05924", "0005924", "+005924", "００５９２４", "00592a", "005\t924", "-05924", ""] {
            assert_eq!(parse_code(input), None, "{input:?}");
        }
    }

    #[test]
    fn drift_of_one_step_matches() {
        let secret = rfc_secret();
        let now = 1_234_567_890;
        let current = time_step(now);

        assert_eq!(matching_step(&secret, &secret.code_at(now - 30), now), Some(current - 1));
        assert_eq!(matching_step(&secret, &secret.code_at(now), now), Some(current));
        assert_eq!(matching_step(&secret, &secret.code_at(now + 30), now), Some(current + 1));
    }

    #[test]
    fn drift_of_two_steps_fails() {
        let secret = rfc_secret();
        let now = 1_234_567_890;

        assert_eq!(matching_step(&secret, &secret.code_at(now - 60), now), None);
        assert_eq!(matching_step(&secret, &secret.code_at(now + 60), now), None);
    }

    #[test]
    fn key_uri_percent_encodes_label_and_issuer() {
        let uri = rfc_secret().key_uri("A&B Networks", "ops+1@example.com");
        assert_eq!(
            uri,
            Ok("otpauth://totp/A%26B%20Networks:ops%2B1%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=A%26B%20Networks".to_owned())
        );
    }

    #[test]
    fn issuer_with_colon_is_rejected() {
        assert_eq!(check_issuer("Outpost: EU"), Err(TotpError::IssuerHasColon("Outpost: EU".to_owned())));
    }

    #[test]
    fn generated_secret_is_160_bits() {
        assert_eq!(TotpSecret::generate().map(|secret| secret.as_bytes().len()), Ok(20));
    }

    #[test]
    fn debug_hides_secret() {
        assert_eq!(format!("{:?}", rfc_secret()), "TotpSecret(<redacted>)");
    }
}
