//! rappel source `csv`: debt items from a CSV file exported by hand from a spreadsheet.
//!
//! The file has a header line and one invoice or manual debt per line. Delimiter, encoding,
//! date format and header names are configurable; a row that cannot be read is reported with
//! its line number and the other rows are still used.
#![warn(missing_docs)]

mod columns;
mod config;

mod limit;
mod reader;
mod row;
mod source;
#[cfg(test)]
mod testing;

pub use columns::ColumnNames;
pub use config::{CsvConfig, CurrencyCode, DEFAULT_MAX_LINE_BYTES, DefaultKind, Delimiter, Encoding};
pub use source::CsvSource;

use rappel_core::Source;
use rappel_core::config::ConfigError;
use rappel_core::registry::BuildContext;

/// The `kind` of this source in `[source]`.
pub const KIND: &str = "csv";

/// Builds the source from its `[source]` table (a [`rappel_core::registry::SourceFactory`]).
/// Errors name the key: `source.date_format: …`. The file itself is only read by `load`.
pub fn build(ctx: &BuildContext<'_>) -> Result<Box<dyn Source>, ConfigError> {
    let config: CsvConfig = ctx.component.parse()?;
    let dates = rappel_core::dates::DateFormat::new(&config.date_format).map_err(|e| ctx.error("date_format", e))?;
    if config.max_line_bytes == 0 {
        return Err(ctx.error("max_line_bytes", "must be at least 1"));
    }
    let settings = reader::Settings {
        path: ctx.resolve(&config.path),
        label: config.path.display().to_string(),
        delimiter: config.delimiter.map(|d| d.0),
        encoding: config.encoding.0,
        dates,
        currency: config.currency.0,
        columns: config.columns,
        default_kind: config.default_kind.map(|k| k.0),
        max_line_bytes: config.max_line_bytes,
    };
    Ok(Box::new(CsvSource::new(settings)))
}

#[cfg(test)]
mod tests {
    use crate::testing::{Fixture, no_env};
    use rappel_core::config::Config;
    use rappel_core::registry::{Registry, SourceFactory};
    use std::path::Path;

    #[test]
    fn build_matches_the_registry_and_resolves_the_path() {
        let factory: SourceFactory = super::build;
        let text = "[source]\nkind = \"csv\"\npath = \"demo/debts.csv\"\n[channels.sms]\nkind = \"console\"\n";
        let config = Config::parse(text, Path::new("config/rappel.toml"), &no_env).unwrap();
        let source = Registry::new()
            .source(super::KIND, factory)
            .build_source(&config, false)
            .unwrap();
        assert_eq!(source.describe(), "csv config/demo/debts.csv");
    }

    #[test]
    fn config_errors_name_the_key() {
        let fx = Fixture::new();
        assert_eq!(
            fx.build_err("paht = \"x.csv\""),
            "source.paht: unknown field `paht`, expected one of `path`, `delimiter`, `encoding`, `date_format`, `currency`, `default_kind`, `columns`, `max_line_bytes`"
        );
        assert_eq!(
            fx.build_err("path = \"x.csv\"\ndate_format = \"%d/%m\""),
            "source.date_format: \"%d/%m\" does not give a whole date: it needs a day, a month and a year, e.g. \"%d/%m/%Y\""
        );
    }

    #[tokio::test]
    async fn load_reads_the_file_on_a_blocking_thread() {
        let fx = Fixture::new();
        fx.write(
            "debts.csv",
            b"debtor_id,name,kind,reference,due_date,amount\n7,Grand Ndiaye,manual,17,2025-11-02,235 000\n",
        );
        let batch = fx.source("").load().await.unwrap();
        assert_eq!(batch.items.len(), 1);
        assert_eq!(batch.items[0].amount_minor, 235_000);
        assert_eq!(batch.items[0].origin, "debts.csv line 2");
    }
}
