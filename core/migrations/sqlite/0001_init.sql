-- rappel ledger, SQLite. Times are Unix seconds; money is integer minor units + ISO code.

-- One cycle per overdue balance of a debtor: opened by its first reminder, closed when
-- nothing is overdue any more.
CREATE TABLE cycles (
    debtor_id  TEXT    NOT NULL,
    number     INTEGER NOT NULL,
    opened_at  INTEGER NOT NULL,
    closed_at  INTEGER,
    PRIMARY KEY (debtor_id, number)
);

-- One row per reminder, written as 'pending' before the send. The unique key makes a
-- second send of the same reminder impossible, across processes too.
CREATE TABLE reminders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    debtor_id     TEXT    NOT NULL,
    cycle         INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    channel       TEXT    NOT NULL,
    template      TEXT    NOT NULL,
    recipient     TEXT    NOT NULL,
    body_hash     TEXT    NOT NULL,
    total_minor   INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    items         INTEGER NOT NULL,
    status        TEXT    NOT NULL,  -- pending | sent | failed | unknown (+ provider states)
    retryable     INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    error_code    TEXT,
    provider_id   TEXT,
    segments      INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 1,
    attempted_at  INTEGER NOT NULL,  -- the check's instant: the period clock starts here
    sent_at       INTEGER,
    updated_at    INTEGER NOT NULL,
    UNIQUE (debtor_id, cycle, seq)
);
CREATE INDEX reminders_by_status ON reminders (status);

-- Addresses that must not be used: opted out (STOP) or refused as invalid. They belong to
-- the address and outlive cycles and resets.
CREATE TABLE contacts (
    address     TEXT    NOT NULL,
    state       TEXT    NOT NULL,  -- opted_out | invalid
    debtor_id   TEXT,
    reason      TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (address, state)
);

-- One row per check (tick), for status and the daemon's catch-up.
CREATE TABLE checks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    debtors_due  INTEGER NOT NULL,
    sent         INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    skipped      INTEGER NOT NULL,
    rejected     INTEGER NOT NULL
);
