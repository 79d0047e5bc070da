//! rappel source `postgres`: debt items from a shop's PostgreSQL billing database.
//!
//! One SQL query returns one row per invoice or manual debt with the standard columns
//! (`debtor_id, name, phone, email, kind, reference, due_date, amount, paid, currency`,
//! renamable in `[source.columns]`), or two do: the clients with their details, then the
//! items without them. The default queries read the example schema of
//! `config/examples/postgres/schema.sql` that way. Rows are streamed; a row that cannot be
//! read is reported as `query row N` (`clients query row N`) and the other rows are still
//! used. The password of the URL
//! never appears in messages, logs or `Debug` output.
#![warn(missing_docs)]

mod columns;
mod config;
mod errors;
mod query;
mod row;
mod source;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
mod url;
mod values;

pub use columns::ColumnNames;
pub use config::{CurrencyCode, PostgresConfig};
pub use query::{EXAMPLE_SCHEMA, default_clients_query, default_query};
pub use source::PostgresSource;
pub use url::DatabaseUrl;

use rappel_core::Source;
use rappel_core::config::ConfigError;
use rappel_core::registry::BuildContext;

/// The `kind` of this source in `[source]`.
pub const KIND: &str = "postgres";

/// Builds the source from its `[source]` table (a [`rappel_core::registry::SourceFactory`]).
/// Errors name the key: `source.url: …`. The database is only contacted by `load`.
pub fn build(ctx: &BuildContext<'_>) -> Result<Box<dyn Source>, ConfigError> {
    let config: PostgresConfig = ctx.component.parse()?;
    // Rappel's own query leaves the order to the check; a user's query keeps its ORDER BY.
    let sort_by_client = config.query.is_none();
    let clean = |q: &str| q.trim().trim_end_matches(';').trim_end().to_string();
    let clients_query = match config.clients_query {
        Some(q) if q.trim().is_empty() => {
            return Err(ctx.error(
                "clients_query",
                "is empty: remove it to read the clients' details from `query`",
            ));
        }
        Some(q) => Some(clean(&q)),
        None if config.query.is_none() => Some(default_clients_query().to_string()),
        None => None,
    };
    let query = match config.query {
        Some(q) if q.trim().is_empty() => {
            return Err(ctx.error("query", "is empty: remove it to use the default query"));
        }
        Some(q) => clean(&q),
        None => default_query().to_string(),
    };
    Ok(Box::new(PostgresSource::new(source::Settings {
        url: config.url,
        query,
        clients_query,
        sort_by_client,
        connect_timeout: config.connect_timeout.0,
        statement_timeout: config.statement_timeout.0,
        currency: config.currency.0,
        columns: config.columns,
    })))
}

#[cfg(test)]
mod build_tests {
    use crate::testing::build;
    use rappel_core::config::Config;
    use rappel_core::registry::{Registry, SourceFactory};
    use std::path::Path;

    #[test]
    fn build_matches_the_registry_and_describes_without_the_password() {
        let factory: SourceFactory = super::build;
        let text = "[source]\nkind = \"postgres\"\nurl = \"postgres://rappel:s3cret@db.local/boutique?sslmode=require\"\n\
                    [channels.sms]\nkind = \"console\"\n";
        let config = Config::parse(text, Path::new("rappel.toml"), &|_| None).unwrap();
        let source = Registry::new()
            .source(super::KIND, factory)
            .build_source(&config, false)
            .unwrap();
        assert_eq!(
            source.describe(),
            "postgres postgres://rappel:***@db.local:5432/boutique"
        );
    }

    #[test]
    fn config_errors_name_the_key() {
        let err = |body: &str| build(body).err().expect("the config is refused");
        assert_eq!(
            err("url = \"postgres://db/x\"\nquery = \"  \""),
            "source.query: is empty: remove it to use the default query"
        );
        assert_eq!(
            err("url = \"postgres://db/x\"\nclients_query = \"\""),
            "source.clients_query: is empty: remove it to read the clients' details from `query`"
        );
        assert_eq!(
            err("url = \"http://rappel:s3cret@db/x\""),
            "source.url: \"http://rappel:***@db/x\" is not a PostgreSQL URL: expected postgres://user:password@host:port/database"
        );
    }
}
