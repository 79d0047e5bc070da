//! The ledger: what was sent, to whom, in which cycle, and how it ended. SQLite through sqlx
//! with runtime queries; every reminder is written as `pending` (and committed) before the
//! provider is called, under a unique (debtor, cycle, seq) key.

use crate::channel::Delivery;
use crate::rules::{CycleHistory, History, Outcome, PENDING_LEASE};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Executor, Row};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// A ledger that cannot be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[error("ledger {path}: {what}")]
pub struct LedgerError {
    /// The ledger's location.
    pub path: String,
    /// What was being done.
    pub what: &'static str,
    /// The database error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// Address flags that stop sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactState {
    /// The recipient said STOP.
    OptedOut,
    /// A provider refused the address.
    Invalid,
}

impl ContactState {
    fn as_str(self) -> &'static str {
        match self {
            Self::OptedOut => "opted_out",
            Self::Invalid => "invalid",
        }
    }
}

/// A reminder about to be sent.
#[derive(Debug, Clone)]
pub struct NewReminder<'a> {
    /// The debtor.
    pub debtor_id: &'a str,
    /// The cycle.
    pub cycle: u32,
    /// Its number in the cycle.
    pub seq: u32,
    /// Whether it opens the cycle.
    pub opens_cycle: bool,
    /// The channel's name.
    pub channel: &'a str,
    /// The template's name.
    pub template: &'a str,
    /// The address it goes to.
    pub recipient: &'a str,
    /// SHA-256 of the body, hex.
    pub body_hash: &'a str,
    /// The overdue total it announces.
    pub total_minor: i64,
    /// Its currency.
    pub currency: &'a str,
    /// How many items it lists.
    pub items: u32,
    /// `GSM-7` or `UCS-2`, when the channel estimates.
    pub encoding: Option<&'a str>,
    /// Segments estimated before sending.
    pub segments: Option<u32>,
    /// Estimated cost in millionths of `cost_currency`.
    pub estimated_cost_micros: Option<i64>,
    /// The currency of the estimate.
    pub cost_currency: Option<&'a str>,
    /// The message chosen by the rules (`reminder-firm`).
    pub message: &'a str,
    /// The experiment, if any.
    pub experiment: Option<&'a str>,
    /// Its variant.
    pub variant: Option<&'a str>,
}

/// A stored reminder, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRow {
    /// Ledger id.
    pub id: i64,
    /// Debtor.
    pub debtor_id: String,
    /// Cycle.
    pub cycle: u32,
    /// Number in the cycle.
    pub seq: u32,
    /// Channel name.
    pub channel: String,
    /// Recipient address.
    pub recipient: String,
    /// Status.
    pub status: String,
    /// Error, if any.
    pub error: Option<String>,
    /// When it was attempted.
    pub attempted_at: DateTime<Utc>,
}

/// The ledger.
#[derive(Debug, Clone)]
pub struct Ledger {
    pool: AnyPool,
    path: String,
}

async fn connect(url: &str, shown: &str, sqlite: bool) -> Result<AnyPool, LedgerError> {
    sqlx::any::install_default_drivers();
    let err = |what| {
        move |e: sqlx::Error| LedgerError {
            path: shown.to_string(),
            what,
            source: Box::new(e),
        }
    };
    let options = AnyConnectOptions::from_str(url).map_err(err("is not a valid database URL"))?;
    let mut pool = AnyPoolOptions::new()
        // SQLite has one writer at a time: one connection avoids busy waits between this
        // process's own connections (other processes still wait on the busy timeout).
        .max_connections(if sqlite { 1 } else { 4 })
        .acquire_timeout(Duration::from_secs(30));
    if sqlite {
        // WAL lets readers work while a check writes; the busy timeout makes concurrent
        // processes wait for each other instead of failing.
        pool = pool.after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL")
                    .await
                    .map(|_| ())
            })
        });
    }
    pool.connect_with(options).await.map_err(err("cannot connect"))
}

async fn run_migrations(migrator: Migrator, pool: &AnyPool, shown: &str) -> Result<(), LedgerError> {
    migrator.run(pool).await.map_err(|e| LedgerError {
        path: shown.to_string(),
        what: "cannot apply migrations",
        source: Box::new(e),
    })
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn from_ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

impl Ledger {
    /// Opens the ledger `[state]` names: Postgres when `url` is set, else the SQLite file
    /// at `path` (resolved by the caller).
    pub async fn open(url: Option<&str>, path: &Path) -> Result<Self, LedgerError> {
        match url {
            Some(url) => Self::open_postgres(url).await,
            None => Self::open_sqlite(path).await,
        }
    }

    /// Opens (creating if needed) the SQLite ledger at `path` and brings its tables up to date.
    pub async fn open_sqlite(path: &Path) -> Result<Self, LedgerError> {
        let shown = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| LedgerError {
                path: shown.clone(),
                what: "cannot create its folder",
                source: Box::new(e),
            })?;
        }
        let url = SqliteConnectOptions::new()
            .filename(PathBuf::from(path))
            .create_if_missing(true)
            .to_url_lossy();
        let pool = connect(url.as_str(), &shown, true).await?;
        run_migrations(sqlx::migrate!("migrations/sqlite"), &pool, &shown).await?;
        Ok(Self { pool, path: shown })
    }

    /// Opens the Postgres ledger at `url` and brings its tables up to date. Several
    /// processes may share it: the unique reminder key keeps every send single.
    pub async fn open_postgres(url: &str) -> Result<Self, LedgerError> {
        let shown = crate::mask::url(url);
        let pool = connect(url, &shown, false).await?;
        run_migrations(sqlx::migrate!("migrations/postgres"), &pool, &shown).await?;
        Ok(Self { pool, path: shown })
    }

    /// Whether several processes may share this ledger (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.path.starts_with("postgres")
    }

    fn err(&self, what: &'static str) -> impl Fn(sqlx::Error) -> LedgerError + '_ {
        move |e| LedgerError {
            path: self.path.clone(),
            what,
            source: Box::new(e),
        }
    }

    /// Every debtor's history: cycles, the open cycle's reminders. Debtors never reminded are
    /// absent. Address flags are read separately ([`Ledger::contact_flags`]).
    pub async fn histories(&self) -> Result<HashMap<String, History>, LedgerError> {
        let mut out: HashMap<String, History> = HashMap::new();
        let cycles = sqlx::query(
            "SELECT debtor_id, MAX(number) AS last, \
                    MAX(CASE WHEN closed_at IS NULL THEN number END) AS open \
             FROM cycles GROUP BY debtor_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("cannot read cycles"))?;
        for row in cycles {
            let debtor: String = row.get("debtor_id");
            let last: i64 = row.get("last");
            let open: Option<i64> = row.get("open");
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
        let reminders = sqlx::query(
            "SELECT r.debtor_id, r.seq, r.status, r.retryable, r.attempted_at \
             FROM reminders r JOIN cycles c ON c.debtor_id = r.debtor_id AND c.number = r.cycle \
             WHERE c.closed_at IS NULL ORDER BY r.debtor_id, r.seq",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("cannot read reminders"))?;
        for row in reminders {
            let debtor: String = row.get("debtor_id");
            let Some(cycle) = out.get_mut(&debtor).and_then(|h| h.open_cycle.as_mut()) else {
                continue;
            };
            let status: String = row.get("status");
            let retryable: i64 = row.get("retryable");
            let outcome = outcome(&status, retryable != 0);
            if outcome == Outcome::Sent {
                cycle.sent += 1;
            }
            cycle.last_seq = row.get::<i64, _>("seq") as u32;
            cycle.last_outcome = Some(outcome);
            if outcome != Outcome::FailedTransient {
                cycle.last_sent_at = Some(from_ts(row.get("attempted_at")));
            }
        }
        Ok(out)
    }

    /// Flagged addresses: opted out or invalid.
    pub async fn contact_flags(&self) -> Result<HashMap<String, Vec<ContactState>>, LedgerError> {
        let rows = sqlx::query("SELECT address, state FROM contacts")
            .fetch_all(&self.pool)
            .await
            .map_err(self.err("cannot read contacts"))?;
        let mut out: HashMap<String, Vec<ContactState>> = HashMap::new();
        for row in rows {
            let state = match row.get::<String, _>("state").as_str() {
                "opted_out" => ContactState::OptedOut,
                _ => ContactState::Invalid,
            };
            out.entry(row.get("address")).or_default().push(state);
        }
        Ok(out)
    }

    /// Writes a reminder as `pending` (opening its cycle if needed) and commits, before the
    /// send. Returns its id, or `None` when the key is already taken: another check (in
    /// this process or another) owns this reminder. A transient failure under the same key
    /// is taken over again.
    pub async fn claim(&self, r: &NewReminder<'_>, now: DateTime<Utc>) -> Result<Option<i64>, LedgerError> {
        // Two statements, each committed on its own: no transaction stays open across an
        // await, so a stalled process never blocks the others' claims. A cycle opened without
        // its reminder (a crash in between) is harmless: the next check sends reminder 1.
        if r.opens_cycle {
            sqlx::query("INSERT INTO cycles (debtor_id, number, opened_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(r.debtor_id)
                .bind(i64::from(r.cycle))
                .bind(ts(now))
                .execute(&self.pool)
                .await
                .map_err(self.err("cannot open a cycle"))?;
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO reminders (debtor_id, cycle, seq, channel, template, recipient, body_hash, \
                 total_minor, currency, items, encoding, segments, estimated_cost_micros, cost_currency, \
                 message, experiment, variant, status, attempted_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'pending', $18, $19) \
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
             RETURNING id",
        )
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
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(self.err("cannot record a reminder"))?;
        Ok(id)
    }

    /// Records a successful hand-over and what the provider said.
    pub async fn mark_sent(&self, id: i64, delivery: &Delivery, now: DateTime<Utc>) -> Result<(), LedgerError> {
        sqlx::query(
            "UPDATE reminders SET status = 'sent', provider_id = $1, provider_status = $2, \
                 segments = COALESCE($3, segments), price = $4, price_unit = $5, sent_at = $6, updated_at = $7 \
             WHERE id = $8",
        )
        .bind(delivery.provider_id.as_deref())
        .bind(delivery.provider_status.as_deref())
        .bind(delivery.segments.map(i64::from))
        .bind(delivery.price.as_deref())
        .bind(delivery.price_unit.as_deref())
        .bind(ts(now))
        .bind(ts(now))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(self.err("cannot mark a reminder sent"))?;
        Ok(())
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
        let found =
            sqlx::query("SELECT id, attempted_at FROM reminders WHERE debtor_id = $1 AND cycle = $2 AND seq = $3")
                .bind(debtor_id)
                .bind(i64::from(cycle))
                .bind(i64::from(seq))
                .fetch_optional(&self.pool)
                .await
                .map_err(self.err("cannot read a reminder"))?;
        let Some(row) = found else { return Ok(None) };
        let (id, previous): (i64, i64) = (row.get("id"), row.get("attempted_at"));
        // The condition is checked again by the update itself: of two checks racing here,
        // only one changes the row.
        let taken = sqlx::query(
            "UPDATE reminders SET status = 'pending', attempts = attempts + 1, attempted_at = $1, updated_at = $2 \
             WHERE id = $3 AND (status = 'unknown' OR (status = 'pending' AND attempted_at <= $4))",
        )
        .bind(ts(now))
        .bind(ts(now))
        .bind(id)
        .bind(ts(now - PENDING_LEASE))
        .execute(&self.pool)
        .await
        .map_err(self.err("cannot take over a reminder"))?
        .rows_affected();
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
        sqlx::query(
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
        .execute(&self.pool)
        .await
        .map_err(self.err("cannot move a reminder to another channel"))?;
        Ok(())
    }

    /// Records that the provider already had the message of a taken-over reminder: it is
    /// `sent`, and its period counts from the attempt that reached the provider.
    pub async fn mark_found(
        &self,
        id: i64,
        delivery: &Delivery,
        attempted_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        self.mark_sent(id, delivery, now).await?;
        sqlx::query("UPDATE reminders SET attempted_at = $1 WHERE id = $2")
            .bind(ts(attempted_at))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(self.err("cannot mark a reminder found"))?;
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
        sqlx::query(
            "UPDATE reminders SET status = $1, error = $2, error_code = $3, retryable = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(error)
        .bind(code)
        .bind(i64::from(retryable))
        .bind(ts(now))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(self.err("cannot mark a reminder failed"))?;
        Ok(())
    }

    /// Closes a debtor's open cycle: its balance is paid.
    pub async fn close_cycle(&self, debtor_id: &str, number: u32, now: DateTime<Utc>) -> Result<(), LedgerError> {
        sqlx::query("UPDATE cycles SET closed_at = $1 WHERE debtor_id = $2 AND number = $3 AND closed_at IS NULL")
            .bind(ts(now))
            .bind(debtor_id)
            .bind(i64::from(number))
            .execute(&self.pool)
            .await
            .map_err(self.err("cannot close a cycle"))?;
        Ok(())
    }

    /// Flags an address (opted out or invalid) for good.
    pub async fn flag_contact(
        &self,
        address: &str,
        state: ContactState,
        debtor_id: Option<&str>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        sqlx::query(
            "INSERT INTO contacts (address, state, debtor_id, reason, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (address, state) DO UPDATE SET reason = excluded.reason, updated_at = excluded.updated_at",
        )
        .bind(address)
        .bind(state.as_str())
        .bind(debtor_id)
        .bind(reason)
        .bind(ts(now))
        .execute(&self.pool)
        .await
        .map_err(self.err("cannot flag a contact"))?;
        Ok(())
    }

    /// Forgets the reminder history of one debtor (`Some`) or of all (`None`). Opt-outs and
    /// invalid addresses are kept: a reset must never message someone who said STOP.
    /// Returns the number of reminders forgotten.
    pub async fn reset(&self, debtor_id: Option<&str>) -> Result<u64, LedgerError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(self.err("cannot start a transaction"))?;
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
    }

    /// Records one finished check.
    pub async fn record_check(&self, at: DateTime<Utc>, counts: [u64; 5]) -> Result<(), LedgerError> {
        let [due, sent, failed, skipped, rejected] = counts.map(|n| n as i64);
        sqlx::query(
            "INSERT INTO checks (at, debtors_due, sent, failed, skipped, rejected) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(ts(at))
        .bind(due)
        .bind(sent)
        .bind(failed)
        .bind(skipped)
        .bind(rejected)
        .execute(&self.pool)
        .await
        .map_err(self.err("cannot record the check"))?;
        Ok(())
    }

    /// The instant of the last recorded check.
    pub async fn last_check(&self) -> Result<Option<DateTime<Utc>>, LedgerError> {
        let at: Option<i64> = sqlx::query_scalar("SELECT MAX(at) FROM checks")
            .fetch_one(&self.pool)
            .await
            .map_err(self.err("cannot read checks"))?;
        Ok(at.map(from_ts))
    }

    /// Every reminder of one debtor (all cycles), oldest first.
    pub async fn reminders_of(&self, debtor_id: &str) -> Result<Vec<ReminderRow>, LedgerError> {
        let rows = sqlx::query(
            "SELECT id, debtor_id, cycle, seq, channel, recipient, status, error, attempted_at \
             FROM reminders WHERE debtor_id = $1 ORDER BY cycle, seq",
        )
        .bind(debtor_id)
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("cannot read reminders"))?;
        Ok(rows
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
            .collect())
    }

    /// Whether the ledger answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), LedgerError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(self.err("does not answer"))?;
        Ok(())
    }

    /// Records a provider's status callback on the reminder it sent as `provider_id`.
    /// Idempotent, and a status older than the one stored (`sent` after `delivered`) is
    /// ignored. Statuses Twilio sends before the hand-over is done (`queued`…) count as
    /// older than `sent`.
    pub async fn record_delivery(
        &self,
        provider_id: &str,
        status: &str,
        error_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeliveryUpdate, LedgerError> {
        let Some(rank) = delivery_rank(status) else {
            return Ok(DeliveryUpdate::UnknownStatus);
        };
        let row = sqlx::query("SELECT id, delivery_status FROM reminders WHERE provider_id = $1")
            .bind(provider_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err("cannot read a reminder"))?;
        let Some(row) = row else {
            return Ok(DeliveryUpdate::NoSuchMessage);
        };
        let id: i64 = row.get("id");
        let current: Option<String> = row.get("delivery_status");
        if current
            .as_deref()
            .and_then(delivery_rank)
            .is_some_and(|stored| stored >= rank)
        {
            return Ok(DeliveryUpdate::Stale);
        }
        // Only if nobody changed it meanwhile: two callbacks racing keep the newest.
        let changed = sqlx::query(
            "UPDATE reminders SET delivery_status = $1, delivery_error_code = $2, delivery_updated_at = $3 \
             WHERE id = $4 AND COALESCE(delivery_status, '') = $5",
        )
        .bind(status)
        .bind(error_code)
        .bind(ts(now))
        .bind(id)
        .bind(current.unwrap_or_default())
        .execute(&self.pool)
        .await
        .map_err(self.err("cannot record a delivery status"))?
        .rows_affected();
        Ok(if changed == 1 {
            DeliveryUpdate::Recorded
        } else {
            DeliveryUpdate::Stale
        })
    }

    /// Lifts an opt-out (the recipient sent START).
    pub async fn unflag_contact(&self, address: &str, state: ContactState) -> Result<bool, LedgerError> {
        let n = sqlx::query("DELETE FROM contacts WHERE address = $1 AND state = $2")
            .bind(address)
            .bind(state.as_str())
            .execute(&self.pool)
            .await
            .map_err(self.err("cannot lift a contact flag"))?
            .rows_affected();
        Ok(n > 0)
    }

    /// Reminders still `pending` among `ids` become `unknown`: the process stops before
    /// their outcome is known, and the next check asks the provider.
    pub async fn mark_interrupted(&self, ids: &[i64], now: DateTime<Utc>) -> Result<u64, LedgerError> {
        let mut n = 0;
        for id in ids {
            n += sqlx::query(
                "UPDATE reminders SET status = 'unknown', error = 'interrupted by shutdown', updated_at = $1 \
                 WHERE id = $2 AND status = 'pending'",
            )
            .bind(ts(now))
            .bind(*id)
            .execute(&self.pool)
            .await
            .map_err(self.err("cannot record an interrupted send"))?
            .rows_affected();
        }
        Ok(n)
    }

    /// The audit trail: every reminder (of one debtor, since an instant), oldest first.
    pub async fn history(
        &self,
        debtor_id: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<HistoryRow>, LedgerError> {
        let rows = sqlx::query(
            "SELECT id, debtor_id, cycle, seq, channel, template, recipient, status, error, error_code, \
                    provider_id, segments, price, price_unit, delivery_status, delivery_error_code, \
                    total_minor, currency, attempted_at, sent_at \
             FROM reminders WHERE ($1 = '' OR debtor_id = $1) AND attempted_at >= $2 \
             ORDER BY attempted_at, debtor_id, cycle, seq",
        )
        .bind(debtor_id.unwrap_or_default())
        .bind(since.map_or(i64::MIN, ts))
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("cannot read reminders"))?;
        Ok(rows
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
            .collect())
    }

    /// The last overdue balance seen per client (minor units).
    pub async fn balances(&self) -> Result<HashMap<String, i64>, LedgerError> {
        let rows = sqlx::query("SELECT debtor_id, overdue_minor FROM balances")
            .fetch_all(&self.pool)
            .await
            .map_err(self.err("cannot read balances"))?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get("debtor_id"), r.get("overdue_minor")))
            .collect())
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
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(self.err("cannot start a transaction"))?;
        let mut payments = 0;
        let since = now - chrono::Duration::days(i64::from(window_days));
        for c in changes {
            sqlx::query(
                "INSERT INTO balances (debtor_id, overdue_minor, currency, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (debtor_id) DO UPDATE SET overdue_minor = excluded.overdue_minor, \
                     currency = excluded.currency, updated_at = excluded.updated_at",
            )
            .bind(&c.debtor_id)
            .bind(c.overdue_minor)
            .bind(&c.currency)
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(self.err("cannot record a balance"))?;
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
    }

    /// Reminders sent and payments since `since`, for `rappel stats`.
    pub async fn stats_data(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<(Vec<SentReminder>, Vec<Payment>), LedgerError> {
        let since = since.map_or(i64::MIN, ts);
        let reminders = sqlx::query(
            "SELECT id, debtor_id, COALESCE(message, 'reminder') AS message, experiment, variant, \
                    total_minor, currency, segments, estimated_cost_micros, cost_currency, attempted_at \
             FROM reminders WHERE status = 'sent' AND attempted_at >= $1 ORDER BY attempted_at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("cannot read reminders"))?
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
        .collect();
        let payments = sqlx::query(
            "SELECT debtor_id, amount_minor, currency, paid_in_full, paid_at, reminder_id FROM payments \
             WHERE paid_at >= $1 ORDER BY paid_at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("cannot read payments"))?
        .into_iter()
        .map(|r| Payment {
            debtor_id: r.get("debtor_id"),
            amount_minor: r.get("amount_minor"),
            currency: r.get("currency"),
            full: r.get::<i64, _>("paid_in_full") != 0,
            at: from_ts(r.get("paid_at")),
            reminder_id: r.get("reminder_id"),
        })
        .collect();
        Ok((reminders, payments))
    }

    /// Closes the pool cleanly.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A client's overdue balance that changed since the last check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceChange {
    /// The client.
    pub debtor_id: String,
    /// The balance seen before (0 if never seen).
    pub previous_minor: i64,
    /// The balance now.
    pub overdue_minor: i64,
    /// Its currency.
    pub currency: String,
}

/// A sent reminder, for statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentReminder {
    /// Ledger id.
    pub id: i64,
    /// The client.
    pub debtor_id: String,
    /// The message chosen by the rules.
    pub message: String,
    /// The experiment.
    pub experiment: Option<String>,
    /// The variant.
    pub variant: Option<String>,
    /// The total it announced.
    pub total_minor: i64,
    /// Its currency.
    pub currency: String,
    /// SMS segments.
    pub segments: i64,
    /// Estimated cost, millionths.
    pub cost_micros: i64,
    /// Currency of the cost.
    pub cost_currency: Option<String>,
    /// When it went.
    pub at: DateTime<Utc>,
}

/// A payment: a drop of the overdue balance seen at a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The client.
    pub debtor_id: String,
    /// How much the balance dropped.
    pub amount_minor: i64,
    /// Its currency.
    pub currency: String,
    /// Nothing overdue any more.
    pub full: bool,
    /// The check that saw it.
    pub at: DateTime<Utc>,
    /// The reminder it is attributed to.
    pub reminder_id: Option<i64>,
}

/// What a status callback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryUpdate {
    /// Stored on the reminder.
    Recorded,
    /// The stored status is as new or newer: nothing changed.
    Stale,
    /// No reminder was sent as this message.
    NoSuchMessage,
    /// Not a status rappel knows.
    UnknownStatus,
}

/// How far along a provider status is; later statuses win over earlier ones.
fn delivery_rank(status: &str) -> Option<u8> {
    Some(match status {
        "accepted" | "scheduled" | "queued" => 1,
        "sending" => 2,
        "sent" => 3,
        "delivered" | "undelivered" | "failed" | "canceled" => 4,
        "read" => 5,
        _ => return None,
    })
}

/// One reminder in the audit trail (`rappel history`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryRow {
    /// Ledger id.
    pub id: i64,
    /// The client.
    pub debtor_id: String,
    /// The cycle.
    pub cycle: u32,
    /// The reminder's number in the cycle.
    pub reminder: u32,
    /// The channel that sent it.
    pub channel: String,
    /// The template.
    pub template: String,
    /// The address.
    pub to: String,
    /// rappel's status: pending, sent, failed, unknown.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// The provider's error code.
    pub error_code: Option<String>,
    /// The provider's message id.
    pub provider_id: Option<String>,
    /// SMS segments.
    pub segments: Option<u32>,
    /// The price the provider reported.
    pub price: Option<String>,
    /// Its currency.
    pub price_unit: Option<String>,
    /// The last delivery status from the provider's callbacks.
    pub delivery_status: Option<String>,
    /// Its error code.
    pub delivery_error_code: Option<String>,
    /// The total announced, minor units.
    pub total_minor: i64,
    /// Its currency.
    pub currency: String,
    /// When it was attempted.
    pub attempted_at: DateTime<Utc>,
    /// When it was handed over.
    pub sent_at: Option<DateTime<Utc>>,
}

fn outcome(status: &str, retryable: bool) -> Outcome {
    match status {
        "pending" => Outcome::Pending,
        "unknown" => Outcome::Unknown,
        "failed" if retryable => Outcome::FailedTransient,
        "failed" => Outcome::FailedPermanent,
        _ => Outcome::Sent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn reminder(cycle: u32, seq: u32) -> NewReminder<'static> {
        NewReminder {
            debtor_id: "C1",
            cycle,
            seq,
            opens_cycle: seq == 1,
            channel: "sms",
            template: "fr/sms/reminder",
            recipient: "+221771234567",
            body_hash: "abc",
            total_minor: 2500,
            currency: "XOF",
            items: 1,
            encoding: Some("GSM-7"),
            segments: Some(1),
            estimated_cost_micros: Some(7_500),
            cost_currency: Some("USD"),
            message: "reminder",
            experiment: None,
            variant: None,
        }
    }

    /// The ledger on every backend this machine has: SQLite always, Postgres when
    /// `RAPPEL_TEST_DATABASE_URL` is set (required under CI), each in its own schema.
    async fn ledgers() -> Vec<(Box<dyn std::any::Any>, Ledger)> {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Ledger::open_sqlite(&dir.path().join("sub/rappel.db")).await.unwrap();
        let mut out: Vec<(Box<dyn std::any::Any>, Ledger)> = vec![(Box::new(dir), sqlite)];
        if let Some(db) = crate::testing::postgres_schema().await {
            let ledger = Ledger::open_postgres(&db.url).await.unwrap();
            out.push((Box::new(db), ledger));
        }
        out
    }

    #[tokio::test]
    async fn the_same_reminder_cannot_be_claimed_twice() {
        for (_guard, l) in ledgers().await {
            let now = at("2025-11-26T12:00:00Z");
            assert!(l.claim(&reminder(1, 1), now).await.unwrap().is_some());
            assert_eq!(l.claim(&reminder(1, 1), now).await.unwrap(), None);
        }
    }

    #[tokio::test]
    async fn history_follows_the_reminders() {
        for (_guard, l) in ledgers().await {
            let t0 = at("2025-11-26T12:00:00Z");
            let id = l.claim(&reminder(1, 1), t0).await.unwrap().unwrap();
            let h = &l.histories().await.unwrap()["C1"];
            assert_eq!(h.open_cycle.as_ref().unwrap().last_outcome, Some(Outcome::Pending));
            let delivery = Delivery {
                provider_id: Some("SM1".into()),
                segments: Some(2),
                ..Delivery::default()
            };
            l.mark_sent(id, &delivery, t0).await.unwrap();
            let h = &l.histories().await.unwrap()["C1"];
            let c = h.open_cycle.as_ref().unwrap();
            assert_eq!((h.last_cycle, c.number, c.sent, c.last_seq), (1, 1, 1, 1));
            assert_eq!(c.last_sent_at, Some(t0));

            let id = l.claim(&reminder(1, 2), t0).await.unwrap().unwrap();
            l.mark_failed(id, "failed", "HTTP 503", None, true, t0).await.unwrap();
            let c = l.histories().await.unwrap()["C1"].open_cycle.clone().unwrap();
            assert_eq!(c.last_outcome, Some(Outcome::FailedTransient));
            assert_eq!(c.last_sent_at, Some(t0));
            // A transient failure is taken over again under the same key; a sent one is not.
            assert_eq!(l.claim(&reminder(1, 2), t0).await.unwrap(), Some(id));
            assert_eq!(l.claim(&reminder(1, 1), t0).await.unwrap(), None);

            l.close_cycle("C1", 1, t0).await.unwrap();
            let h = &l.histories().await.unwrap()["C1"];
            assert_eq!((h.last_cycle, h.open_cycle.clone()), (1, None));
        }
    }

    #[tokio::test]
    async fn an_unknown_reminder_is_taken_over_once_and_a_fresh_pending_one_not_at_all() {
        for (_guard, l) in ledgers().await {
            let t0 = at("2025-11-26T12:00:00Z");
            let t1 = at("2025-11-26T18:00:00Z");
            let id = l.claim(&reminder(1, 1), t0).await.unwrap().unwrap();
            // Pending within the lease: nobody takes it over.
            assert_eq!(
                l.take_over("C1", 1, 1, t0 + chrono::Duration::minutes(5))
                    .await
                    .unwrap(),
                None
            );
            l.mark_failed(id, "unknown", "timeout", None, false, t0).await.unwrap();
            assert_eq!(l.take_over("C1", 1, 1, t1).await.unwrap(), Some((id, t0)));
            assert_eq!(
                l.take_over("C1", 1, 1, t1).await.unwrap(),
                None,
                "only one check verifies it"
            );
            l.mark_found(id, &Delivery::default(), t0, t1).await.unwrap();
            let c = l.histories().await.unwrap()["C1"].open_cycle.clone().unwrap();
            assert_eq!(
                (c.last_outcome, c.last_sent_at, c.sent),
                (Some(Outcome::Sent), Some(t0), 1)
            );
        }
    }

    #[tokio::test]
    async fn reset_forgets_reminders_but_not_opt_outs() {
        for (_guard, l) in ledgers().await {
            let t0 = at("2025-11-26T12:00:00Z");
            l.claim(&reminder(1, 1), t0).await.unwrap();
            l.flag_contact("+221771234567", ContactState::OptedOut, Some("C1"), "STOP", t0)
                .await
                .unwrap();
            assert_eq!(l.reset(Some("C1")).await.unwrap(), 1);
            assert!(l.histories().await.unwrap().is_empty());
            assert_eq!(
                l.contact_flags().await.unwrap()["+221771234567"],
                vec![ContactState::OptedOut]
            );
        }
    }

    #[tokio::test]
    async fn delivery_statuses_only_move_forward_and_opt_outs_can_be_lifted() {
        for (_guard, l) in ledgers().await {
            let t0 = at("2025-11-26T12:00:00Z");
            let id = l.claim(&reminder(1, 1), t0).await.unwrap().unwrap();
            let d = Delivery {
                provider_id: Some("SM1".into()),
                ..Delivery::default()
            };
            l.mark_sent(id, &d, t0).await.unwrap();
            assert_eq!(
                l.record_delivery("SM1", "sent", None, t0).await.unwrap(),
                DeliveryUpdate::Recorded
            );
            assert_eq!(
                l.record_delivery("SM1", "delivered", None, t0).await.unwrap(),
                DeliveryUpdate::Recorded
            );
            assert_eq!(
                l.record_delivery("SM1", "delivered", None, t0).await.unwrap(),
                DeliveryUpdate::Stale
            );
            assert_eq!(
                l.record_delivery("SM1", "sent", None, t0).await.unwrap(),
                DeliveryUpdate::Stale
            );
            assert_eq!(
                l.record_delivery("SM9", "sent", None, t0).await.unwrap(),
                DeliveryUpdate::NoSuchMessage
            );
            assert_eq!(
                l.record_delivery("SM1", "exploded", None, t0).await.unwrap(),
                DeliveryUpdate::UnknownStatus
            );
            let h = l.history(Some("C1"), None).await.unwrap();
            assert_eq!(
                (h[0].status.as_str(), h[0].delivery_status.as_deref()),
                ("sent", Some("delivered"))
            );
            assert!(
                l.history(None, Some(at("2025-11-27T00:00:00Z")))
                    .await
                    .unwrap()
                    .is_empty()
            );

            l.flag_contact("+221771234567", ContactState::OptedOut, None, "STOP", t0)
                .await
                .unwrap();
            assert!(l.unflag_contact("+221771234567", ContactState::OptedOut).await.unwrap());
            assert!(l.contact_flags().await.unwrap().is_empty());
            l.ping().await.unwrap();
        }
    }

    #[tokio::test]
    async fn balance_drops_are_payments_attributed_to_the_last_reminder() {
        for (_guard, l) in ledgers().await {
            let t0 = at("2025-12-01T10:00:00Z");
            let id = l.claim(&reminder(1, 1), t0).await.unwrap().unwrap();
            l.mark_sent(id, &Delivery::default(), t0).await.unwrap();
            let change = |previous, now_minor| BalanceChange {
                debtor_id: "C1".into(),
                previous_minor: previous,
                overdue_minor: now_minor,
                currency: "XOF".into(),
            };
            assert_eq!(
                l.record_balances(&[change(0, 2500)], 7, t0).await.unwrap(),
                0,
                "a rise is no payment"
            );
            let t1 = at("2025-12-03T10:00:00Z");
            assert_eq!(l.record_balances(&[change(2500, 1000)], 7, t1).await.unwrap(), 1);
            let t2 = at("2025-12-20T10:00:00Z");
            assert_eq!(l.record_balances(&[change(1000, 0)], 7, t2).await.unwrap(), 1);
            assert_eq!(l.balances().await.unwrap()["C1"], 0);
            let (sent, payments) = l.stats_data(None).await.unwrap();
            assert_eq!((sent.len(), sent[0].message.as_str()), (1, "reminder"));
            let got: Vec<(i64, bool, Option<i64>)> = payments
                .iter()
                .map(|p| (p.amount_minor, p.full, p.reminder_id))
                .collect();
            assert_eq!(
                got,
                [(1500, false, Some(id)), (1000, true, None)],
                "the second is outside the 7-day window"
            );
        }
    }

    #[tokio::test]
    async fn checks_are_recorded() {
        for (_guard, l) in ledgers().await {
            assert_eq!(l.last_check().await.unwrap(), None);
            l.record_check(at("2025-11-26T12:00:00Z"), [1, 1, 0, 0, 0])
                .await
                .unwrap();
            assert_eq!(l.last_check().await.unwrap(), Some(at("2025-11-26T12:00:00Z")));
        }
    }
}
