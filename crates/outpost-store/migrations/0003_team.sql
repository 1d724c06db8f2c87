-- Team: member names, two-factor requirements per member and per account, and invitations
-- (token digests; one pending invitation per address and account).

ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';

ALTER TABLE users ADD COLUMN two_factor_required BIGINT NOT NULL DEFAULT 0;

ALTER TABLE accounts ADD COLUMN require_two_factor BIGINT NOT NULL DEFAULT 0;

CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    name TEXT NOT NULL,
    require_two_factor BIGINT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    cancelled_at BIGINT
);

CREATE UNIQUE INDEX invitations_pending_email ON invitations (account_id, email_normalized)
    WHERE accepted_at IS NULL AND cancelled_at IS NULL;
