-- A row for every change that may make a cached collector credential stale: deletion,
-- activation (a new credential), expiry and prepaid grants. Server instances read new rows
-- every few seconds and drop those collectors from their credential caches.

CREATE TABLE collector_credential_changes (
    id TEXT PRIMARY KEY,
    collector_id TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);

CREATE INDEX collector_credential_changes_changed_at ON collector_credential_changes (changed_at);
