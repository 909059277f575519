-- Findings, one row per aggregated finding (same id = the same security issue).
-- The columns hold what filters and aggregation need; `body` the GuardDuty-format JSON of
-- the latest occurrence. Times are milliseconds since the Unix epoch.
CREATE TABLE findings (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    severity    REAL NOT NULL,
    cluster     TEXT NOT NULL,
    namespace   TEXT,
    username    TEXT NOT NULL,
    source_ip   TEXT,
    count       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    archived    BOOLEAN NOT NULL DEFAULT FALSE,
    feedback    TEXT,
    body        TEXT NOT NULL
);

CREATE INDEX findings_updated ON findings (updated_at, id);
CREATE INDEX findings_type ON findings (type);
CREATE INDEX findings_cluster ON findings (cluster);
