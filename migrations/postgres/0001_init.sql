-- Times are UTC milliseconds since the Unix epoch. Objects are created unqualified, in the
-- first schema of the connection's search_path.

-- Inbound activity ids already handled, so Teams redeliveries are recognised. A row may be
-- claimed again once expired; `purge_expired_activities` deletes expired rows.
CREATE TABLE processed_activities (
    conversation_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, activity_id)
);

CREATE INDEX processed_activities_by_expiry ON processed_activities (expires_at_ms);

-- Where to reach each person's 1:1 chat with the bot; refreshed on every inbound activity.
CREATE TABLE conversation_refs (
    tenant_id TEXT NOT NULL,
    aad_object_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    service_url TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, aad_object_id)
);

-- The append-only event log.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    tenant_id TEXT NOT NULL,
    aad_object_id TEXT,
    kind TEXT NOT NULL,
    data JSONB NOT NULL
);

CREATE INDEX events_by_person ON events (tenant_id, aad_object_id, id);

CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

-- Statement-level, so it fires even when no row matches, and also covers TRUNCATE.
CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
