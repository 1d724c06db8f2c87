//! Billing details of an account.

use outpost_domain::billing::BillingDetails;
use sqlx::Row;

use crate::{Database, StoreError};

/// Billing details as stored, all text, for display in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredBillingDetails {
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
    pub updated_at: i64,
}

pub async fn get(database: &Database, account_id: &str) -> Result<Option<StoredBillingDetails>, StoreError> {
    let row = sqlx::query(
        "SELECT account_type, name, address_line1, address_line2, postal_code, city, region, country, tax_id, \
         reverse_charge, billing_email, updated_at FROM billing_details WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(database.pool())
    .await?;

    let Some(row) = row else { return Ok(None) };
    let reverse_charge: i64 = row.try_get("reverse_charge")?;
    Ok(Some(StoredBillingDetails {
        account_type: row.try_get("account_type")?,
        name: row.try_get("name")?,
        address_line1: row.try_get("address_line1")?,
        address_line2: row.try_get("address_line2")?,
        postal_code: row.try_get("postal_code")?,
        city: row.try_get("city")?,
        region: row.try_get("region")?,
        country: row.try_get("country")?,
        tax_id: row.try_get("tax_id")?,
        reverse_charge: reverse_charge != 0,
        billing_email: row.try_get("billing_email")?,
        updated_at: row.try_get("updated_at")?,
    }))
}

pub async fn save(database: &Database, account_id: &str, details: &BillingDetails, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO billing_details (account_id, account_type, name, address_line1, address_line2, postal_code, city, \
         region, country, tax_id, reverse_charge, billing_email, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (account_id) DO UPDATE SET account_type = $2, name = $3, address_line1 = $4, address_line2 = $5, \
         postal_code = $6, city = $7, region = $8, country = $9, tax_id = $10, reverse_charge = $11, billing_email = $12, \
         updated_at = $13",
    )
    .bind(account_id)
    .bind(details.account_type.as_str())
    .bind(&details.name)
    .bind(&details.address_line1)
    .bind(&details.address_line2)
    .bind(&details.postal_code)
    .bind(&details.city)
    .bind(&details.region)
    .bind(details.country.as_str())
    .bind(&details.tax_id)
    .bind(i64::from(details.reverse_charge))
    .bind(details.billing_email.as_str())
    .bind(now)
    .execute(database.pool())
    .await?;
    Ok(())
}
