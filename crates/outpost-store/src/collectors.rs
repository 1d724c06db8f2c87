//! Collectors of an account, their activation keys and credentials, the devices they report,
//! and the history of key actions. Page queries are scoped by the caller's account id; agent
//! queries by the collector that the credential names.

use std::sync::LazyLock;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, new_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collector {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub kind: String,
    pub activation_status: String,
    pub package_version: String,
    pub hostname: String,
    pub local_ip: String,
    pub mac: String,
    pub uptime_seconds: Option<i64>,
    pub activated_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub inventory_interval_seconds: i64,
    /// Canonical entries separated by newlines.
    pub excluded_addresses: String,
}

const COLUMNS: &str = "id, account_id, name, kind, activation_status, package_version, hostname, local_ip, mac, uptime_seconds, \
     activated_at, expires_at, last_seen_at, created_by, created_at, inventory_interval_seconds, excluded_addresses";

fn collector_from_row(row: &AnyRow) -> Result<Collector, sqlx::Error> {
    Ok(Collector {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        activation_status: row.try_get("activation_status")?,
        package_version: row.try_get("package_version")?,
        hostname: row.try_get("hostname")?,
        local_ip: row.try_get("local_ip")?,
        mac: row.try_get("mac")?,
        uptime_seconds: row.try_get("uptime_seconds")?,
        activated_at: row.try_get("activated_at")?,
        expires_at: row.try_get("expires_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        inventory_interval_seconds: row.try_get("inventory_interval_seconds")?,
        excluded_addresses: row.try_get("excluded_addresses")?,
    })
}

/// One entry of the history, in the words shown on the History page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Added,
    Activated,
    Renamed,
    KeyRenewed,
    ConfigurationChanged,
    CleanedUp,
    Deleted,
    PrepaidTimeGranted,
    Expired,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Activated => "activated",
            Self::Renamed => "renamed",
            Self::KeyRenewed => "activation key renewed",
            Self::ConfigurationChanged => "configuration changed",
            Self::CleanedUp => "cleaned up",
            Self::Deleted => "deleted",
            Self::PrepaidTimeGranted => "prepaid time granted",
            Self::Expired => "expired",
        }
    }
}

struct HistoryRecord<'a> {
    account_id: &'a str,
    collector_id: &'a str,
    collector_name: &'a str,
    action: Action,
    actor: &'a str,
    now: i64,
    detail: &'a str,
}

async fn record_history<'c, E>(executor: E, record: HistoryRecord<'_>) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO collector_history (id, account_id, collector_id, collector_name, action, actor, occurred_at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(record.account_id)
    .bind(record.collector_id)
    .bind(record.collector_name)
    .bind(record.action.as_str())
    .bind(record.actor)
    .bind(record.now)
    .bind(record.detail)
    .execute(executor)
    .await?;
    Ok(())
}

async fn record_credential_change<'c, E>(executor: E, collector_id: &str, now: i64) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO collector_credential_changes (id, collector_id, changed_at) VALUES ($1, $2, $3)")
        .bind(new_id())
        .bind(collector_id)
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

/// Collectors whose credential changed (deleted, activated again, expired or granted prepaid
/// time) at or after `since`, for dropping them from credential caches.
pub async fn credential_changes_since(database: &Database, since: i64) -> Result<Vec<String>, StoreError> {
    let ids = sqlx::query_scalar("SELECT collector_id FROM collector_credential_changes WHERE changed_at >= $1")
        .bind(since)
        .fetch_all(database.pool())
        .await?;
    Ok(ids)
}

/// Deletes change records older than `before`; caches only look a little way back.
pub async fn prune_credential_changes(database: &Database, before: i64) -> Result<u64, StoreError> {
    let deleted = sqlx::query("DELETE FROM collector_credential_changes WHERE changed_at < $1").bind(before).execute(database.pool()).await?;
    Ok(deleted.rows_affected())
}

pub struct NewCollector<'a> {
    pub account_id: &'a str,
    pub name: &'a str,
    pub created_by: &'a str,
    pub key_hash: &'a str,
    pub key_expires_at: i64,
    pub inventory_interval_seconds: i64,
    pub now: i64,
}

/// Adds a subscription collector, pending, with its activation key, in one transaction.
pub async fn create(database: &Database, collector: NewCollector<'_>) -> Result<String, StoreError> {
    let id = new_id();
    let mut transaction = database.pool().begin().await?;

    sqlx::query(
        "INSERT INTO collectors (id, account_id, name, kind, activation_status, package_version, hostname, local_ip, mac, \
         created_by, created_at, inventory_interval_seconds, excluded_addresses) \
         VALUES ($1, $2, $3, 'subscription', 'pending', '', '', '', '', $4, $5, $6, '')",
    )
    .bind(&id)
    .bind(collector.account_id)
    .bind(collector.name)
    .bind(collector.created_by)
    .bind(collector.now)
    .bind(collector.inventory_interval_seconds)
    .execute(&mut *transaction)
    .await?;

    sqlx::query("INSERT INTO collector_activation_keys (collector_id, key_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(collector.key_hash)
        .bind(collector.now)
        .bind(collector.key_expires_at)
        .execute(&mut *transaction)
        .await?;

    let record = HistoryRecord {
        account_id: collector.account_id,
        collector_id: &id,
        collector_name: collector.name,
        action: Action::Added,
        actor: collector.created_by,
        now: collector.now,
        detail: "",
    };
    record_history(&mut *transaction, record).await?;

    transaction.commit().await?;
    Ok(id)
}

pub async fn list(database: &Database, account_id: &str) -> Result<Vec<Collector>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM collectors WHERE account_id = $1 ORDER BY created_at, id")))
        .bind(account_id)
        .fetch_all(database.pool())
        .await?;
    Ok(rows.iter().map(collector_from_row).collect::<Result<_, _>>()?)
}

pub async fn get(database: &Database, account_id: &str, collector_id: &str) -> Result<Option<Collector>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM collectors WHERE account_id = $1 AND id = $2")))
        .bind(account_id)
        .bind(collector_id)
        .fetch_optional(database.pool())
        .await?;
    Ok(row.as_ref().map(collector_from_row).transpose()?)
}

/// Looks a collector up by id alone, for support commands.
pub async fn get_any(database: &Database, collector_id: &str) -> Result<Option<Collector>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM collectors WHERE id = $1")))
        .bind(collector_id)
        .fetch_optional(database.pool())
        .await?;
    Ok(row.as_ref().map(collector_from_row).transpose()?)
}

/// Renames a collector; false when the account has no such collector.
pub async fn rename(database: &Database, account_id: &str, collector_id: &str, name: &str, actor: &str, now: i64) -> Result<bool, StoreError> {
    let mut transaction = database.pool().begin().await?;
    let old_name: Option<String> = sqlx::query_scalar("UPDATE collectors SET name = $1 WHERE id = $2 AND account_id = $3 RETURNING name")
        .bind(name)
        .bind(collector_id)
        .bind(account_id)
        .fetch_optional(&mut *transaction)
        .await?;
    if old_name.is_none() {
        return Ok(false);
    }
    let record = HistoryRecord { account_id, collector_id, collector_name: name, action: Action::Renamed, actor, now, detail: "" };
    record_history(&mut *transaction, record).await?;
    transaction.commit().await?;
    Ok(true)
}

/// Replaces the collector's activation key; the old key stops working.
pub async fn renew_key(database: &Database, account_id: &str, collector_id: &str, key_hash: &str, expires_at: i64, actor: &str, now: i64) -> Result<bool, StoreError> {
    let mut transaction = database.pool().begin().await?;
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM collectors WHERE id = $1 AND account_id = $2")
        .bind(collector_id)
        .bind(account_id)
        .fetch_optional(&mut *transaction)
        .await?;
    let Some(name) = name else { return Ok(false) };

    sqlx::query(
        "INSERT INTO collector_activation_keys (collector_id, key_hash, created_at, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (collector_id) DO UPDATE SET key_hash = $2, created_at = $3, expires_at = $4, used_at = NULL",
    )
    .bind(collector_id)
    .bind(key_hash)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *transaction)
    .await?;

    let record = HistoryRecord { account_id, collector_id, collector_name: &name, action: Action::KeyRenewed, actor, now, detail: "" };
    record_history(&mut *transaction, record).await?;
    transaction.commit().await?;
    Ok(true)
}

/// Host details reported by an agent.
#[derive(Debug, Clone)]
pub struct HostReport<'a> {
    pub hostname: &'a str,
    pub version: &'a str,
    pub local_ip: &'a str,
    pub mac: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activated {
    pub collector_id: String,
    pub account_id: String,
}

/// Uses up an activation key and stores the agent's credential digest, in one transaction.
/// `None` when the key is unknown, used, renewed or expired; of two concurrent activations
/// with one key, only one succeeds.
pub async fn activate(database: &Database, key_hash: &str, credential_hash: &str, host: HostReport<'_>, now: i64) -> Result<Option<Activated>, StoreError> {
    let mut transaction = database.pool().begin().await?;

    let collector_id: Option<String> = sqlx::query_scalar(
        "UPDATE collector_activation_keys SET used_at = $1 WHERE key_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING collector_id",
    )
    .bind(now)
    .bind(key_hash)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(collector_id) = collector_id else {
        return Ok(None);
    };

    let row = sqlx::query(
        "UPDATE collectors SET activation_status = CASE WHEN activation_status = 'expired' THEN 'expired' ELSE 'active' END, \
         activated_at = $1, last_seen_at = $1, hostname = $2, package_version = $3, local_ip = $4, mac = $5 \
         WHERE id = $6 RETURNING account_id, name",
    )
    .bind(now)
    .bind(host.hostname)
    .bind(host.version)
    .bind(host.local_ip)
    .bind(host.mac)
    .bind(&collector_id)
    .fetch_one(&mut *transaction)
    .await?;
    let account_id: String = row.try_get("account_id")?;
    let name: String = row.try_get("name")?;

    sqlx::query("DELETE FROM collector_credentials WHERE collector_id = $1").bind(&collector_id).execute(&mut *transaction).await?;
    sqlx::query("INSERT INTO collector_credentials (collector_id, token_hash, created_at) VALUES ($1, $2, $3)")
        .bind(&collector_id)
        .bind(credential_hash)
        .bind(now)
        .execute(&mut *transaction)
        .await?;

    record_credential_change(&mut *transaction, &collector_id, now).await?;
    let detail = format!("on {} ({}, {})", host.hostname, host.local_ip, host.mac);
    let record = HistoryRecord { account_id: &account_id, collector_id: &collector_id, collector_name: &name, action: Action::Activated, actor: "agent", now, detail: &detail };
    record_history(&mut *transaction, record).await?;

    transaction.commit().await?;
    Ok(Some(Activated { collector_id, account_id }))
}

/// The collector a credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialOwner {
    pub collector_id: String,
    pub account_id: String,
    pub expired: bool,
}

pub async fn credential_owner(database: &Database, token_hash: &str) -> Result<Option<CredentialOwner>, StoreError> {
    let row = sqlx::query(
        "SELECT c.id, c.account_id, c.activation_status FROM collector_credentials k JOIN collectors c ON c.id = k.collector_id \
         WHERE k.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(database.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let status: String = row.try_get("activation_status")?;
    Ok(Some(CredentialOwner { collector_id: row.try_get("id")?, account_id: row.try_get("account_id")?, expired: status == "expired" }))
}

/// The latest heartbeat of one collector, as written by the batch writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatWrite {
    pub collector_id: String,
    pub received_at: i64,
    pub version: String,
    pub local_ip: String,
    pub mac: String,
    pub uptime_seconds: i64,
}

/// Heartbeats per `UPDATE` statement, 6 parameters each. sqlx's SQLite driver looks up the
/// name of every parameter it binds, and SQLite searches a list of all the statement's
/// parameters for it, so binding time grows with the square of the parameter count. At 500
/// heartbeats per statement the look-ups took 41 % of the server's CPU in bench/heartbeats.sh,
/// and at 50 about 7 %.
const HEARTBEATS_PER_STATEMENT: usize = 50;

/// Builds the `UPDATE` for `rows` heartbeats, with numbered placeholders only.
fn heartbeat_statement(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|index| {
            let first = index * 6 + 1;
            format!("(${}, ${}, ${}, ${}, ${}, ${})", first, first + 1, first + 2, first + 3, first + 4, first + 5)
        })
        .collect();
    format!(
        "UPDATE collectors SET last_seen_at = v.column2, package_version = v.column3, local_ip = v.column4, mac = v.column5, \
         uptime_seconds = v.column6 FROM (VALUES {}) AS v WHERE collectors.id = v.column1 \
         AND (collectors.last_seen_at IS NULL OR collectors.last_seen_at <= v.column2)",
        values.join(", ")
    )
}

/// Writes a batch of heartbeats in one transaction, many per `UPDATE … FROM (VALUES …)`
/// statement. A collector deleted meanwhile is skipped, and an older heartbeat never
/// overwrites a newer one.
pub async fn record_heartbeats(database: &Database, batch: &[HeartbeatWrite]) -> Result<(), StoreError> {
    static FULL_CHUNK: LazyLock<String> = LazyLock::new(|| heartbeat_statement(HEARTBEATS_PER_STATEMENT));
    let mut transaction = database.pool().begin().await?;
    for chunk in batch.chunks(HEARTBEATS_PER_STATEMENT) {
        let statement = if chunk.len() == HEARTBEATS_PER_STATEMENT { FULL_CHUNK.clone() } else { heartbeat_statement(chunk.len()) };

        // The statement text holds only numbered placeholders; values are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
        for heartbeat in chunk {
            query = query
                .bind(&heartbeat.collector_id)
                .bind(heartbeat.received_at)
                .bind(&heartbeat.version)
                .bind(&heartbeat.local_ip)
                .bind(&heartbeat.mac)
                .bind(heartbeat.uptime_seconds);
        }
        query.execute(&mut *transaction).await?;
    }
    transaction.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDevice {
    pub ip: String,
    pub mac: String,
    pub hostname: String,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// Stores the devices a collector reports, keeping the earliest first-seen time of each.
pub async fn upsert_devices(database: &Database, collector_id: &str, devices: &[StoredDevice]) -> Result<(), StoreError> {
    let mut transaction = database.pool().begin().await?;
    for device in devices {
        sqlx::query(
            "INSERT INTO collector_devices (collector_id, ip, mac, hostname, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (collector_id, ip, mac) DO UPDATE SET hostname = $4, \
             first_seen = CASE WHEN collector_devices.first_seen < $5 THEN collector_devices.first_seen ELSE $5 END, last_seen = $6",
        )
        .bind(collector_id)
        .bind(&device.ip)
        .bind(&device.mac)
        .bind(&device.hostname)
        .bind(device.first_seen)
        .bind(device.last_seen)
        .execute(&mut *transaction)
        .await?;
    }
    transaction.commit().await?;
    Ok(())
}

pub async fn devices(database: &Database, account_id: &str, collector_id: &str) -> Result<Vec<StoredDevice>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.ip, d.mac, d.hostname, d.first_seen, d.last_seen FROM collector_devices d JOIN collectors c ON c.id = d.collector_id \
         WHERE c.account_id = $1 AND c.id = $2 ORDER BY d.ip, d.mac",
    )
    .bind(account_id)
    .bind(collector_id)
    .fetch_all(database.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredDevice {
                ip: row.try_get("ip")?,
                mac: row.try_get("mac")?,
                hostname: row.try_get("hostname")?,
                first_seen: row.try_get("first_seen")?,
                last_seen: row.try_get("last_seen")?,
            })
        })
        .collect()
}

/// Returns the settings the agent fetches: inventory interval and excluded addresses.
pub async fn configuration(database: &Database, collector_id: &str) -> Result<Option<(i64, String)>, StoreError> {
    let row = sqlx::query("SELECT inventory_interval_seconds, excluded_addresses FROM collectors WHERE id = $1")
        .bind(collector_id)
        .fetch_optional(database.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((row.try_get("inventory_interval_seconds")?, row.try_get("excluded_addresses")?)))
}

#[allow(clippy::too_many_arguments)]
pub async fn save_configuration(
    database: &Database,
    account_id: &str,
    collector_id: &str,
    inventory_interval_seconds: i64,
    excluded_addresses: &str,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let mut transaction = database.pool().begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE collectors SET inventory_interval_seconds = $1, excluded_addresses = $2 WHERE id = $3 AND account_id = $4 RETURNING name",
    )
    .bind(inventory_interval_seconds)
    .bind(excluded_addresses)
    .bind(collector_id)
    .bind(account_id)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(name) = name else { return Ok(false) };

    let record = HistoryRecord { account_id, collector_id, collector_name: &name, action: Action::ConfigurationChanged, actor, now, detail: "" };
    record_history(&mut *transaction, record).await?;
    transaction.commit().await?;
    Ok(true)
}

/// Deletes the collector's configuration (back to defaults) and every device it found; name,
/// kind and subscription stay.
pub async fn clean_up(database: &Database, account_id: &str, collector_id: &str, default_interval: i64, actor: &str, now: i64) -> Result<bool, StoreError> {
    let mut transaction = database.pool().begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE collectors SET inventory_interval_seconds = $1, excluded_addresses = '' WHERE id = $2 AND account_id = $3 RETURNING name",
    )
    .bind(default_interval)
    .bind(collector_id)
    .bind(account_id)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(name) = name else { return Ok(false) };

    let deleted = sqlx::query("DELETE FROM collector_devices WHERE collector_id = $1").bind(collector_id).execute(&mut *transaction).await?;
    let detail = format!("{} devices and the configuration deleted", deleted.rows_affected());
    let record = HistoryRecord { account_id, collector_id, collector_name: &name, action: Action::CleanedUp, actor, now, detail: &detail };
    record_history(&mut *transaction, record).await?;
    transaction.commit().await?;
    Ok(true)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// A heartbeat arrived within the window: the collector is connected.
    Connected,
    /// No such collector, or another request deleted it first.
    NotFound,
}

/// Deletes a collector whose last heartbeat is at or before `connected_since` (disconnected),
/// with its keys, credential and devices. The connection
/// check and the deletion are one statement, so a heartbeat cannot slip between them.
pub async fn delete(database: &Database, account_id: &str, collector_id: &str, connected_since: i64, actor: &str, now: i64) -> Result<Deletion, StoreError> {
    let mut transaction = database.pool().begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "DELETE FROM collectors WHERE id = $1 AND account_id = $2 AND (last_seen_at IS NULL OR last_seen_at <= $3) RETURNING name",
    )
    .bind(collector_id)
    .bind(account_id)
    .bind(connected_since)
    .fetch_optional(&mut *transaction)
    .await?;

    let Some(name) = name else {
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM collectors WHERE id = $1 AND account_id = $2")
            .bind(collector_id)
            .bind(account_id)
            .fetch_optional(&mut *transaction)
            .await?;
        return Ok(if exists.is_some() { Deletion::Connected } else { Deletion::NotFound });
    };

    record_credential_change(&mut *transaction, collector_id, now).await?;
    let record = HistoryRecord { account_id, collector_id, collector_name: &name, action: Action::Deleted, actor, now, detail: "" };
    record_history(&mut *transaction, record).await?;
    transaction.commit().await?;
    Ok(Deletion::Deleted)
}

/// Reports whether the account's history records the deletion of this collector.
pub async fn was_deleted(database: &Database, account_id: &str, collector_id: &str) -> Result<bool, StoreError> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM collector_history WHERE account_id = $1 AND collector_id = $2 AND action = $3 LIMIT 1")
        .bind(account_id)
        .bind(collector_id)
        .bind(Action::Deleted.as_str())
        .fetch_optional(database.pool())
        .await?;
    Ok(found.is_some())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub collector_id: String,
    pub collector_name: String,
    pub action: String,
    pub actor: String,
    pub occurred_at: i64,
    pub detail: String,
}

/// Lists the account's history, newest first, optionally for one collector.
pub async fn history(database: &Database, account_id: &str, collector_id: Option<&str>, limit: i64) -> Result<Vec<HistoryEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT collector_id, collector_name, action, actor, occurred_at, detail FROM collector_history \
         WHERE account_id = $1 AND ($2 = '' OR collector_id = $2) ORDER BY occurred_at DESC, id DESC LIMIT $3",
    )
    .bind(account_id)
    .bind(collector_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(database.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(HistoryEntry {
                collector_id: row.try_get("collector_id")?,
                collector_name: row.try_get("collector_name")?,
                action: row.try_get("action")?,
                actor: row.try_get("actor")?,
                occurred_at: row.try_get("occurred_at")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect()
}

/// Marks prepaid collectors past their expiration as expired. Each row changes once, however
/// many instances run this at the same time, because the update is conditional; returns the
/// collectors it changed.
pub async fn expire_due(database: &Database, now: i64) -> Result<Vec<(String, String)>, StoreError> {
    let mut transaction = database.pool().begin().await?;
    let rows = sqlx::query(
        "UPDATE collectors SET activation_status = 'expired' WHERE kind = 'prepaid' AND expires_at <= $1 AND activation_status <> 'expired' \
         RETURNING id, account_id, name",
    )
    .bind(now)
    .fetch_all(&mut *transaction)
    .await?;

    let mut expired = Vec::new();
    for row in &rows {
        let id: String = row.try_get("id")?;
        let account_id: String = row.try_get("account_id")?;
        let name: String = row.try_get("name")?;
        record_credential_change(&mut *transaction, &id, now).await?;
        let record = HistoryRecord { account_id: &account_id, collector_id: &id, collector_name: &name, action: Action::Expired, actor: "system", now, detail: "" };
        record_history(&mut *transaction, record).await?;
        expired.push((id, account_id));
    }
    transaction.commit().await?;
    Ok(expired)
}

/// Makes a collector prepaid until `expires_at` (support's grant until card payment exists);
/// an expired collector becomes active again, or pending when it was never activated.
pub async fn grant_prepaid(database: &Database, collector_id: &str, expires_at: i64, detail: &str, now: i64) -> Result<Option<Collector>, StoreError> {
    let mut transaction = database.pool().begin().await?;
    let row = sqlx::query(
        "UPDATE collectors SET kind = 'prepaid', expires_at = $1, activation_status = CASE WHEN activation_status <> 'expired' \
         THEN activation_status WHEN activated_at IS NULL THEN 'pending' ELSE 'active' END WHERE id = $2 RETURNING account_id, name",
    )
    .bind(expires_at)
    .bind(collector_id)
    .fetch_optional(&mut *transaction)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let account_id: String = row.try_get("account_id")?;
    let name: String = row.try_get("name")?;

    record_credential_change(&mut *transaction, collector_id, now).await?;
    let record = HistoryRecord { account_id: &account_id, collector_id, collector_name: &name, action: Action::PrepaidTimeGranted, actor: "support", now, detail };
    record_history(&mut *transaction, record).await?;
    transaction.commit().await?;
    get_any(database, collector_id).await
}
