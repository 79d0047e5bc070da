//! Reminders and cycles: claimed before the send, recorded after it, read back as each
//! debtor's history and as the audit trail.

use super::types::*;
use super::{Ledger, LedgerError, Placeholders, ROWS_PER_STATEMENT, from_ts, ts};
use crate::channel::Delivery;
use crate::rules::{CycleHistory, History, Outcome, PENDING_LEASE};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;

impl Ledger {
    /// Writes a reminder as `pending` (opening its cycle if needed) and commits, before the
    /// send. Returns its id, or `None` when the key is already taken: another check (in
    /// this process or another) owns this reminder. A transient failure under the same key
    /// is taken over again.
    pub async fn claim(&self, r: &NewReminder<'_>, now: DateTime<Utc>) -> Result<Option<i64>, LedgerError> {
        Ok(self.claim_many(std::slice::from_ref(r), now).await?.pop().flatten())
    }

    /// [`Ledger::claim`] for a block of reminders, committed before any of them is sent.
    /// Returns each one's id (or `None`), in the order given.
    ///
    /// Two statements per 256 reminders (cycles, then reminders), each its own transaction:
    /// no transaction stays open across an await, so a stalled process never blocks the
    /// others' claims, and every process writes the keys in the same (sorted) order, so two
    /// blocks claimed at once on PostgreSQL cannot deadlock. A cycle opened without its
    /// reminder (a crash in between) is harmless: the next check sends reminder 1.
    pub async fn claim_many(
        &self,
        claims: &[NewReminder<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<i64>>, LedgerError> {
        let mut ids = vec![None; claims.len()];
        let mut order: Vec<usize> = (0..claims.len()).collect();
        order.sort_by_key(|&i| (claims[i].debtor_id, claims[i].cycle, claims[i].seq));
        for rows in order.chunks(ROWS_PER_STATEMENT) {
            let opening: Vec<&NewReminder> = rows.iter().map(|&i| &claims[i]).filter(|r| r.opens_cycle).collect();
            if !opening.is_empty() {
                let sql = format!(
                    "INSERT INTO cycles (debtor_id, number, opened_at) VALUES {} ON CONFLICT DO NOTHING",
                    Placeholders::new(self).rows(opening.len(), 3, "")
                );
                on_db!(self, |pool| {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for r in opening {
                        query = query.bind(r.debtor_id).bind(i64::from(r.cycle)).bind(ts(now));
                    }
                    query.execute(pool).await.map(|_| ())
                })
                .map_err(self.err("cannot open a cycle"))?;
            }
            let sql = format!(
                "INSERT INTO reminders (debtor_id, cycle, seq, channel, template, recipient, body_hash, \
                     total_minor, currency, items, encoding, segments, estimated_cost_micros, cost_currency, \
                     message, experiment, variant, attempted_at, updated_at, status) \
                 VALUES {} \
                 ON CONFLICT (debtor_id, cycle, seq) DO UPDATE SET \
                     status = 'pending', retryable = 0, error = NULL, error_code = NULL, \
                     attempts = reminders.attempts + 1, channel = excluded.channel, \
                     recipient = excluded.recipient, body_hash = excluded.body_hash, \
                     total_minor = excluded.total_minor, items = excluded.items, \
                     encoding = excluded.encoding, segments = excluded.segments, \
                     estimated_cost_micros = excluded.estimated_cost_micros, message = excluded.message, \
                     experiment = excluded.experiment, variant = excluded.variant, \
                     attempted_at = excluded.attempted_at, updated_at = excluded.updated_at \
                 WHERE reminders.status = 'failed' AND reminders.retryable = 1 \
                 RETURNING id, debtor_id, cycle, seq",
                Placeholders::new(self).rows(rows.len(), 19, ", 'pending'")
            );
            let claimed: Vec<(i64, String, i64, i64)> = on_db!(self, |pool| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for &i in rows {
                    let r = &claims[i];
                    query = query
                        .bind(r.debtor_id)
                        .bind(i64::from(r.cycle))
                        .bind(i64::from(r.seq))
                        .bind(r.channel)
                        .bind(r.template)
                        .bind(r.recipient)
                        .bind(r.body_hash)
                        .bind(r.total_minor)
                        .bind(r.currency)
                        .bind(i64::from(r.items))
                        .bind(r.encoding)
                        .bind(r.segments.map(i64::from))
                        .bind(r.estimated_cost_micros)
                        .bind(r.cost_currency)
                        .bind(r.message)
                        .bind(r.experiment)
                        .bind(r.variant)
                        .bind(ts(now))
                        .bind(ts(now));
                }
                query.fetch_all(pool).await
            })
            .map_err(self.err("cannot record a reminder"))?;
            // RETURNING names the rows by key, in no particular order.
            let at: HashMap<(&str, i64, i64), usize> = rows
                .iter()
                .map(|&i| {
                    (
                        (
                            claims[i].debtor_id,
                            i64::from(claims[i].cycle),
                            i64::from(claims[i].seq),
                        ),
                        i,
                    )
                })
                .collect();
            for (id, debtor_id, cycle, seq) in claimed {
                if let Some(&i) = at.get(&(debtor_id.as_str(), cycle, seq)) {
                    ids[i] = Some(id);
                }
            }
        }
        Ok(ids)
    }

    /// Records how claimed reminders ended: one statement (its own transaction) for up to 256
    /// sent, one for up to 256 failed or withdrawn. Each outcome is recorded whole or not at
    /// all; one not recorded (a crash) leaves its reminder `pending`, verified later.
    pub async fn settle(&self, ends: &[Settled<'_>], now: DateTime<Utc>) -> Result<(), LedgerError> {
        let sent: Vec<_> = ends
            .iter()
            .filter_map(|e| match *e {
                Settled::Sent {
                    id,
                    delivery,
                    found_from,
                } => Some((id, delivery, found_from)),
                _ => None,
            })
            .collect();
        for rows in sent.chunks(ROWS_PER_STATEMENT) {
            let mut p = Placeholders::new(self);
            let sql = format!(
                "WITH v (id, provider_id, provider_status, segments, price, price_unit, found_from) AS (VALUES {}) \
                 UPDATE reminders SET status = 'sent', provider_id = v.provider_id, \
                     provider_status = v.provider_status, segments = COALESCE(v.segments, reminders.segments), \
                     price = v.price, price_unit = v.price_unit, sent_at = {}, updated_at = {}, \
                     attempted_at = COALESCE(v.found_from, reminders.attempted_at) \
                 FROM v WHERE reminders.id = v.id",
                p.rows(rows.len(), 7, ""),
                p.next(),
                p.next()
            );
            on_db!(self, |pool| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (id, delivery, found_from) in rows {
                    query = query
                        .bind(*id)
                        .bind(delivery.provider_id.as_deref())
                        .bind(delivery.provider_status.as_deref())
                        .bind(delivery.segments.map(i64::from))
                        .bind(delivery.price.as_deref())
                        .bind(delivery.price_unit.as_deref())
                        .bind(found_from.map(ts));
                }
                query.bind(ts(now)).bind(ts(now)).execute(pool).await.map(|_| ())
            })
            .map_err(self.err("cannot mark reminders sent"))?;
        }
        // A withdrawn claim is a failure the next check tries again, if it is still pending.
        let failed: Vec<_> = ends
            .iter()
            .filter_map(|e| match *e {
                Settled::Failed {
                    id,
                    status,
                    error,
                    code,
                    retryable,
                } => Some((id, status, error, code, retryable, None)),
                Settled::Withdrawn { id, reason } => Some((id, "failed", reason, None, true, Some("pending"))),
                Settled::Sent { .. } => None,
            })
            .collect();
        for rows in failed.chunks(ROWS_PER_STATEMENT) {
            let mut p = Placeholders::new(self);
            let sql = format!(
                "WITH v (id, status, error, error_code, retryable, only_if) AS (VALUES {}) \
                 UPDATE reminders SET status = v.status, error = v.error, error_code = v.error_code, \
                     retryable = v.retryable, updated_at = {} \
                 FROM v WHERE reminders.id = v.id AND (v.only_if IS NULL OR reminders.status = v.only_if)",
                p.rows(rows.len(), 6, ""),
                p.next()
            );
            on_db!(self, |pool| {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (id, status, error, code, retryable, only_if) in rows {
                    query = query
                        .bind(*id)
                        .bind(*status)
                        .bind(*error)
                        .bind(*code)
                        .bind(i64::from(*retryable))
                        .bind(*only_if);
                }
                query.bind(ts(now)).execute(pool).await.map(|_| ())
            })
            .map_err(self.err("cannot mark reminders failed"))?;
        }
        Ok(())
    }

    /// Records a successful hand-over and what the provider said.
    pub async fn mark_sent(&self, id: i64, delivery: &Delivery, now: DateTime<Utc>) -> Result<(), LedgerError> {
        let sent = Settled::Sent {
            id,
            delivery,
            found_from: None,
        };
        self.settle(&[sent], now).await
    }

    /// Takes over a reminder whose last attempt may have reached the provider (`unknown`, or
    /// `pending` older than [`PENDING_LEASE`]) so that this check can verify it. Returns its
    /// id and when it was last attempted, or `None` if another check took it first.
    pub async fn take_over(
        &self,
        debtor_id: &str,
        cycle: u32,
        seq: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, DateTime<Utc>)>, LedgerError> {
        let sql = "SELECT id, attempted_at FROM reminders WHERE debtor_id = $1 AND cycle = $2 AND seq = $3";
        let found: Option<(i64, i64)> = on_db!(self, |pool| sqlx::query_as(sql)
            .bind(debtor_id)
            .bind(i64::from(cycle))
            .bind(i64::from(seq))
            .fetch_optional(pool)
            .await)
        .map_err(self.err("cannot read a reminder"))?;
        let Some((id, previous)) = found else { return Ok(None) };
        // The condition is checked again by the update itself: of two checks racing here,
        // only one changes the row.
        let taken = on_db!(self, |pool| sqlx::query(
            "UPDATE reminders SET status = 'pending', attempts = attempts + 1, attempted_at = $1, updated_at = $2 \
             WHERE id = $3 AND (status = 'unknown' OR (status = 'pending' AND attempted_at <= $4))",
        )
        .bind(ts(now))
        .bind(ts(now))
        .bind(id)
        .bind(ts(now - PENDING_LEASE))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(self.err("cannot take over a reminder"))?;
        Ok((taken == 1).then(|| (id, from_ts(previous))))
    }

    /// Hands a reminder that failed for good over to another channel: same key, new channel,
    /// template and recipient, `pending` again.
    pub async fn reroute(
        &self,
        id: i64,
        channel: &str,
        template: &str,
        recipient: &str,
        body_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        on_db!(self, |pool| sqlx::query(
            "UPDATE reminders SET channel = $1, template = $2, recipient = $3, body_hash = $4, status = 'pending', \
                 error = NULL, error_code = NULL, retryable = 0, attempts = attempts + 1, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(channel)
        .bind(template)
        .bind(recipient)
        .bind(body_hash)
        .bind(ts(now))
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(self.err("cannot move a reminder to another channel"))?;
        Ok(())
    }

    /// Records a failure; `retryable` failures are tried again by the next check.
    pub async fn mark_failed(
        &self,
        id: i64,
        status: &str,
        error: &str,
        code: Option<&str>,
        retryable: bool,
        now: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        let failed = Settled::Failed {
            id,
            status,
            error,
            code,
            retryable,
        };
        self.settle(&[failed], now).await
    }

    /// Reminders still `pending` among `ids` become `unknown`: the process stops before
    /// their outcome is known, and the next check asks the provider.
    pub async fn mark_interrupted(&self, ids: &[i64], now: DateTime<Utc>) -> Result<u64, LedgerError> {
        let mut n = 0;
        for id in ids {
            n += on_db!(self, |pool| sqlx::query(
                "UPDATE reminders SET status = 'unknown', error = 'interrupted by shutdown', updated_at = $1 \
                 WHERE id = $2 AND status = 'pending'",
            )
            .bind(ts(now))
            .bind(*id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
            .map_err(self.err("cannot record an interrupted send"))?;
        }
        Ok(n)
    }

    /// Closes a debtor's open cycle: its balance is paid.
    pub async fn close_cycle(&self, debtor_id: &str, number: u32, now: DateTime<Utc>) -> Result<(), LedgerError> {
        on_db!(self, |pool| sqlx::query(
            "UPDATE cycles SET closed_at = $1 WHERE debtor_id = $2 AND number = $3 AND closed_at IS NULL"
        )
        .bind(ts(now))
        .bind(debtor_id)
        .bind(i64::from(number))
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(self.err("cannot close a cycle"))?;
        Ok(())
    }

    /// Every debtor's history: cycles, the open cycle's reminders. Debtors never reminded are
    /// absent. Address flags are read separately ([`Ledger::contact_flags`]).
    pub async fn histories(&self) -> Result<HashMap<String, History>, LedgerError> {
        let mut out: HashMap<String, History> = HashMap::new();
        let cycles: Vec<(String, i64, Option<i64>)> = on_db!(self, |pool| sqlx::query_as(
            "SELECT debtor_id, MAX(number) AS last, \
                    MAX(CASE WHEN closed_at IS NULL THEN number END) AS open \
             FROM cycles GROUP BY debtor_id",
        )
        .fetch_all(pool)
        .await)
        .map_err(self.err("cannot read cycles"))?;
        for (debtor, last, open) in cycles {
            out.insert(
                debtor,
                History {
                    last_cycle: last as u32,
                    open_cycle: open.map(|n| CycleHistory {
                        number: n as u32,
                        ..CycleHistory::default()
                    }),
                    ..History::default()
                },
            );
        }
        let reminders: Vec<(String, i64, String, i64, i64)> = on_db!(self, |pool| sqlx::query_as(
            "SELECT r.debtor_id, r.seq, r.status, r.retryable, r.attempted_at \
             FROM reminders r JOIN cycles c ON c.debtor_id = r.debtor_id AND c.number = r.cycle \
             WHERE c.closed_at IS NULL ORDER BY r.debtor_id, r.seq",
        )
        .fetch_all(pool)
        .await)
        .map_err(self.err("cannot read reminders"))?;
        for (debtor, seq, status, retryable, attempted_at) in reminders {
            let Some(cycle) = out.get_mut(&debtor).and_then(|h| h.open_cycle.as_mut()) else {
                continue;
            };
            let outcome = outcome(&status, retryable != 0);
            if outcome == Outcome::Sent {
                cycle.sent += 1;
            }
            cycle.last_seq = seq as u32;
            cycle.last_outcome = Some(outcome);
            if outcome != Outcome::FailedTransient {
                cycle.last_sent_at = Some(from_ts(attempted_at));
            }
        }
        Ok(out)
    }

    /// Every reminder of one debtor (all cycles), oldest first.
    pub async fn reminders_of(&self, debtor_id: &str) -> Result<Vec<ReminderRow>, LedgerError> {
        let rows = on_db!(self, |pool| sqlx::query(
            "SELECT id, debtor_id, cycle, seq, channel, recipient, status, error, attempted_at \
             FROM reminders WHERE debtor_id = $1 ORDER BY cycle, seq",
        )
        .bind(debtor_id)
        .fetch_all(pool)
        .await
        .map(|rows| rows
            .into_iter()
            .map(|row| ReminderRow {
                id: row.get("id"),
                debtor_id: row.get("debtor_id"),
                cycle: row.get::<i64, _>("cycle") as u32,
                seq: row.get::<i64, _>("seq") as u32,
                channel: row.get("channel"),
                recipient: row.get("recipient"),
                status: row.get("status"),
                error: row.get("error"),
                attempted_at: from_ts(row.get("attempted_at")),
            })
            .collect::<Vec<_>>()))
        .map_err(self.err("cannot read reminders"))?;
        Ok(rows)
    }

    /// The audit trail: every reminder (of one debtor, since an instant), oldest first.
    pub async fn history(
        &self,
        debtor_id: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<HistoryRow>, LedgerError> {
        let rows = on_db!(self, |pool| sqlx::query(
            "SELECT id, debtor_id, cycle, seq, channel, template, recipient, status, error, error_code, \
                    provider_id, segments, price, price_unit, delivery_status, delivery_error_code, \
                    total_minor, currency, attempted_at, sent_at \
             FROM reminders WHERE ($1 = '' OR debtor_id = $1) AND attempted_at >= $2 \
             ORDER BY attempted_at, debtor_id, cycle, seq",
        )
        .bind(debtor_id.unwrap_or_default())
        .bind(since.map_or(i64::MIN, ts))
        .fetch_all(pool)
        .await
        .map(|rows| rows
            .into_iter()
            .map(|r| HistoryRow {
                id: r.get("id"),
                debtor_id: r.get("debtor_id"),
                cycle: r.get::<i64, _>("cycle") as u32,
                reminder: r.get::<i64, _>("seq") as u32,
                channel: r.get("channel"),
                template: r.get("template"),
                to: r.get("recipient"),
                status: r.get("status"),
                error: r.get("error"),
                error_code: r.get("error_code"),
                provider_id: r.get("provider_id"),
                segments: r.get::<Option<i64>, _>("segments").map(|n| n as u32),
                price: r.get("price"),
                price_unit: r.get("price_unit"),
                delivery_status: r.get("delivery_status"),
                delivery_error_code: r.get("delivery_error_code"),
                total_minor: r.get("total_minor"),
                currency: r.get("currency"),
                attempted_at: from_ts(r.get("attempted_at")),
                sent_at: r.get::<Option<i64>, _>("sent_at").map(from_ts),
            })
            .collect::<Vec<_>>()))
        .map_err(self.err("cannot read reminders"))?;
        Ok(rows)
    }

    /// Records a provider's status callback on the reminder it sent as `provider_id`.
    /// Idempotent, and a status older than the one stored (`sent` after `delivered`) is
    /// ignored. Statuses Twilio sends before the hand-over is done (`queued`…) count as
    /// older than `sent`.
    ///
    /// The callback names its reminder (`reminder_id`, from the `StatusCallback` URL rappel
    /// gave the provider), found by its key, and the provider's id must match. A callback
    /// that names none (a message sent before rappel named them) is found by the provider's
    /// id alone, which is not indexed: a scan of the reminders.
    pub async fn record_delivery(
        &self,
        reminder_id: Option<i64>,
        provider_id: &str,
        status: &str,
        error_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeliveryUpdate, LedgerError> {
        let Some(rank) = delivery_rank(status) else {
            return Ok(DeliveryUpdate::UnknownStatus);
        };
        let found: Option<(i64, Option<String>)> = on_db!(self, |pool| match reminder_id {
            Some(id) => sqlx::query_as("SELECT id, delivery_status FROM reminders WHERE id = $1 AND provider_id = $2")
                .bind(id)
                .bind(provider_id),
            None =>
                sqlx::query_as("SELECT id, delivery_status FROM reminders WHERE provider_id = $1").bind(provider_id),
        }
        .fetch_optional(pool)
        .await)
        .map_err(self.err("cannot read a reminder"))?;
        let Some((id, current)) = found else {
            return Ok(DeliveryUpdate::NoSuchMessage);
        };
        if current
            .as_deref()
            .and_then(delivery_rank)
            .is_some_and(|stored| stored >= rank)
        {
            return Ok(DeliveryUpdate::Stale);
        }
        // Only if nobody changed it meanwhile: two callbacks racing keep the newest.
        let changed = on_db!(self, |pool| sqlx::query(
            "UPDATE reminders SET delivery_status = $1, delivery_error_code = $2, delivery_updated_at = $3 \
             WHERE id = $4 AND COALESCE(delivery_status, '') = $5",
        )
        .bind(status)
        .bind(error_code)
        .bind(ts(now))
        .bind(id)
        .bind(current.unwrap_or_default())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(self.err("cannot record a delivery status"))?;
        Ok(if changed == 1 {
            DeliveryUpdate::Recorded
        } else {
            DeliveryUpdate::Stale
        })
    }

    /// Forgets the reminder history of one debtor (`Some`) or of all (`None`). Opt-outs and
    /// invalid addresses are kept: a reset must never message someone who said STOP.
    /// Returns the number of reminders forgotten.
    pub async fn reset(&self, debtor_id: Option<&str>) -> Result<u64, LedgerError> {
        on_db!(self, |pool| {
            let mut tx = pool.begin().await.map_err(self.err("cannot start a transaction"))?;
            let removed = match debtor_id {
                Some(id) => {
                    let n = sqlx::query("DELETE FROM reminders WHERE debtor_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await;
                    sqlx::query("DELETE FROM cycles WHERE debtor_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(self.err("cannot reset"))?;
                    n
                }
                None => {
                    let n = sqlx::query("DELETE FROM reminders").execute(&mut *tx).await;
                    sqlx::query("DELETE FROM cycles")
                        .execute(&mut *tx)
                        .await
                        .map_err(self.err("cannot reset"))?;
                    n
                }
            }
            .map_err(self.err("cannot reset"))?
            .rows_affected();
            tx.commit().await.map_err(self.err("cannot commit the reset"))?;
            Ok(removed)
        })
    }

    /// Records one finished check.
    pub async fn record_check(&self, at: DateTime<Utc>, counts: [u64; 5]) -> Result<(), LedgerError> {
        let [due, sent, failed, skipped, rejected] = counts.map(|n| n as i64);
        on_db!(self, |pool| sqlx::query(
            "INSERT INTO checks (at, debtors_due, sent, failed, skipped, rejected) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ts(at))
        .bind(due)
        .bind(sent)
        .bind(failed)
        .bind(skipped)
        .bind(rejected)
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(self.err("cannot record the check"))
    }

    /// The instant of the last recorded check.
    pub async fn last_check(&self) -> Result<Option<DateTime<Utc>>, LedgerError> {
        let at: Option<i64> = on_db!(self, |pool| sqlx::query_scalar("SELECT MAX(at) FROM checks")
            .fetch_one(pool)
            .await)
        .map_err(self.err("cannot read checks"))?;
        Ok(at.map(from_ts))
    }
}
