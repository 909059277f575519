-- Keys of the webhook events judged, packed 16 bytes each, one row per commit, written in
-- the same transaction as their findings: a sender that retries after a restart is
-- recognised and its events are not judged twice. Rows older than the resend window go.
CREATE TABLE received_events (
    id            BIGSERIAL PRIMARY KEY,
    committed_at  BIGINT NOT NULL,
    request_keys  BYTEA NOT NULL
);
CREATE INDEX received_events_committed ON received_events (committed_at);
