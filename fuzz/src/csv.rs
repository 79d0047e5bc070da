//! Targets on the CSV source, through its public `build` and `load`: whole files with every
//! delimiter, encoding, date format and default kind, and single rows under a fixed header.

use crate::text::{exclusive, options};
use rappel_core::config::Config;
use rappel_core::registry::BuildContext;
use rappel_core::{Source, SourceBatch, SourceError};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Place {
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

fn place() -> &'static Place {
    static PLACE: OnceLock<Place> = OnceLock::new();
    PLACE.get_or_init(|| Place {
        dir: tempfile::tempdir().expect("a temporary folder"),
        runtime: tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime"),
    })
}

/// The `[source]` keys an option byte selects: bits 0–1 the delimiter (detected, `,`, `;`,
/// tab), bit 2 Windows-1252, bit 3 day-first dates, bit 4 a default kind, bit 5 EUR, bit 6
/// renamed columns.
fn keys(opt: u8) -> String {
    let mut keys = String::from("path = \"debts.csv\"\n");
    keys.push_str(match opt & 3 {
        0 => "",
        1 => "delimiter = \",\"\n",
        2 => "delimiter = \";\"\n",
        _ => "delimiter = \"\\t\"\n",
    });
    if opt & 4 != 0 {
        keys.push_str("encoding = \"windows-1252\"\n");
    }
    if opt & 8 != 0 {
        keys.push_str("date_format = \"%d/%m/%Y\"\n");
    }
    if opt & 16 != 0 {
        keys.push_str("default_kind = \"invoice\"\n");
    }
    if opt & 32 != 0 {
        keys.push_str("currency = \"EUR\"\n");
    }
    if opt & 64 != 0 {
        keys.push_str("[source.columns]\ndebtor_id = \"Client\"\namount = \"Montant\"\ndue_date = \"Échéance\"\n");
    }
    keys
}

fn load(bytes: &[u8], opt: u8) -> Result<SourceBatch, SourceError> {
    let _only = exclusive();
    let place = place();
    let file: PathBuf = place.dir.path().join("debts.csv");
    std::fs::write(&file, bytes).expect("the CSV file is written");
    let text = format!(
        "[channels.sms]\nkind = \"console\"\n[source]\nkind = \"csv\"\n{}",
        keys(opt)
    );
    let config = Config::parse(&text, &place.dir.path().join("rappel.toml"), &|_| None).expect("the config parses");
    let ctx = BuildContext {
        config: &config,
        component: &config.source,
        name: "source",
        stdout_is_data: false,
    };
    let source: Box<dyn Source> = rappel_source_csv::build(&ctx).expect("the source builds");
    place.runtime.block_on(source.load())
}

/// `debts.csv line N` → N.
fn line(origin: &str) -> u64 {
    origin
        .strip_prefix("debts.csv line ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("origin {origin:?} is not `debts.csv line N`"))
}

/// Checks a batch read from `bytes`: every row once, at a line that exists, amounts
/// non-negative, every rejection with a reason.
fn check(bytes: &[u8], batch: &SourceBatch) {
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    let mut seen = HashSet::new();
    for item in &batch.items {
        let n = line(&item.origin);
        assert!((2..=lines).contains(&n), "item at line {n} of a {lines}-line file");
        assert!(seen.insert(n), "line {n} gave two rows");
        assert!(item.amount_minor >= 0 && item.paid_minor >= 0, "{item:?}");
        assert!(!item.debtor_id.trim().is_empty(), "{item:?}");
    }
    for row in &batch.rejected {
        let n = line(&row.origin);
        assert!((2..=lines).contains(&n), "rejection at line {n} of a {lines}-line file");
        assert!(seen.insert(n), "line {n} reported twice: {row}");
        assert!(!row.reason.trim().is_empty(), "{row:?}");
    }
}

/// A whole file under every option: it is read or refused with a message, never a panic,
/// and each row is an item or a rejection exactly once.
pub fn csv_file(data: &[u8]) {
    let (opt, bytes) = options(data);
    match load(bytes, opt) {
        Ok(batch) => check(bytes, &batch),
        Err(e) => assert!(
            e.to_string().contains("debts.csv"),
            "the error does not name the file: {e}"
        ),
    }
}

/// One row under the standard header: a row on one line, without quotes, gives exactly
/// one item or one rejection (or nothing when blank).
pub fn csv_row(data: &[u8]) {
    let (opt, row) = options(data);
    let sep = [b',', b';', b'\t'][usize::from(opt % 3)];
    let mut file: Vec<u8> = b"debtor_id,name,phone,email,kind,reference,due_date,amount,paid,currency\n"
        .iter()
        .map(|b| if *b == b',' { sep } else { *b })
        .collect();
    file.extend_from_slice(row);
    let opt = (opt & !3 & !64) | [1, 2, 3][usize::from(opt % 3)];
    let batch = load(&file, opt).expect("a file with a header line is read");
    check(&file, &batch);
    let simple = !row.iter().any(|b| matches!(b, b'\n' | b'\r' | b'"'));
    let blank = row.iter().all(|b| b.is_ascii_whitespace() || *b == sep);
    if simple && !blank {
        assert_eq!(
            batch.items.len() + batch.rejected.len(),
            1,
            "row {:?} gave {batch:?}",
            String::from_utf8_lossy(row)
        );
    }
}
