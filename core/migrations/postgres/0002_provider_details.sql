-- What the provider said about each reminder: its status right after the hand-over, and the
-- price it reported (as written, e.g. "-0.00750", with its currency).
ALTER TABLE reminders ADD COLUMN provider_status TEXT;
ALTER TABLE reminders ADD COLUMN price TEXT;
ALTER TABLE reminders ADD COLUMN price_unit TEXT;
-- The estimate made before sending: encoding and estimated cost in millionths of a unit.
ALTER TABLE reminders ADD COLUMN encoding TEXT;
ALTER TABLE reminders ADD COLUMN estimated_cost_micros BIGINT;
ALTER TABLE reminders ADD COLUMN cost_currency TEXT;
