-- Times are UTC milliseconds since the Unix epoch.

-- Inbound activity ids already handled, so Teams redeliveries are recognised. A row may be
-- claimed again once expired; `purge_expired_activities` deletes expired rows.
CREATE TABLE processed_activities (
    conversation_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, activity_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX processed_activities_by_expiry ON processed_activities (expires_at_ms);

-- Where to reach each person's 1:1 chat with the bot; refreshed on every inbound activity.
CREATE TABLE conversation_refs (
    tenant_id TEXT NOT NULL,
    aad_object_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    service_url TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, aad_object_id)
) STRICT, WITHOUT ROWID;

-- The append-only event log. AUTOINCREMENT: an id is never reused.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    aad_object_id TEXT,
    kind TEXT NOT NULL,
    data TEXT NOT NULL CHECK (json_valid(data))
) STRICT;

CREATE INDEX events_by_person ON events (tenant_id, aad_object_id, id);

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;

CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;
