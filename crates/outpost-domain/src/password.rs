//! The password policy of NIST SP 800-63B-4: length 15 to 256 characters after NFKC
//! normalisation, any Unicode, no composition rules, rejected when weak or when it contains
//! the username.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::EmailAddress;

/// Minimum length for a password that may be the only factor (NIST SP 800-63B-4, 3.1.1.2).
pub const MIN_PASSWORD_CHARS: usize = 15;
/// Maximum length accepted; longer input is rejected before any strength estimate.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Lowest zxcvbn score (0 to 4) accepted for a new password.
pub const MIN_ZXCVBN_SCORE: u8 = 3;

/// A password in NFKC form. Its `Debug` output never shows the text.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Normalises any input with NFKC, as every password is before hashing or comparison.
    /// Input longer than the maximum is cut off at a character boundary before
    /// normalisation, so a huge body costs no more than a maximal password; the cut
    /// password can never match because no stored password is that long.
    pub fn normalize(input: &str) -> Self {
        let bounded: String = input.chars().take(MAX_PASSWORD_CHARS * 4 + 1).collect();
        Self(bounded.nfkc().collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Password is required.")]
    Missing,
    #[error("Password is too short: it has {0} characters and needs at least 15. A few unrelated words make a long password that is easy to remember.")]
    TooShort(usize),
    #[error("Password is too long: it has {0} characters and the maximum is 256.")]
    TooLong(usize),
    #[error("Password must not contain your username or email address.")]
    ContainsUsername,
    #[error("Password is too easy to guess. {0}")]
    Weak(String),
}

/// Checks a new password against the policy. Length comes first, so the strength estimate
/// only ever runs on at most 256 characters. Without a valid `username`, as on a sign-up form
/// whose email address is invalid, the checks that involve it are skipped.
pub fn check_new_password(input: &str, username: Option<&EmailAddress>) -> Result<Password, PasswordError> {
    let password = Password::normalize(input);
    let length = password.char_count();

    if length == 0 {
        return Err(PasswordError::Missing);
    }
    if length < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort(length));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(PasswordError::TooLong(length));
    }

    let lowered = password.expose().to_lowercase();
    if let Some(username) = username {
        let local_part = username.local_part().to_lowercase();
        if lowered.contains(username.normalized()) || (local_part.chars().count() >= 5 && lowered.contains(&local_part)) {
            return Err(PasswordError::ContainsUsername);
        }
    }

    let user_inputs = username.map_or_else(Vec::new, |username| vec![username.as_str(), username.local_part()]);
    let estimate = zxcvbn::zxcvbn(password.expose(), &user_inputs);
    if u8::from(estimate.score()) < MIN_ZXCVBN_SCORE {
        let hint = estimate
            .feedback()
            .and_then(|feedback| feedback.warning().map(|warning| warning.to_string()))
            .unwrap_or_else(|| "Add more unrelated words.".to_owned());
        return Err(PasswordError::Weak(hint));
    }

    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn username() -> EmailAddress {
        match EmailAddress::parse("Dana.Ops@example.com") {
            Ok(email) => email,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn policy_accepts_long_unrelated_words() {
        assert!(check_new_password("copper kettle river lantern", Some(&username())).is_ok());
    }

    #[test]
    fn policy_rejects_fourteen_characters() {
        assert_eq!(
            check_new_password("abcdefghijklmn", Some(&username())).err(),
            Some(PasswordError::TooShort(14))
        );
    }

    #[test]
    fn policy_rejects_over_256_characters() {
        let long = "x".repeat(10_000);
        assert!(matches!(check_new_password(&long, Some(&username())), Err(PasswordError::TooLong(_))));
    }

    #[test]
    fn policy_rejects_weak_long_password() {
        assert!(matches!(
            check_new_password("aaaaaaaaaaaaaaaaaaaa", Some(&username())),
            Err(PasswordError::Weak(_))
        ));
    }

    #[test]
    fn policy_without_username_checks_length_and_strength() {
        assert!(check_new_password("copper kettle river lantern", None).is_ok());
        assert!(matches!(check_new_password("short", None), Err(PasswordError::TooShort(5))));
        assert!(matches!(check_new_password("aaaaaaaaaaaaaaaaaaaa", None), Err(PasswordError::Weak(_))));
    }

    #[test]
    fn policy_rejects_password_containing_username() {
        assert_eq!(
            check_new_password("my dana.ops@example.com secret", Some(&username())).err(),
            Some(PasswordError::ContainsUsername)
        );
        assert_eq!(
            check_new_password("purple Dana.Ops horse battery", Some(&username())).err(),
            Some(PasswordError::ContainsUsername)
        );
    }

    #[test]
    fn normalize_applies_nfkc() {
        // U+FB01 LATIN SMALL LIGATURE FI becomes "fi" under NFKC.
        assert_eq!(Password::normalize("\u{FB01}").expose(), "fi");
    }

    #[test]
    fn debug_hides_password() {
        let rendered = format!("{:?}", Password::normalize("correct horse battery"));
        assert!(!rendered.contains("horse"));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Fifteen CJK characters are 45 bytes but meet the 15-character minimum.
        let cjk = "漢字仮名交じり文章題目録音楽器具";
        assert!(!matches!(check_new_password(cjk, Some(&username())), Err(PasswordError::TooShort(_))));
    }
}
