-- Portable subset: TEXT, BIGINT; UUIDv7 text keys; times as BIGINT unix seconds (UTC);
-- flags as BIGINT 0 or 1; token digests as lower-case hex TEXT.

CREATE TABLE server_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    username_normalized TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    last_sign_in_at BIGINT
);

CREATE INDEX users_account_id ON users (account_id);

CREATE TABLE billing_details (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    account_type TEXT NOT NULL,
    name TEXT NOT NULL,
    address_line1 TEXT NOT NULL,
    address_line2 TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    city TEXT NOT NULL,
    region TEXT NOT NULL,
    country TEXT NOT NULL,
    tax_id TEXT NOT NULL,
    reverse_charge BIGINT NOT NULL,
    billing_email TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    client_address TEXT NOT NULL,
    user_agent TEXT NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE password_resets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX password_resets_user_id ON password_resets (user_id);

CREATE TABLE throttle_counters (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    event TEXT NOT NULL,
    actor TEXT NOT NULL,
    user_id TEXT,
    account_id TEXT,
    client_address TEXT,
    detail TEXT NOT NULL
);

CREATE INDEX audit_events_account_id ON audit_events (account_id, occurred_at);
CREATE INDEX audit_events_user_id ON audit_events (user_id, occurred_at);
