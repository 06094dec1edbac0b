-- Times are UTC milliseconds since the Unix epoch.

-- Test sign-in attempts: a link bound to one person's conversation, used once to start the
-- sign-in (then `state_hash` identifies the flow), completed once at the callback. Only the
-- SHA-256 of the link token and of `state` are kept; the PKCE verifier must be sent at code
-- redemption, so it is kept as is until the row is purged.
CREATE TABLE test_signin_attempts (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    aad_object_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    login_hint TEXT,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    started_at_ms INTEGER,
    state_hash TEXT UNIQUE,
    nonce TEXT,
    pkce_verifier TEXT,
    finished_at_ms INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX test_signin_attempts_expiry ON test_signin_attempts (expires_at_ms);
