-- Status callbacks name their reminder (`?reminder=<id>` in the StatusCallback URL) and find
-- it by its key: the index on the provider's id, a random key written at every send, goes.
-- A callback without the parameter (a message sent before this change) is found by a scan.
DROP INDEX IF EXISTS reminders_by_provider_id;
