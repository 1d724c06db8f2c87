//! Email addresses used as usernames and billing addresses.

use std::fmt;

/// Longest address accepted, in characters (the SMTP path limit of RFC 5321, 4.5.3.1.3,
/// less the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// An email address as the person typed it (trimmed), with its normalised form used for
/// uniqueness and look-ups: Unicode lower case of the whole address.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress {
    display: String,
    normalized: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Email address is required.")]
    Missing,
    #[error("Email address is too long: the maximum is 254 characters.")]
    TooLong,
    #[error("Email address is invalid: it needs one @ with a name before it and a domain such as example.com after it, and no spaces.")]
    Invalid,
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let display = input.trim();

        if display.is_empty() {
            return Err(EmailError::Missing);
        }
        if display.chars().count() > MAX_EMAIL_CHARS {
            return Err(EmailError::TooLong);
        }
        if display.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Invalid);
        }

        let Some((local, domain)) = display.rsplit_once('@') else {
            return Err(EmailError::Invalid);
        };
        let domain_is_valid = domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
            && !domain.contains(['@', '[', ']', '(', ')', ',', ';', ':', '<', '>', '"', '\\']);
        if local.is_empty() || local.chars().count() > 64 || local.contains('@') || !domain_is_valid {
            return Err(EmailError::Invalid);
        }

        Ok(Self { display: display.to_owned(), normalized: normalize(display) })
    }

    /// The address as typed, for display and mail.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The form compared for uniqueness.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The part before the last `@`.
    pub fn local_part(&self) -> &str {
        self.display.rsplit_once('@').map_or(self.display.as_str(), |(local, _)| local)
    }
}

/// Normalises any string the way usernames are compared, so a look-up by arbitrary input
/// matches the stored form.
pub fn normalize(input: &str) -> String {
    input.trim().to_lowercase()
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.display)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_display_and_lowercases_normalized() {
        let Ok(email) = EmailAddress::parse(" Ops@Example.COM ") else { panic!("valid address rejected") };
        assert_eq!(email.as_str(), "Ops@Example.COM");
        assert_eq!(email.normalized(), "ops@example.com");
    }

    #[test]
    fn parse_rejects_malformed_addresses() {
        for input in ["ops", "ops@", "@example.com", "ops@example", "a b@example.com", "ops@exa mple.com", "ops@example..com", "ops\0@example.com"] {
            assert_eq!(EmailAddress::parse(input), Err(EmailError::Invalid), "{input:?}");
        }
    }

    #[test]
    fn parse_rejects_blank_and_overlong() {
        assert_eq!(EmailAddress::parse("  "), Err(EmailError::Missing));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn parse_accepts_plus_and_unicode() {
        assert!(EmailAddress::parse("ops+1@example.com").is_ok());
        assert!(EmailAddress::parse("jürgen@bücher.de").is_ok());
    }
}
