-- rappel ledger, PostgreSQL. Same tables as the SQLite ledger; every integer is BIGINT so
-- that both backends decode the same Rust types. Times are Unix seconds.

CREATE TABLE cycles (
    debtor_id  TEXT   NOT NULL,
    number     BIGINT NOT NULL,
    opened_at  BIGINT NOT NULL,
    closed_at  BIGINT,
    PRIMARY KEY (debtor_id, number)
);

-- Written as 'pending' before the send; the unique key makes a second send of the same
-- reminder impossible, across processes sharing this database.
CREATE TABLE reminders (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    debtor_id     TEXT   NOT NULL,
    cycle         BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    channel       TEXT   NOT NULL,
    template      TEXT   NOT NULL,
    recipient     TEXT   NOT NULL,
    body_hash     TEXT   NOT NULL,
    total_minor   BIGINT NOT NULL,
    currency      TEXT   NOT NULL,
    items         BIGINT NOT NULL,
    status        TEXT   NOT NULL,
    retryable     BIGINT NOT NULL DEFAULT 0,
    error         TEXT,
    error_code    TEXT,
    provider_id   TEXT,
    segments      BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 1,
    attempted_at  BIGINT NOT NULL,
    sent_at       BIGINT,
    updated_at    BIGINT NOT NULL,
    UNIQUE (debtor_id, cycle, seq)
);
CREATE INDEX reminders_by_status ON reminders (status);

CREATE TABLE contacts (
    address     TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    debtor_id   TEXT,
    reason      TEXT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (address, state)
);

CREATE TABLE checks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           BIGINT NOT NULL,
    debtors_due  BIGINT NOT NULL,
    sent         BIGINT NOT NULL,
    failed       BIGINT NOT NULL,
    skipped      BIGINT NOT NULL,
    rejected     BIGINT NOT NULL
);
