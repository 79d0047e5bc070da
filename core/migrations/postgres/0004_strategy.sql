-- The message chosen by the [[messages]] rules and the experiment variant of each reminder,
-- the last overdue balance seen per client, and the payments those balances reveal.
ALTER TABLE reminders ADD COLUMN message TEXT;
ALTER TABLE reminders ADD COLUMN experiment TEXT;
ALTER TABLE reminders ADD COLUMN variant TEXT;

CREATE TABLE balances (
    debtor_id      TEXT   NOT NULL PRIMARY KEY,
    overdue_minor  BIGINT NOT NULL,
    currency       TEXT   NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE payments (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    debtor_id     TEXT   NOT NULL,
    amount_minor  BIGINT NOT NULL,
    currency      TEXT   NOT NULL,
    paid_in_full  BIGINT NOT NULL,
    paid_at       BIGINT NOT NULL,
    reminder_id   BIGINT
);
CREATE INDEX payments_by_reminder ON payments (reminder_id);
