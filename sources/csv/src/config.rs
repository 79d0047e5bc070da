//! The `[source]` keys of `kind = "csv"`, as plain data; their doc comments are the user
//! documentation.

use crate::columns::ColumnNames;
pub use rappel_core::config::{CurrencyCode, DefaultKind};
use serde::Deserialize;
use std::path::PathBuf;

/// `[source]` with `kind = "csv"`: debt items read from a CSV file exported by hand (Excel,
/// LibreOffice, Google Sheets), one invoice or manual debt per line after a header line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvConfig {
    /// The CSV file. A relative path is read from the folder of the configuration file.
    pub path: PathBuf,
    /// The character between fields: `";"`, `","` or `"\t"` (tab). Unset: whichever of the
    /// three appears most often in the header line.
    #[serde(default)]
    pub delimiter: Option<Delimiter>,
    /// The file's character encoding: `"utf-8"` (the default) or `"windows-1252"` (also
    /// written `"latin1"` or `"iso-8859-1"`), which is what Excel writes on a French Windows.
    /// A byte order mark at the start of the file is ignored.
    #[serde(default)]
    pub encoding: Encoding,
    /// How due dates are written, in strftime notation: `"%Y-%m-%d"` (the default) or e.g.
    /// `"%d/%m/%Y"` for `20/11/2025`. ISO dates (`2025-11-20`) are always accepted as well.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// The currency of the amounts (ISO 4217 code, default `"XOF"`), used when the file has
    /// no currency column or a row leaves it empty.
    #[serde(default)]
    pub currency: CurrencyCode,
    /// The kind of rows whose kind is not written (`"invoice"` or `"manual"`). With it, the
    /// file needs no kind column; without it, every row must say its kind.
    #[serde(default)]
    pub default_kind: Option<DefaultKind>,
    /// `[source.columns]`: the file's header names for the columns, when they differ from
    /// the standard `debtor_id,name,phone,email,kind,reference,due_date,amount,paid,currency`.
    #[serde(default)]
    pub columns: ColumnNames,
    /// The longest line accepted, in bytes (default `1048576`, 1 MiB). A longer line means
    /// the file is not the expected export or is damaged: reading stops at that line, before
    /// it is held in memory, and the check fails naming the line.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: u64,
}

/// The default of `max_line_bytes`: 1 MiB, far above any spreadsheet row.
pub const DEFAULT_MAX_LINE_BYTES: u64 = 1 << 20;

fn default_max_line_bytes() -> u64 {
    DEFAULT_MAX_LINE_BYTES
}

fn default_date_format() -> String {
    "%Y-%m-%d".to_string()
}

/// The field separator: one ASCII character such as `;`, `,` or a tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Delimiter(pub u8);

impl TryFrom<String> for Delimiter {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let byte = match text.as_str() {
            "tab" | "\\t" => Some(b'\t'),
            one if one.len() == 1 => one.bytes().next(),
            _ => None,
        };
        match byte {
            Some(b) if b == b'\t' || (b.is_ascii_punctuation() && b != b'"') => Ok(Self(b)),
            _ => Err(format!(
                "{text:?} is not a field separator, expected \";\", \",\" or \"\\t\""
            )),
        }
    }
}

/// The character encoding of the file (a WHATWG label: `utf-8`, `windows-1252`, `latin1`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Encoding(pub &'static encoding_rs::Encoding);

impl Default for Encoding {
    fn default() -> Self {
        Self(encoding_rs::UTF_8)
    }
}

impl TryFrom<String> for Encoding {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        encoding_rs::Encoding::for_label(text.trim().as_bytes())
            .filter(|e| *e != encoding_rs::REPLACEMENT)
            .map(Self)
            .ok_or_else(|| format!("{text:?} is not a known encoding, expected \"utf-8\" or \"windows-1252\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;
    use rappel_core::ItemKind;
    use rappel_core::config::{ComponentConfig, ConfigError};

    fn parse(body: &str) -> Result<CsvConfig, ConfigError> {
        let component = ComponentConfig {
            key: "source".into(),
            kind: "csv".into(),
            options: body.parse().expect("test TOML parses"),
        };
        component.parse()
    }

    #[test]
    fn only_the_path_is_required() {
        let c = parse("path = \"debts.csv\"").unwrap();
        assert_eq!(c.path, PathBuf::from("debts.csv"));
        assert_eq!(c.delimiter, None);
        assert_eq!(c.encoding, Encoding(encoding_rs::UTF_8));
        assert_eq!(c.date_format, "%Y-%m-%d");
        assert_eq!(c.currency, CurrencyCode(Currency::XOF));
        assert_eq!(c.default_kind, None);
        assert_eq!(c.columns, ColumnNames::default());
        assert_eq!(c.max_line_bytes, 1_048_576);
        assert_eq!(parse("").unwrap_err().to_string(), "source: missing field `path`");
    }

    #[test]
    fn every_key_parses() {
        let c = parse(
            r#"
            path = "/data/créances.csv"
            delimiter = "\t"
            encoding = "latin1"
            date_format = "%d/%m/%Y"
            currency = "eur"
            default_kind = "manual"
            max_line_bytes = 4096
            [columns]
            debtor_id = "client_id"
            amount = "Montant"
            "#,
        )
        .unwrap();
        assert_eq!(c.delimiter, Some(Delimiter(b'\t')));
        assert_eq!(c.encoding, Encoding(encoding_rs::WINDOWS_1252));
        assert_eq!(c.date_format, "%d/%m/%Y");
        assert_eq!(c.currency, CurrencyCode(Currency::EUR));
        assert_eq!(c.default_kind, Some(DefaultKind(ItemKind::Manual)));
        assert_eq!(c.max_line_bytes, 4096);
        assert_eq!(c.columns.debtor_id.as_deref(), Some("client_id"));
        assert_eq!(c.columns.amount.as_deref(), Some("Montant"));
        assert_eq!(
            parse("path = \"x\"\ndelimiter = \";\"").unwrap().delimiter,
            Some(Delimiter(b';'))
        );
        assert_eq!(
            parse("path = \"x\"\nencoding = \"ISO-8859-1\"").unwrap().encoding,
            Encoding(encoding_rs::WINDOWS_1252)
        );
    }

    #[test]
    fn errors_name_the_key_and_what_was_expected() {
        let err = |body: &str| parse(&format!("path = \"x.csv\"\n{body}")).unwrap_err().to_string();
        assert_eq!(
            err("paht = \"y\""),
            "source.paht: unknown field `paht`, expected one of `path`, `delimiter`, `encoding`, `date_format`, `currency`, `default_kind`, `columns`, `max_line_bytes`"
        );
        assert_eq!(
            err("delimiter = \"::\""),
            r#"source.delimiter: "::" is not a field separator, expected ";", "," or "\t""#
        );
        assert_eq!(
            err("encoding = \"klingon\""),
            r#"source.encoding: "klingon" is not a known encoding, expected "utf-8" or "windows-1252""#
        );
        assert_eq!(
            err("currency = \"FCFA\""),
            r#"source.currency: "FCFA" is not an ISO 4217 currency code such as "XOF""#
        );
        assert_eq!(
            err("default_kind = \"loan\""),
            r#"source.default_kind: "loan" is not "invoice" or "manual""#
        );
        assert!(err("[columns]\nmontant = \"Montant\"").starts_with("source.columns.montant: unknown field `montant`"));
    }
}
