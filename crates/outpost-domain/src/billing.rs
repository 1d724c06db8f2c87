//! Billing details of an account: who is invoiced, where, and under which tax ID.

use crate::country::CountryCode;
use crate::email::EmailAddress;
use crate::fields::{FieldErrors, required_line, single_line};
use crate::vat::check_vat_number;

/// Maximum length of a name or address line, in characters.
pub const MAX_LINE_CHARS: usize = 200;
/// Maximum length of a postal code, in characters.
pub const MAX_POSTAL_CODE_CHARS: usize = 20;
/// Maximum length of a tax ID, in characters.
pub const MAX_TAX_ID_CHARS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    Business,
    Individual,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Business => "business",
            Self::Individual => "individual",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "business" => Some(Self::Business),
            "individual" => Some(Self::Individual),
            _ => None,
        }
    }
}

/// The form fields as typed, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingDetailsInput {
    pub account_type: String,
    pub name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub postal_code: String,
    pub city: String,
    pub region: String,
    pub country: String,
    pub tax_id: String,
    pub reverse_charge: bool,
    pub billing_email: String,
}

/// Validated billing details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingDetails {
    pub account_type: AccountType,
    pub name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub postal_code: String,
    pub city: String,
    pub region: String,
    pub country: CountryCode,
    pub tax_id: String,
    pub reverse_charge: bool,
    pub billing_email: EmailAddress,
}

impl BillingDetailsInput {
    /// Validates every field and returns all problems at once, keyed by field name.
    pub fn validate(&self) -> Result<BillingDetails, FieldErrors> {
        let mut errors = FieldErrors::new();

        let account_type = AccountType::parse(&self.account_type);
        if account_type.is_none() {
            errors.add("account_type", "Choose Business or Individual.");
        }

        let name = required_line(&mut errors, "name", "Name", &self.name, MAX_LINE_CHARS);
        let address_line1 = required_line(&mut errors, "address_line1", "Address line 1", &self.address_line1, MAX_LINE_CHARS);
        let address_line2 = single_line(&mut errors, "address_line2", "Address line 2", &self.address_line2, MAX_LINE_CHARS);
        let postal_code = single_line(&mut errors, "postal_code", "Postal code", &self.postal_code, MAX_POSTAL_CODE_CHARS);
        let city = required_line(&mut errors, "city", "City", &self.city, MAX_LINE_CHARS);
        let region = single_line(&mut errors, "region", "Region", &self.region, MAX_LINE_CHARS);

        let country = CountryCode::parse(&self.country);
        if country.is_none() {
            if self.country.trim().is_empty() {
                errors.add("country", "Country is required.");
            } else {
                let shown: String = self.country.trim().chars().take(20).collect();
                errors.add("country", format!("Country code \"{shown}\" is not in the ISO 3166-1 list; choose a country from the list."));
            }
        }

        let mut tax_id = single_line(&mut errors, "tax_id", "Tax ID", &self.tax_id, MAX_TAX_ID_CHARS);
        if let Some(country) = &country
            && !tax_id.is_empty()
            && errors.get("tax_id").is_none()
        {
            match check_vat_number(country, &tax_id) {
                Ok(normalized) => tax_id = normalized,
                Err(error) => errors.add("tax_id", error.0),
            }
        }

        if self.reverse_charge {
            let eu_business = account_type == Some(AccountType::Business) && country.as_ref().is_some_and(CountryCode::is_eu_member);
            if !eu_business {
                errors.add("reverse_charge", "Reverse charge applies only to businesses in an EU member state.");
            } else if tax_id.is_empty() {
                errors.add("tax_id", "A VAT number is required for reverse charge.");
            }
        }

        let billing_email = match EmailAddress::parse(&self.billing_email) {
            Ok(email) => Some(email),
            Err(error) => {
                errors.add("billing_email", error.to_string());
                None
            }
        };

        match (account_type, country, billing_email) {
            (Some(account_type), Some(country), Some(billing_email)) if errors.is_empty() => Ok(BillingDetails {
                account_type,
                name,
                address_line1,
                address_line2,
                postal_code,
                city,
                region,
                country,
                tax_id,
                reverse_charge: self.reverse_charge,
                billing_email,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_input() -> BillingDetailsInput {
        BillingDetailsInput {
            account_type: "business".into(),
            name: "Nordlicht IT GmbH".into(),
            address_line1: "Hauptstraße 5".into(),
            address_line2: String::new(),
            postal_code: "10115".into(),
            city: "Berlin".into(),
            region: String::new(),
            country: "DE".into(),
            tax_id: "DE123456789".into(),
            reverse_charge: true,
            billing_email: "billing@nordlicht.example".into(),
        }
    }

    #[test]
    fn valid_details_pass() {
        assert!(valid_input().validate().is_ok());
    }

    #[test]
    fn unknown_country_gets_message() {
        let input = BillingDetailsInput { country: "XX".into(), ..valid_input() };
        let errors = input.validate().err().unwrap_or_default();
        assert!(errors.get("country").is_some_and(|m| m.contains("\"XX\"")));
    }

    #[test]
    fn malformed_vat_gets_message() {
        let input = BillingDetailsInput { tax_id: "DE12".into(), ..valid_input() };
        let errors = input.validate().err().unwrap_or_default();
        assert!(errors.get("tax_id").is_some_and(|m| m.contains("format used in Germany (DE)")));
    }

    #[test]
    fn overlong_address_line_gets_message() {
        let input = BillingDetailsInput { address_line1: "x".repeat(10_000), ..valid_input() };
        let errors = input.validate().err().unwrap_or_default();
        assert!(errors.get("address_line1").is_some_and(|m| m.contains("too long")));
    }

    #[test]
    fn reverse_charge_needs_vat_number() {
        let input = BillingDetailsInput { tax_id: String::new(), ..valid_input() };
        let errors = input.validate().err().unwrap_or_default();
        assert_eq!(errors.get("tax_id"), Some("A VAT number is required for reverse charge."));
    }

    #[test]
    fn reverse_charge_refused_outside_eu() {
        let input = BillingDetailsInput { country: "US".into(), tax_id: String::new(), ..valid_input() };
        let errors = input.validate().err().unwrap_or_default();
        assert!(errors.get("reverse_charge").is_some());
    }

    #[test]
    fn all_problems_reported_at_once() {
        let errors = BillingDetailsInput::default().validate().err().unwrap_or_default();
        for field in ["account_type", "name", "address_line1", "city", "country", "billing_email"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }
}
