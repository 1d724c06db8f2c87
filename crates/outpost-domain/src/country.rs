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

/// English short names (ISO 3166-1) for the countries whose name in the `celes` crate is a
/// formal state name or lost its punctuation; the others keep `celes`' name.
const SHORT_NAMES: [(&str, &str); 43] = [
    ("AX", "Åland Islands"),
    ("BQ", "Bonaire, Sint Eustatius and Saba"),
    ("CC", "Cocos (Keeling) Islands"),
    ("CD", "Congo, Democratic Republic of the"),
    ("CF", "Central African Republic"),
    ("CG", "Congo"),
    ("CI", "Côte d'Ivoire"),
    ("CW", "Curaçao"),
    ("DO", "Dominican Republic"),
    ("FK", "Falkland Islands (Malvinas)"),
    ("FM", "Micronesia"),
    ("GB", "United Kingdom"),
    ("HM", "Heard Island and McDonald Islands"),
    ("IR", "Iran"),
    ("KP", "Korea, North"),
    ("KR", "Korea, South"),
    ("LA", "Laos"),
    ("MD", "Moldova"),
    ("MK", "North Macedonia"),
    ("NL", "Netherlands"),
    ("PS", "Palestine"),
    ("RE", "Réunion"),
    ("RU", "Russia"),
    ("SH", "Saint Helena, Ascension and Tristan da Cunha"),
    ("TW", "Taiwan"),
    ("TZ", "Tanzania"),
    ("US", "United States"),
    ("UM", "United States Minor Outlying Islands"),
    ("VA", "Holy See (Vatican City)"),
    ("VE", "Venezuela"),
    ("BL", "Saint Barthélemy"),
    ("AE", "United Arab Emirates"),
    ("BS", "Bahamas"),
    ("KY", "Cayman Islands"),
    ("CK", "Cook Islands"),
    ("FO", "Faroe Islands"),
    ("TF", "French Southern Territories"),
    ("GM", "Gambia"),
    ("MH", "Marshall Islands"),
    ("NE", "Niger"),
    ("MP", "Northern Mariana Islands"),
    ("PH", "Philippines"),
    ("SD", "Sudan"),
];

/// The English name shown for a country: a short name, with "and"/"of" in lower case.
pub fn country_name(alpha2: &str) -> String {
    if let Some((_, name)) = SHORT_NAMES.iter().find(|(code, _)| *code == alpha2) {
        return (*name).to_owned();
    }
    let long_name = Country::from_alpha2(alpha2).map_or(alpha2, |country| country.long_name);
    let name = long_name.strip_prefix("The ").unwrap_or(long_name);
    name.replace(" And ", " and ").replace(" Of ", " of ").replace(" The ", " the ").replace(" Da ", " da ")
}

/// A sort key that orders accented names with their base letters (Å with A).
fn sort_key(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'Å' | 'Ä' | 'Á' => 'A',
            'Ç' => 'C',
            'É' | 'È' => 'E',
            'Ô' | 'Ö' => 'O',
            'é' | 'è' => 'e',
            'ç' => 'c',
            'ô' | 'ö' => 'o',
            other => other,
        })
        .collect()
}

/// Every ISO 3166-1 country as (alpha-2 code, English name), sorted by name.
pub fn all_countries() -> Vec<(&'static str, String)> {
    let mut countries: Vec<_> = Country::get_countries().iter().map(|country| (country.alpha2, country_name(country.alpha2))).collect();
    countries.sort_by_key(|(_, name)| sort_key(name));
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
    fn names_are_short_english_names() {
        assert_eq!(country_name("US"), "United States");
        assert_eq!(country_name("GB"), "United Kingdom");
        assert_eq!(country_name("NL"), "Netherlands");
        assert_eq!(country_name("CI"), "Côte d'Ivoire");
        assert_eq!(country_name("BA"), "Bosnia and Herzegovina");
        assert_eq!(country_name("DE"), "Germany");
    }

    #[test]
    fn no_name_starts_with_the() {
        assert!(all_countries().iter().all(|(_, name)| !name.starts_with("The ")));
    }

    #[test]
    fn accented_names_sort_with_base_letter() {
        let names: Vec<String> = all_countries().into_iter().map(|(_, name)| name).collect();
        let aland = names.iter().position(|name| name == "Åland Islands");
        let albania = names.iter().position(|name| name == "Albania");
        assert!(aland < albania, "Åland Islands before Albania");
    }

    #[test]
    fn all_countries_lists_every_eu_member() {
        let codes: Vec<_> = all_countries().into_iter().map(|(code, _)| code).collect();
        for member in EU_MEMBER_STATES {
            assert!(codes.contains(&member), "{member}");
        }
    }
}
