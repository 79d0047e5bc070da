-- No query looks reminders up by status alone: a check reads them by client, `take_over` and
-- the record stage by id, `stats` scans the sent ones (nearly all of them). The index cost
-- every claim an insert and every outcome a delete and an insert; it goes.
DROP INDEX IF EXISTS reminders_by_status;
