-- What the provider's status callbacks said after the hand-over: sent, delivered,
-- undelivered, failed or read, with the error code, and when the callback arrived.
ALTER TABLE reminders ADD COLUMN delivery_status TEXT;
ALTER TABLE reminders ADD COLUMN delivery_error_code TEXT;
ALTER TABLE reminders ADD COLUMN delivery_updated_at INTEGER;
CREATE INDEX reminders_by_provider_id ON reminders (provider_id);
