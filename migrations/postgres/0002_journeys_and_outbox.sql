-- Times are UTC milliseconds since the Unix epoch.

-- Each person's migration journey: the journey's serialised state (opaque to the store) and a
-- version for optimistic concurrency (1 after the first save, +1 per save).
CREATE TABLE journeys (
    tenant_id TEXT NOT NULL,
    aad_object_id TEXT NOT NULL,
    state JSONB NOT NULL,
    version BIGINT NOT NULL CHECK (version > 0),
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, aad_object_id)
);

-- The effects outbox: what a saved step (or the chase worker) still has to carry out.
-- 'pending' and 'failed' (awaiting a retry) are open and claimable once due and not leased;
-- 'done' and 'dead' are final. Each claim increments `attempts`, which identifies the claim.
-- An idempotency key is unique: a second effect with the same key is never inserted.
CREATE TABLE effects (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    aad_object_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    created_at_ms BIGINT NOT NULL,
    not_before_ms BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'failed', 'done', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    lease_until_ms BIGINT,
    last_error TEXT,
    idempotency_key TEXT UNIQUE
);

-- What the claim looks at: open effects, earliest due first.
CREATE INDEX effects_due ON effects (not_before_ms, id) WHERE status IN ('pending', 'failed');

CREATE INDEX effects_open_by_person ON effects (tenant_id, aad_object_id, id)
    WHERE status IN ('pending', 'failed');
