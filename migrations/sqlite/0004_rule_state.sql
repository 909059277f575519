-- Rules' key-value state (behaviour profiles, images seen privileged, ...), written in the
-- same transaction as findings and checkpoints, so a restart continues where it stopped.
CREATE TABLE rule_state (
    finding_type TEXT NOT NULL,
    key          TEXT NOT NULL,
    value        BLOB NOT NULL,
    PRIMARY KEY (finding_type, key)
);
