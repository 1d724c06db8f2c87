//! Format checks of EU VAT identification numbers, per member state. The patterns follow the
//! structures published for the EU's VIES service; they check the format only, not whether a
//! number is registered.

use std::sync::LazyLock;

use regex::Regex;

use crate::country::{CountryCode, country_name};

/// (ISO country code, VAT prefix, pattern of the part after the prefix).
const FORMATS: [(&str, &str, &str); 27] = [
    ("AT", "AT", r"U\d{8}"),
    ("BE", "BE", r"[01]\d{9}"),
    ("BG", "BG", r"\d{9,10}"),
    ("CY", "CY", r"\d{8}[A-Z]"),
    ("CZ", "CZ", r"\d{8,10}"),
    ("DE", "DE", r"\d{9}"),
    ("DK", "DK", r"\d{8}"),
    ("EE", "EE", r"\d{9}"),
    ("ES", "ES", r"[0-9A-Z]\d{7}[0-9A-Z]"),
    ("FI", "FI", r"\d{8}"),
    ("FR", "FR", r"[0-9A-HJ-NP-Z]{2}\d{9}"),
    ("GR", "EL", r"\d{9}"),
    ("HR", "HR", r"\d{11}"),
    ("HU", "HU", r"\d{8}"),
    ("IE", "IE", r"\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W]"),
    ("IT", "IT", r"\d{11}"),
    ("LT", "LT", r"\d{9}|\d{12}"),
    ("LU", "LU", r"\d{8}"),
    ("LV", "LV", r"\d{11}"),
    ("MT", "MT", r"\d{8}"),
    ("NL", "NL", r"\d{9}B\d{2}"),
    ("PL", "PL", r"\d{10}"),
    ("PT", "PT", r"\d{9}"),
    ("RO", "RO", r"[1-9]\d{1,9}"),
    ("SE", "SE", r"\d{10}01"),
    ("SI", "SI", r"\d{8}"),
    ("SK", "SK", r"\d{10}"),
];

/// Example numbers of the right shape, shown in messages.
fn example_for(prefix: &str) -> &'static str {
    match prefix {
        "AT" => "ATU12345678",
        "BE" => "BE0123456789",
        "DE" => "DE123456789",
        "EL" => "EL123456789",
        "ES" => "ESX1234567X",
        "FR" => "FRXX123456789",
        "IE" => "IE1234567WA",
        "NL" => "NL123456789B01",
        "SE" => "SE123456789001",
        _ => "",
    }
}

static COMPILED: LazyLock<Vec<(&'static str, &'static str, Option<Regex>)>> = LazyLock::new(|| {
    FORMATS
        .iter()
        .map(|(country, prefix, pattern)| (*country, *prefix, Regex::new(&format!("^(?:{pattern})$")).ok()))
        .collect()
});

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VatError(pub String);

/// Normalises and checks an EU VAT number for `country`: spaces, dots and hyphens are
/// dropped, letters upper-cased, and the country prefix added when missing. Returns the
/// number with its prefix, e.g. `DE123456789`. Countries outside the EU are not checked.
pub fn check_vat_number(country: &CountryCode, input: &str) -> Result<String, VatError> {
    let Some((_, prefix, pattern)) = COMPILED.iter().find(|(code, _, _)| *code == country.as_str()) else {
        return Ok(input.trim().to_owned());
    };

    let compact: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect::<String>()
        .to_uppercase();
    let typed_prefix = compact.get(..2).unwrap_or_default();
    let other_state = COMPILED
        .iter()
        .find(|(code, other_prefix, _)| *other_prefix == typed_prefix && *code != country.as_str() && !(typed_prefix == "GR" && *prefix == "EL"));
    if let Some((other_code, other_prefix, _)) = other_state {
        return Err(VatError(format!(
            "VAT number \"{}\" starts with {other_prefix}, the prefix of {}, but the country is {}. Choose {} as the country, or enter the VAT number of {}.",
            input.trim(),
            country_name(other_code),
            country_name(country.as_str()),
            country_name(other_code),
            country_name(country.as_str()),
        )));
    }

    let body = compact
        .strip_prefix(prefix)
        .or_else(|| if *prefix == "EL" { compact.strip_prefix("GR") } else { None })
        .unwrap_or(&compact);

    let matches = pattern.as_ref().is_some_and(|regex| regex.is_match(body));
    if !matches {
        let example = example_for(prefix);
        let hint = if example.is_empty() { String::new() } else { format!(", for example {example}") };
        return Err(VatError(format!(
            "VAT number \"{}\" does not have the format used in {} ({}){hint}.",
            input.trim(),
            country_name(country.as_str()),
            country.as_str()
        )));
    }

    Ok(format!("{prefix}{body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(code: &str) -> CountryCode {
        match CountryCode::parse(code) {
            Some(country) => country,
            None => panic!("{code} is not a country"),
        }
    }

    #[test]
    fn accepts_german_number_with_or_without_prefix() {
        assert_eq!(check_vat_number(&country("DE"), "DE 123 456 789"), Ok("DE123456789".to_owned()));
        assert_eq!(check_vat_number(&country("DE"), "123456789"), Ok("DE123456789".to_owned()));
    }

    #[test]
    fn rejects_german_number_with_eight_digits() {
        assert!(check_vat_number(&country("DE"), "DE12345678").is_err());
    }

    #[test]
    fn greek_numbers_use_el_prefix() {
        assert_eq!(check_vat_number(&country("GR"), "GR123456789"), Ok("EL123456789".to_owned()));
    }

    #[test]
    fn dutch_number_needs_b_block() {
        assert!(check_vat_number(&country("NL"), "NL123456789B01").is_ok());
        assert!(check_vat_number(&country("NL"), "NL12345678901").is_err());
    }

    #[test]
    fn austrian_number_needs_u() {
        assert!(check_vat_number(&country("AT"), "atu12345678").is_ok());
        assert!(check_vat_number(&country("AT"), "AT12345678").is_err());
    }

    #[test]
    fn number_of_other_member_state_is_rejected() {
        let error = check_vat_number(&country("FR"), "DE123456789").err().map(|error| error.0).unwrap_or_default();
        assert!(error.contains("starts with DE, the prefix of Germany, but the country is France"), "{error}");
    }

    #[test]
    fn french_number_with_letter_key_is_accepted() {
        assert_eq!(check_vat_number(&country("FR"), "FR XZ 123456789"), Ok("FRXZ123456789".to_owned()));
    }

    #[test]
    fn every_pattern_compiles() {
        assert!(COMPILED.iter().all(|(_, _, regex)| regex.is_some()));
    }

    #[test]
    fn non_eu_tax_id_is_not_checked() {
        assert_eq!(check_vat_number(&country("CH"), "CHE-123.456.789"), Ok("CHE-123.456.789".to_owned()));
    }
}
