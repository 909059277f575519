-- Read positions of followed audit log files, written in the same transaction as the
-- findings of the events read up to them, so a restart neither skips nor re-counts.
CREATE TABLE checkpoints (
    source     TEXT PRIMARY KEY,
    file_id    TEXT NOT NULL,
    position   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
