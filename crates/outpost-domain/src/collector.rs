//! Collectors: names, MAC and IP addresses as agents report them, kinds and statuses, the
//! settings the agent fetches, and the five-year limit on prepaid time.

use std::fmt;
use std::net::IpAddr;

use time::{Date, Month, OffsetDateTime};

use crate::fields::{FieldErrors, required_line};

/// Maximum length of a collector name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Inventory interval bounds, in seconds.
pub const MIN_INVENTORY_INTERVAL_SECONDS: i64 = 60;
pub const MAX_INVENTORY_INTERVAL_SECONDS: i64 = 86_400;
pub const DEFAULT_INVENTORY_INTERVAL_SECONDS: i64 = 900;
/// Maximum number of entries in the excluded-addresses list.
pub const MAX_EXCLUDED_ADDRESSES: usize = 100;
/// Prepaid time ends at most this many years after today.
pub const MAX_PREPAID_YEARS: i32 = 5;

/// A MAC address, stored and shown as six lower-case hex pairs separated by colons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacAddress(String);

impl MacAddress {
    /// Accepts `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` and `aabbccddeeff`.
    pub fn parse(input: &str) -> Option<Self> {
        let text = input.trim();
        let hex: String = match (text.len(), text.as_bytes().get(2), text.as_bytes().get(4)) {
            (17, Some(b':' | b'-'), _) => {
                let separator = char::from(text.as_bytes()[2]);
                let groups: Vec<&str> = text.split(separator).collect();
                if groups.len() != 6 || groups.iter().any(|group| group.len() != 2) {
                    return None;
                }
                groups.concat()
            }
            (14, _, Some(b'.')) => {
                let groups: Vec<&str> = text.split('.').collect();
                if groups.len() != 3 || groups.iter().any(|group| group.len() != 4) {
                    return None;
                }
                groups.concat()
            }
            (12, _, _) => text.to_owned(),
            _ => return None,
        };
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }

        let lower = hex.to_ascii_lowercase();
        let pairs: Vec<&str> = (0..6).filter_map(|index| lower.get(index * 2..index * 2 + 2)).collect();
        Some(Self(pairs.join(":")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an IPv4 or IPv6 address and returns its canonical text (RFC 5952 for IPv6), so
/// `FE80::1` and `fe80:0:0:0:0:0:0:1` are one address.
pub fn canonical_ip(input: &str) -> Option<String> {
    input.trim().parse::<IpAddr>().ok().map(|address| address.to_string())
}

/// Validates a collector name: required, at most 100 characters, no control characters.
pub fn check_name(input: &str) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = required_line(&mut errors, "name", "Name", input, MAX_NAME_CHARS);
    errors.into_result(name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectorKind {
    /// Billed monthly.
    Subscription,
    /// Paid ahead until an expiration date.
    Prepaid,
}

impl CollectorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscription => "subscription",
            Self::Prepaid => "prepaid",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "subscription" => Some(Self::Subscription),
            "prepaid" => Some(Self::Prepaid),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Subscription => "Subscription",
            Self::Prepaid => "Prepaid",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationStatus {
    /// Added; no agent has activated with its key yet.
    Pending,
    Active,
    /// Prepaid time ran out.
    Expired,
}

impl ActivationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Active => "Active",
            Self::Expired => "Expired",
        }
    }
}

/// Connected when the last heartbeat arrived less than `offline_after_seconds` ago.
pub fn is_connected(last_seen_at: Option<i64>, now: i64, offline_after_seconds: i64) -> bool {
    last_seen_at.is_some_and(|last_seen| now - last_seen < offline_after_seconds)
}

/// Parses the excluded-addresses setting: IP addresses or CIDR networks, one per line or
/// separated by commas. Returns them in canonical form.
pub fn parse_excluded_addresses(input: &str) -> Result<Vec<String>, String> {
    let mut entries = Vec::new();
    for entry in input.split([',', '\n', '\r']).map(str::trim).filter(|entry| !entry.is_empty()) {
        let (address, prefix) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (entry, None),
        };
        let Ok(ip) = address.parse::<IpAddr>() else {
            return Err(format!("\"{}\" is not an IP address or CIDR network such as 192.0.2.0/24.", entry.chars().take(60).collect::<String>()));
        };
        let canonical = match prefix {
            None => ip.to_string(),
            Some(prefix) => {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                match prefix.parse::<u8>() {
                    Ok(bits) if bits <= max => format!("{ip}/{bits}"),
                    _ => return Err(format!("\"{entry}\" has an invalid prefix length; use 0 to {max}.")),
                }
            }
        };
        entries.push(canonical);
    }
    if entries.len() > MAX_EXCLUDED_ADDRESSES {
        return Err(format!("At most {MAX_EXCLUDED_ADDRESSES} excluded addresses are allowed; {} were given.", entries.len()));
    }
    Ok(entries)
}

/// The last day prepaid time may reach: the same calendar day five years after `today` (28
/// February when `today` is 29 February and the target year is not a leap year).
pub fn max_prepaid_until(today: Date) -> Date {
    let year = today.year() + MAX_PREPAID_YEARS;
    Date::from_calendar_date(year, today.month(), today.day())
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .unwrap_or(today)
}

/// The unix time at which prepaid time through `last_day` ends: the end of that day in UTC.
pub fn prepaid_end(last_day: Date) -> i64 {
    last_day.next_day().map_or(i64::MAX, |next| next.midnight().assume_utc().unix_timestamp())
}

/// Returns the UTC date of unix time `unix_seconds`.
pub fn utc_date(unix_seconds: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(unix_seconds).map_or(Date::MIN, OffsetDateTime::date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_forms_are_one_address() {
        let expected = Some("aa:bb:cc:dd:ee:ff".to_owned());
        for input in ["AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff", "AABBCCDDEEFF"] {
            assert_eq!(MacAddress::parse(input).map(|mac| mac.0), expected, "{input}");
        }
    }

    #[test]
    fn malformed_macs_are_rejected() {
        for input in ["aa:bb:cc", "gg:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff:00", "aa-bb:cc-dd:ee-ff", "", "aabb.ccdd.eef"] {
            assert_eq!(MacAddress::parse(input), None, "{input}");
        }
    }

    #[test]
    fn ipv6_forms_are_one_address() {
        assert_eq!(canonical_ip("FE80::1"), canonical_ip("fe80:0:0:0:0:0:0:1"));
        assert_eq!(canonical_ip("FE80::1"), Some("fe80::1".to_owned()));
    }

    #[test]
    fn invalid_ip_is_rejected() {
        assert_eq!(canonical_ip("10.0.0.300"), None);
        assert_eq!(canonical_ip("host.example"), None);
    }

    #[test]
    fn name_rules() {
        assert!(check_name("").is_err());
        assert!(check_name(&"x".repeat(10_000)).is_err());
        assert!(check_name("Office\u{7}Gateway").is_err());
        assert_eq!(check_name("  Branch office ").ok(), Some("Branch office".to_owned()));
    }

    #[test]
    fn connection_window() {
        assert!(is_connected(Some(1_000), 1_179, 180));
        assert!(!is_connected(Some(1_000), 1_180, 180));
        assert!(!is_connected(None, 1_000, 180));
    }

    #[test]
    fn excluded_addresses_parse_and_reject() {
        assert_eq!(parse_excluded_addresses("10.0.0.1, 192.0.2.0/24\nFE80::1"), Ok(vec!["10.0.0.1".into(), "192.0.2.0/24".into(), "fe80::1".into()]));
        assert!(parse_excluded_addresses("10.0.0.0/33").is_err());
        assert!(parse_excluded_addresses("printer").is_err());
    }

    #[test]
    fn five_years_from_leap_day() {
        let leap_day = Date::from_calendar_date(2028, Month::February, 29).unwrap_or(Date::MIN);
        assert_eq!(max_prepaid_until(leap_day), Date::from_calendar_date(2033, Month::February, 28).unwrap_or(Date::MIN));
    }

    #[test]
    fn prepaid_end_is_midnight_after_last_day() {
        let day = Date::from_calendar_date(2026, Month::December, 31).unwrap_or(Date::MIN);
        // 2027-01-01T00:00:00Z.
        assert_eq!(prepaid_end(day), 1_798_761_600);
    }
}
