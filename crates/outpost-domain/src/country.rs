//! Countries from ISO 3166-1, by their alpha-2 code.

use celes::Country;

/// The 27 member states of the European Union, by ISO 3166-1 alpha-2 code (2026).
const EU_MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    /// Accepts a code in any letter case; returns `None` for a code not in ISO 3166-1.
    pub fn parse(input: &str) -> Option<Self> {
        let code = input.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        Country::from_alpha2(&code).ok().map(|_| Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_eu_member(&self) -> bool {
        EU_MEMBER_STATES.contains(&self.0.as_str())
    }
}

/// Every ISO 3166-1 country as (alpha-2 code, English name), sorted by name.
pub fn all_countries() -> Vec<(&'static str, &'static str)> {
    let mut countries: Vec<_> = Country::get_countries()
        .iter()
        .map(|country| (country.alpha2, country.long_name))
        .collect();
    countries.sort_by(|a, b| a.1.cmp(b.1));
    countries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_lower_case_code() {
        assert_eq!(CountryCode::parse("de").map(|c| c.0), Some("DE".to_owned()));
    }

    #[test]
    fn parse_rejects_unknown_code() {
        assert_eq!(CountryCode::parse("XX"), None);
        assert_eq!(CountryCode::parse("DEU"), None);
        assert_eq!(CountryCode::parse(""), None);
    }

    #[test]
    fn eu_membership_by_code() {
        assert!(CountryCode::parse("FR").is_some_and(|c| c.is_eu_member()));
        assert!(CountryCode::parse("CH").is_some_and(|c| !c.is_eu_member()));
    }

    #[test]
    fn all_countries_lists_every_eu_member() {
        let codes: Vec<_> = all_countries().into_iter().map(|(code, _)| code).collect();
        for member in EU_MEMBER_STATES {
            assert!(codes.contains(&member), "{member}");
        }
    }
}
