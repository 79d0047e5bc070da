-- The message chosen by the [[messages]] rules and the experiment variant of each reminder,
-- the last overdue balance seen per client, and the payments those balances reveal.
ALTER TABLE reminders ADD COLUMN message TEXT;
ALTER TABLE reminders ADD COLUMN experiment TEXT;
ALTER TABLE reminders ADD COLUMN variant TEXT;

CREATE TABLE balances (
    debtor_id      TEXT    NOT NULL PRIMARY KEY,
    overdue_minor  INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- A drop of a client's overdue balance between two checks: nothing overdue any
-- more (paid_in_full). `reminder_id`: the last reminder sent within [rules] attribution_days before it.
CREATE TABLE payments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    debtor_id     TEXT    NOT NULL,
    amount_minor  INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    paid_in_full  INTEGER NOT NULL,
    paid_at       INTEGER NOT NULL,
    reminder_id   INTEGER
);
CREATE INDEX payments_by_reminder ON payments (reminder_id);
