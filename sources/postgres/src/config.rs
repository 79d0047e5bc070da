//! The `[source]` keys of `kind = "postgres"`, as plain data; their doc comments are the user
//! documentation.

use crate::columns::ColumnNames;
use crate::url::DatabaseUrl;
pub use rappel_core::config::CurrencyCode;
use rappel_core::config::Interval;
use serde::Deserialize;
use std::time::Duration;

/// `[source]` with `kind = "postgres"`: debt items read from the shop's billing database by
/// one SQL query, one row per invoice or manual debt (or by two: the clients, then the items).
/// The queries run in a fresh connection at every check; rows are read as they arrive.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// The database, e.g. `"postgres://rappel:${PGPASSWORD}@127.0.0.1:5432/boutique"`.
    /// Required. `?sslmode=require` (or `verify-full`, …) asks for TLS. The password is
    /// never shown in logs or messages; keep it out of the file with `${VAR}`.
    pub url: DatabaseUrl,
    /// The SQL query that lists the items. Default: the query of
    /// `config/examples/postgres/schema.sql` (invoices and manual debts with the sum of
    /// their payments, the clients' details coming from its `clients_query`). It must return
    /// the columns `debtor_id`, `name`, `kind`, `reference`, `due_date` and `amount`, and may
    /// return `phone`, `email`, `paid` and `currency` (or the names given in
    /// `[source.columns]`); with `clients_query`, `name`, `phone` and `email` come from
    /// there instead. Accepted column types: text
    /// (`text`, `varchar`, `char`; integers too for ids and references), `date` or
    /// `YYYY-MM-DD` text for `due_date`, `bigint`, `integer`, `smallint` or `numeric` in
    /// major units (francs, euros) for `amount` and `paid`, and text for `kind` (`invoice`
    /// or `manual`) and `currency`. A `NULL` `paid` means nothing paid; a `NULL` currency
    /// means `currency`. Floating-point columns are refused: cast them to `numeric`.
    #[serde(default)]
    pub query: Option<String>,
    /// The SQL query that lists the clients, one row each with `debtor_id` and `name`, and
    /// optionally `phone` and `email` (or their names in `[source.columns]`), for a `query`
    /// that returns items without their clients' details: the database then neither joins
    /// every item with its client nor sends a client's details once per item. Both queries
    /// run in one read-only snapshot (`REPEATABLE READ READ ONLY`: a query calling a
    /// function that writes is refused), the clients first. Every client it lists is held
    /// while the check runs, a few hundred bytes each: listing clients without debts costs
    /// only that. A clients query that returns no rows while `query` returns items is an
    /// error (a wrong schema or missing rights, most likely). A client listed
    /// twice keeps the first non-empty value of each detail; a client with items that it
    /// does not list is reported (on its first item's row) and gets no reminder. Default: the clients query of `config/examples/postgres/schema.sql`
    /// when `query` is not set either, none when it is (its rows then carry the details).
    #[serde(default)]
    pub clients_query: Option<String>,
    /// How long to wait for the connection (default `"10s"`).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: Interval,
    /// How long the query may run before the database cancels it (default `"60s"`),
    /// set on the connection with `SET statement_timeout`.
    #[serde(default = "default_statement_timeout")]
    pub statement_timeout: Interval,
    /// The currency of the amounts (ISO 4217 code, default `"XOF"`), used when the query
    /// has no currency column or a row's currency is `NULL`.
    #[serde(default)]
    pub currency: CurrencyCode,
    /// `[source.columns]`: the query's column names, when they differ from the standard
    /// `debtor_id, name, phone, email, kind, reference, due_date, amount, paid, currency`.
    #[serde(default)]
    pub columns: ColumnNames,
}

fn default_connect_timeout() -> Interval {
    Interval(Duration::from_secs(10))
}

fn default_statement_timeout() -> Interval {
    Interval(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;
    use rappel_core::config::{ComponentConfig, ConfigError};

    fn parse(body: &str) -> Result<PostgresConfig, ConfigError> {
        let component = ComponentConfig {
            key: "source".into(),
            kind: "postgres".into(),
            options: body.parse().expect("test TOML parses"),
        };
        component.parse()
    }

    #[test]
    fn defaults() {
        let c = parse("url = \"postgres://shop@db.local/boutique\"").unwrap();
        assert_eq!(c.url.shown(), "postgres://shop@db.local:5432/boutique");
        assert_eq!(c.query, None);
        assert_eq!(c.connect_timeout.0, Duration::from_secs(10));
        assert_eq!(c.statement_timeout.0, Duration::from_secs(60));
        assert_eq!(c.currency, CurrencyCode(Currency::XOF));
        assert_eq!(c.columns, ColumnNames::default());
        assert_eq!(parse("").unwrap_err().to_string(), "source: missing field `url`");
    }

    #[test]
    fn every_key_parses() {
        let c = parse(
            r#"
            url = "postgres://rappel:s3cret@10.0.0.5:5433/compta?sslmode=require"
            query = "SELECT * FROM dettes"
            connect_timeout = "3s"
            statement_timeout = "2m"
            currency = "eur"
            [columns]
            debtor_id = "client"
            amount = "montant"
            "#,
        )
        .unwrap();
        assert_eq!(c.url.shown(), "postgres://rappel:***@10.0.0.5:5433/compta");
        assert_eq!(c.query.as_deref(), Some("SELECT * FROM dettes"));
        assert_eq!(c.connect_timeout.0, Duration::from_secs(3));
        assert_eq!(c.statement_timeout.0, Duration::from_secs(120));
        assert_eq!(c.currency, CurrencyCode(Currency::EUR));
        assert_eq!(c.columns.debtor_id.as_deref(), Some("client"));
        assert_eq!(c.columns.amount.as_deref(), Some("montant"));
        assert!(!format!("{c:?}").contains("s3cret"), "{c:?}");
    }

    #[test]
    fn errors_name_the_key_and_what_was_expected() {
        let err = |body: &str| {
            parse(&format!("url = \"postgres://db/x\"\n{body}"))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("querry = \"SELECT 1\""),
            "source.querry: unknown field `querry`, expected one of `url`, `query`, `clients_query`, `connect_timeout`, `statement_timeout`, `currency`, `columns`"
        );
        assert_eq!(
            err("currency = \"FCFA\""),
            r#"source.currency: "FCFA" is not an ISO 4217 currency code such as "XOF""#
        );
        assert!(
            err("statement_timeout = \"soon\"").starts_with("source.statement_timeout: \"soon\" is not an interval")
        );
        assert!(err("[columns]\nmontant = \"x\"").starts_with("source.columns.montant: unknown field `montant`"));
        let bad_url = parse("url = \"mysql://rappel:s3cret@db/x\"").unwrap_err().to_string();
        assert_eq!(
            bad_url,
            "source.url: \"mysql://rappel:***@db/x\" is not a PostgreSQL URL: expected postgres://user:password@host:port/database"
        );
    }
}
