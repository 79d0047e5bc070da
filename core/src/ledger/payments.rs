//! Overdue balances per check, the payments their drops reveal, and the rows `stats` reads.

use super::types::*;
use super::{Ledger, LedgerError, Placeholders, ROWS_PER_STATEMENT, from_ts, ts};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;

impl Ledger {
    /// The last overdue balance seen per client (minor units).
    pub async fn balances(&self) -> Result<HashMap<String, i64>, LedgerError> {
        let rows: Vec<(String, i64)> = on_db!(self, |pool| sqlx::query_as(
            "SELECT debtor_id, overdue_minor FROM balances"
        )
        .fetch_all(pool)
        .await)
        .map_err(self.err("cannot read balances"))?;
        Ok(rows.into_iter().collect())
    }

    /// Stores the balances that changed and the payments they reveal, in one transaction.
    /// Each payment is attributed to the client's last reminder sent at most `window_days`
    /// before `now`.
    pub async fn record_balances(
        &self,
        changes: &[BalanceChange],
        window_days: u32,
        now: DateTime<Utc>,
    ) -> Result<usize, LedgerError> {
        if changes.is_empty() {
            return Ok(0);
        }
        let since = now - chrono::Duration::days(i64::from(window_days));
        on_db!(self, |pool| {
            let mut tx = pool.begin().await.map_err(self.err("cannot start a transaction"))?;
            let mut payments = 0;
            for rows in changes.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO balances (debtor_id, overdue_minor, currency, updated_at) VALUES {} \
                     ON CONFLICT (debtor_id) DO UPDATE SET overdue_minor = excluded.overdue_minor, \
                         currency = excluded.currency, updated_at = excluded.updated_at",
                    Placeholders::new(self).rows(rows.len(), 4, "")
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for c in rows {
                    query = query
                        .bind(&c.debtor_id)
                        .bind(c.overdue_minor)
                        .bind(&c.currency)
                        .bind(ts(now));
                }
                query
                    .execute(&mut *tx)
                    .await
                    .map_err(self.err("cannot record balances"))?;
            }
            for c in changes {
                let paid = c.previous_minor - c.overdue_minor;
                if paid <= 0 {
                    continue;
                }
                let reminder: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM reminders WHERE debtor_id = $1 AND status = 'sent' \
                       AND attempted_at <= $2 AND attempted_at >= $3 ORDER BY attempted_at DESC, id DESC LIMIT 1",
                )
                .bind(&c.debtor_id)
                .bind(ts(now))
                .bind(ts(since))
                .fetch_optional(&mut *tx)
                .await
                .map_err(self.err("cannot attribute a payment"))?;
                sqlx::query(
                    "INSERT INTO payments (debtor_id, amount_minor, currency, paid_in_full, paid_at, reminder_id) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&c.debtor_id)
                .bind(paid)
                .bind(&c.currency)
                .bind(i64::from(c.overdue_minor == 0))
                .bind(ts(now))
                .bind(reminder)
                .execute(&mut *tx)
                .await
                .map_err(self.err("cannot record a payment"))?;
                payments += 1;
            }
            tx.commit().await.map_err(self.err("cannot commit balances"))?;
            Ok(payments)
        })
    }

    /// Reminders sent and payments since `since`, for `rappel stats`.
    pub async fn stats_data(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<(Vec<SentReminder>, Vec<Payment>), LedgerError> {
        let since = since.map_or(i64::MIN, ts);
        let sql = "SELECT id, debtor_id, COALESCE(message, 'reminder') AS message, experiment, variant, \
                          total_minor, currency, segments, estimated_cost_micros, cost_currency, attempted_at \
                   FROM reminders WHERE status = 'sent' AND attempted_at >= $1 ORDER BY attempted_at, id";
        let reminders = on_db!(self, |pool| sqlx::query(sql).bind(since).fetch_all(pool).await.map(
            |rows| rows
                .into_iter()
                .map(|r| SentReminder {
                    id: r.get("id"),
                    debtor_id: r.get("debtor_id"),
                    message: r.get("message"),
                    experiment: r.get("experiment"),
                    variant: r.get("variant"),
                    total_minor: r.get("total_minor"),
                    currency: r.get("currency"),
                    segments: r.get::<Option<i64>, _>("segments").unwrap_or(0),
                    cost_micros: r.get::<Option<i64>, _>("estimated_cost_micros").unwrap_or(0),
                    cost_currency: r.get("cost_currency"),
                    at: from_ts(r.get("attempted_at")),
                })
                .collect::<Vec<_>>()
        ))
        .map_err(self.err("cannot read reminders"))?;
        let sql = "SELECT debtor_id, amount_minor, currency, paid_in_full, paid_at, reminder_id FROM payments \
                   WHERE paid_at >= $1 ORDER BY paid_at, id";
        let payments = on_db!(self, |pool| sqlx::query(sql).bind(since).fetch_all(pool).await.map(
            |rows| rows
                .into_iter()
                .map(|r| Payment {
                    debtor_id: r.get("debtor_id"),
                    amount_minor: r.get("amount_minor"),
                    currency: r.get("currency"),
                    full: r.get::<i64, _>("paid_in_full") != 0,
                    at: from_ts(r.get("paid_at")),
                    reminder_id: r.get("reminder_id"),
                })
                .collect::<Vec<_>>()
        ))
        .map_err(self.err("cannot read payments"))?;
        Ok((reminders, payments))
    }
}
