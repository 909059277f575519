-- Saved filters (GuardDuty's CreateFilter). A filter whose action is ARCHIVE is a
-- suppression rule: new findings that match it are archived on arrival.
CREATE TABLE filters (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    action      TEXT NOT NULL,
    rank        BIGINT NOT NULL,
    criteria    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL
);
