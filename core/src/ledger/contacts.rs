//! Addresses that must not be used: opted out (STOP) or refused as invalid.

use super::types::*;
use super::{Ledger, LedgerError, ts};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

impl Ledger {
    /// Flagged addresses: opted out or invalid.
    pub async fn contact_flags(&self) -> Result<HashMap<String, Vec<ContactState>>, LedgerError> {
        let rows: Vec<(String, String)> = on_db!(self, |pool| sqlx::query_as("SELECT address, state FROM contacts")
            .fetch_all(pool)
            .await)
        .map_err(self.err("cannot read contacts"))?;
        let mut out: HashMap<String, Vec<ContactState>> = HashMap::new();
        for (address, state) in rows {
            let state = match state.as_str() {
                "opted_out" => ContactState::OptedOut,
                _ => ContactState::Invalid,
            };
            out.entry(address).or_default().push(state);
        }
        Ok(out)
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
        let sql = "INSERT INTO contacts (address, state, debtor_id, reason, updated_at) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (address, state) DO UPDATE SET reason = excluded.reason, updated_at = excluded.updated_at";
        on_db!(self, |pool| sqlx::query(sql)
            .bind(address)
            .bind(state.as_str())
            .bind(debtor_id)
            .bind(reason)
            .bind(ts(now))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(self.err("cannot flag a contact"))
    }

    /// Lifts an opt-out (the recipient sent START).
    pub async fn unflag_contact(&self, address: &str, state: ContactState) -> Result<bool, LedgerError> {
        let n = on_db!(self, |pool| sqlx::query(
            "DELETE FROM contacts WHERE address = $1 AND state = $2"
        )
        .bind(address)
        .bind(state.as_str())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
        .map_err(self.err("cannot lift a contact flag"))?;
        Ok(n > 0)
    }
}
