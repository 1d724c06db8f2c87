-- Collectors, their activation keys and agent credentials (digests), the devices they found,
-- and the history of key actions, which outlives the collectors it names.

CREATE TABLE collectors (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    activation_status TEXT NOT NULL,
    package_version TEXT NOT NULL,
    hostname TEXT NOT NULL,
    local_ip TEXT NOT NULL,
    mac TEXT NOT NULL,
    uptime_seconds BIGINT,
    activated_at BIGINT,
    expires_at BIGINT,
    last_seen_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    inventory_interval_seconds BIGINT NOT NULL,
    excluded_addresses TEXT NOT NULL
);

CREATE INDEX collectors_account_id ON collectors (account_id);

CREATE TABLE collector_activation_keys (
    collector_id TEXT PRIMARY KEY REFERENCES collectors (id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE collector_credentials (
    collector_id TEXT PRIMARY KEY REFERENCES collectors (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE collector_devices (
    collector_id TEXT NOT NULL REFERENCES collectors (id) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    mac TEXT NOT NULL,
    hostname TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (collector_id, ip, mac)
);

CREATE TABLE collector_history (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    collector_id TEXT NOT NULL,
    collector_name TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    detail TEXT NOT NULL
);

CREATE INDEX collector_history_account_id ON collector_history (account_id, occurred_at);
