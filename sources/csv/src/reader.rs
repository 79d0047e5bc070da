//! Reading the file: decoding, finding the delimiter and the header, then reading the records
//! with their physical line numbers, a chunk at a time, each chunk parsed on every core while
//! the next is read.

use crate::columns::{self, ColumnNames, Layout};
use crate::limit::{LineLimit, LineTooLong};
use crate::row::RowParser;
use csv::{ByteRecord, Reader, Terminator};
use encoding_rs_io::DecodeReaderBytesBuilder;
use iso_currency::Currency;
use rappel_core::dates::DateFormat;
use rappel_core::{DebtItem, ItemKind, RejectedRow, SourceBatch, SourceError};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

/// Everything needed to read the file, checked when the source was built.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The file, resolved against the config file's folder.
    pub(crate) path: PathBuf,
    /// The file as written in the config, for row origins (`debts.csv line 14`).
    pub(crate) label: String,
    pub(crate) delimiter: Option<u8>,
    pub(crate) encoding: &'static encoding_rs::Encoding,
    pub(crate) dates: DateFormat,
    pub(crate) currency: Currency,
    pub(crate) columns: ColumnNames,
    pub(crate) default_kind: Option<ItemKind>,
    /// The longest line read, in bytes (after decoding).
    pub(crate) max_line_bytes: u64,
}

/// The candidates for an unset delimiter, by order of preference on a tie.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// Reads the whole file. Only a file that cannot be read, or whose header line lacks a
/// required column, is an error; bad rows are returned in [`SourceBatch::rejected`].
pub(crate) fn read(settings: &Settings) -> Result<SourceBatch, SourceError> {
    let path = settings.path.display();
    let cannot_read = |e: io::Error| match LineTooLong::find(&e) {
        Some(too_long) => refused(settings, too_long),
        None => SourceError::with(format!("cannot read {path}"), e),
    };
    let file = File::open(&settings.path).map_err(cannot_read)?;
    let mut decoder = DecodeReaderBytesBuilder::new();
    decoder.strip_bom(true).utf8_passthru(true).bom_override(true);
    if settings.encoding != encoding_rs::UTF_8 {
        decoder.encoding(Some(settings.encoding));
    }
    let decoded = LineLimit::new(decoder.build(file), settings.max_line_bytes);
    let mut input = BufReader::with_capacity(64 * 1024, decoded);

    let (start, header_line) = first_line(&mut input).map_err(cannot_read)?;
    let delimiter = settings
        .delimiter
        .unwrap_or_else(|| detect_delimiter(&start[header_line..]));
    // Records end at `\n` only: a `\r` before it is trimmed with the last cell. With the
    // final `\n` added, every record ends with one, which is what `line_at` relies on.
    let mut records = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .terminator(Terminator::Any(b'\n'))
        .from_reader(io::Cursor::new(start).chain(input).chain(&b"\n"[..]));
    let mut record = ByteRecord::new();

    let expected = || settings.columns.expected_header(delimiter);
    if !next_row(&mut records, &mut record).map_err(|e| csv_error(settings, e, || format!("cannot read {path}")))? {
        return Err(SourceError::msg(format!(
            "{path} is empty: expected a header line such as {}",
            expected()
        )));
    }
    let layout = Layout::find(&record, &settings.columns, settings.default_kind.is_none()).map_err(|missing| {
        let names: Vec<String> = missing.iter().map(|c| settings.columns.describe(*c)).collect();
        let found: Vec<String> = record
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        SourceError::msg(format!(
            "{path}: the header line has no column {}; expected a header line such as {} (found: {})",
            names.join(", "),
            expected(),
            found.join(&columns::shown(delimiter)),
        ))
    })?;

    let parser = RowParser {
        layout: &layout,
        dates: &settings.dates,
        currency: settings.currency,
        default_kind: settings.default_kind,
    };
    let mut rows = Rows {
        records,
        settings,
        ahead: ByteRecord::new(),
        have_ahead: false,
        sizes: (0, 0),
        done: false,
        unclosed: None,
    };
    // Three stages run together: reading the next chunk of rows (sequential), parsing this
    // one (amounts, dates, strings) on every core, and adding the previous one to the batch.
    let mut batch = SourceBatch::default();
    let line_prefix = format!("{} line ", settings.label);
    let mut chunk = rows.next_chunk()?;
    let mut parsed = Vec::new();
    while !chunk.is_empty() {
        let (next, (now_parsed, ())) = rayon::join(
            || rows.next_chunk(),
            || {
                rayon::join(
                    || {
                        chunk
                            .par_drain(..)
                            .map(|(record, line)| parser.parse(&record, DebtItem::origin_at(&line_prefix, line)))
                            .collect::<Vec<_>>()
                    },
                    || batch.add(std::mem::take(&mut parsed)),
                )
            },
        );
        parsed = now_parsed;
        chunk = next?;
    }
    batch.add(parsed);
    // A quote never closed ends the file: its row comes after every other.
    batch.rejected.extend(rows.unclosed);
    tracing::debug!(file = %path, items = batch.items.len(), rejected = batch.rejected.len(), "read CSV file");
    Ok(batch)
}

/// Rows read and parsed at a time.
const CHUNK: usize = 8192;

/// The records after the header, with their line numbers.
struct Rows<'a, R: Read> {
    records: Reader<R>,
    settings: &'a Settings,
    /// A record read ahead (to tell a quoted line break from a quote never closed).
    ahead: ByteRecord,
    have_ahead: bool,
    /// The bytes and fields of the last record: each new one starts at that size instead of
    /// growing to it.
    sizes: (usize, usize),
    done: bool,
    /// The row whose quote was never closed, which ended the file.
    unclosed: Option<RejectedRow>,
}

impl<R: Read> Rows<'_, R> {
    /// Up to [`CHUNK`] records and their line numbers (the origins, `debts.csv line 14`, are
    /// written by the parsers, on every core); empty at the end. A quote never closed is kept
    /// in `unclosed` and ends the file.
    fn next_chunk(&mut self) -> Result<Vec<(ByteRecord, u64)>, SourceError> {
        let settings = self.settings;
        let path = settings.path.display();
        let mut chunk = Vec::with_capacity(CHUNK);
        while !self.done && chunk.len() < CHUNK {
            let line = self.records.position().line();
            let mut record = ByteRecord::with_capacity(self.sizes.0, self.sizes.1);
            if self.have_ahead {
                std::mem::swap(&mut record, &mut self.ahead);
                self.have_ahead = false;
            } else if !next_row(&mut self.records, &mut record)
                .map_err(|e| csv_error(settings, e, || format!("cannot read {path} after line {line}")))?
            {
                self.done = true;
                break;
            }
            let position = self.records.position().line();
            if record.as_slice().last() == Some(&b'\n') {
                // Either a quoted cell that ends with a line break, or a quote never closed
                // that swallowed the rest of the file (and the final `\n` that `read`
                // appends): then nothing follows.
                let inner = record.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
                self.have_ahead = next_row(&mut self.records, &mut self.ahead)
                    .map_err(|e| csv_error(settings, e, || format!("cannot read {path} after line {line}")))?;
                if !self.have_ahead {
                    self.unclosed = Some(RejectedRow {
                        origin: format!("{} line {}", settings.label, position.saturating_sub(inner).max(1)),
                        debtor_id: None,
                        reason: "a double quote opened in this row is never closed: the rest of the file was read \
                                 as one value and skipped"
                            .into(),
                    });
                    self.done = true;
                    break;
                }
            }
            self.sizes = (record.as_slice().len(), record.len());
            let line = line_at(position, &record);
            chunk.push((record, line));
        }
        Ok(chunk)
    }
}

/// The error for a line longer than `max_line_bytes`: the whole file is refused.
fn refused(settings: &Settings, too_long: LineTooLong) -> SourceError {
    SourceError::msg(format!(
        "{} line {}: longer than max_line_bytes = {} bytes: reading stopped, nothing from this file is used \
         (is it the CSV export? raise max_line_bytes in [source] if its lines really are that long)",
        settings.path.display(),
        too_long.line,
        too_long.max
    ))
}

/// A read error of the CSV reader: the line bound, or what `what` says.
fn csv_error(settings: &Settings, error: csv::Error, what: impl FnOnce() -> String) -> SourceError {
    if let csv::ErrorKind::Io(e) = error.kind()
        && let Some(too_long) = LineTooLong::find(e)
    {
        return refused(settings, too_long);
    }
    SourceError::with(what(), error)
}

/// Reads up to the end of the first line that is not blank. Returns the bytes read and where
/// that line starts in them.
fn first_line(input: &mut impl BufRead) -> io::Result<(Vec<u8>, usize)> {
    let mut bytes = Vec::new();
    loop {
        let start = bytes.len();
        if input.read_until(b'\n', &mut bytes)? == 0 || !bytes[start..].trim_ascii().is_empty() {
            return Ok((bytes, start));
        }
    }
}

/// The candidate that appears most in the header line (`,` when none does).
fn detect_delimiter(header: &[u8]) -> u8 {
    let count = |d: u8| header.iter().filter(|b| **b == d).count();
    DELIMITERS.into_iter().rev().max_by_key(|d| count(*d)).unwrap_or(b',')
}

/// Reads the next record that is not blank (empty lines, or only delimiters and spaces).
fn next_row<R: Read>(records: &mut Reader<R>, record: &mut ByteRecord) -> csv::Result<bool> {
    while records.read_byte_record(record)? {
        if record.iter().any(|field| !field.trim_ascii().is_empty()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The physical line (1-based) where `record`, just read, starts. The reader's own record
/// position counts skipped blank lines as part of the record, so count back from its end:
/// the reader is past the record's final `\n` and the record holds its own quoted newlines.
fn line_at(position: u64, record: &ByteRecord) -> u64 {
    let inner = record.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
    position.saturating_sub(1 + inner).max(1)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Fixture, chain, rejections};
    use iso_currency::Currency;
    use rappel_core::{DebtItem, ItemKind, SourceBatch};

    const HEADER: &str = "debtor_id,name,phone,email,kind,reference,due_date,amount,paid,currency\n";

    fn summary(batch: &SourceBatch) -> Vec<(&str, &str, &str, i64, i64, &str)> {
        batch
            .items
            .iter()
            .map(|i| {
                (
                    i.debtor_id.as_str(),
                    i.name.as_str(),
                    i.reference.as_str(),
                    i.amount_minor,
                    i.paid_minor,
                    i.origin.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn standard_header_with_commas() {
        let fx = Fixture::new();
        let text = format!(
            "{HEADER}\
             1,Haziza Apple,+221 77 123 45 67,haziza@example.sn,invoice,FAC-0042,2025-11-20,2500,,XOF\n\
             2,Fa Guité,771112233,,facture,FAC-0051,2025-11-01,100000,0,\n\
             2,Fa Guité,,,manual,12,2025-10-15,27000,0,xof\n"
        );
        let batch = fx.batch(text.as_bytes(), "");
        assert_eq!(rejections(&batch), []);
        assert_eq!(
            batch.items[0],
            DebtItem {
                debtor_id: "1".into(),
                name: "Haziza Apple".into(),
                phone: Some("+221 77 123 45 67".into()),
                email: Some("haziza@example.sn".into()),
                kind: ItemKind::Invoice,
                reference: "FAC-0042".into(),
                due_date: "2025-11-20".parse().unwrap(),
                amount_minor: 2500,
                paid_minor: 0,
                currency: Currency::XOF,
                origin: "debts.csv line 2".into(),
            }
        );
        assert_eq!(batch.items[1].email, None);
        assert_eq!(batch.items[2].phone, None);
        assert_eq!(batch.items[2].kind, ItemKind::Manual);
        assert_eq!(
            summary(&batch)[1..],
            [
                ("2", "Fa Guité", "FAC-0051", 100_000, 0, "debts.csv line 3"),
                ("2", "Fa Guité", "12", 27_000, 0, "debts.csv line 4"),
            ]
        );
    }

    #[test]
    fn semicolons_and_tabs_are_detected_from_the_header() {
        let fx = Fixture::new();
        let semi = "debtor_id;name;kind;reference;due_date;amount;paid\n\
                    2;Fa Guité;invoice;FAC-1;2025-11-01;127 000;1,500\n\
                    3;Grand Ndiaye, fils;manual;17;2025-11-02;235000;\n";
        assert_eq!(
            summary(&fx.batch(semi.as_bytes(), "")),
            [
                ("2", "Fa Guité", "FAC-1", 127_000, 1_500, "debts.csv line 2"),
                ("3", "Grand Ndiaye, fils", "17", 235_000, 0, "debts.csv line 3"),
            ]
        );
        let tabs =
            "debtor_id\tname\tkind\treference\tdue_date\tamount\n4\tCheikh ibra\tinvoice\tFAC-7\t2025-11-03\t16 000\n";
        assert_eq!(
            summary(&fx.batch(tabs.as_bytes(), "")),
            [("4", "Cheikh ibra", "FAC-7", 16_000, 0, "debts.csv line 2")]
        );
        // A configured delimiter wins over the count.
        let forced = "debtor_id;name;kind;reference;due_date;amount\n5;A, B, C;invoice;F;2025-01-01;10\n";
        assert_eq!(
            fx.batch(forced.as_bytes(), "delimiter = \";\"").items[0].name,
            "A, B, C"
        );
    }

    #[test]
    fn a_utf8_byte_order_mark_is_ignored() {
        let fx = Fixture::new();
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(
            "debtor_id;name;kind;reference;due_date;amount\n2;Fa Guité;invoice;F1;2025-11-01;5\n".as_bytes(),
        );
        let batch = fx.batch(&bytes, "");
        assert_eq!(summary(&batch), [("2", "Fa Guité", "F1", 5, 0, "debts.csv line 2")]);
    }

    #[test]
    fn windows_1252_files_are_decoded_when_configured() {
        let fx = Fixture::new();
        let bytes = b"debtor_id;name;kind;reference;due_date;amount\r\n2;Fa Guit\xE9;invoice;F1;2025-11-01;5\r\n3;Ok;invoice;F2;2025-11-01;6\r\n";
        let batch = fx.batch(bytes, "encoding = \"windows-1252\"");
        assert_eq!(batch.items[0].name, "Fa Guité");
        assert_eq!(rejections(&batch), []);
        // Read as UTF-8, the row is refused and says what to do; the next row is still read.
        let batch = fx.batch(bytes, "");
        assert_eq!(
            rejections(&batch),
            [(
                "debts.csv line 2: name is not valid UTF-8 text (for a file saved by Excel, set encoding = \"windows-1252\")".to_string(),
                Some("2".to_string())
            )]
        );
        assert_eq!(summary(&batch), [("3", "Ok", "F2", 6, 0, "debts.csv line 3")]);
    }

    #[test]
    fn a_character_split_between_two_cells_is_not_text_in_either() {
        let fx = Fixture::new();
        // `é` is C3 A9: the record's bytes together are UTF-8, neither cell is.
        let bytes = b"debtor_id;name;kind;reference;due_date;amount\n2;Fa Guit\xC3;\xA9invoice;F1;2025-11-01;5\n";
        let batch = fx.batch(bytes, "");
        let utf8 = "is not valid UTF-8 text (for a file saved by Excel, set encoding = \"windows-1252\")";
        assert_eq!(
            rejections(&batch),
            [(
                format!("debts.csv line 2: name {utf8}; kind {utf8}"),
                Some("2".to_string())
            )]
        );
    }

    #[test]
    fn quoted_fields_blank_lines_and_crlf_keep_line_numbers_right() {
        let fx = Fixture::new();
        let text = "\r\ndebtor_id,name,kind,reference,due_date,amount\r\n\
                    1,\"Apple, Haziza\",invoice,\"FAC\r\n42\",2025-11-20,\"127,000\"\r\n\
                    \r\n\
                    ,,,,,\r\n\
                    2,\"Fa \"\"Guité\"\"\",invoice,F2,2025-11-20,127 000\r\n\
                    3,Bad,invoice,F3,2025-11-20,12x\r\n\
                    4,Last,manual,F4,2025-11-20,1";
        let batch = fx.batch(text.as_bytes(), "");
        assert_eq!(
            summary(&batch),
            [
                ("1", "Apple, Haziza", "FAC\r\n42", 127_000, 0, "debts.csv line 3"),
                ("2", "Fa \"Guité\"", "F2", 127_000, 0, "debts.csv line 7"),
                ("4", "Last", "F4", 1, 0, "debts.csv line 9"),
            ]
        );
        assert_eq!(
            rejections(&batch),
            [(
                "debts.csv line 8: amount \"12x\" is not a number".to_string(),
                Some("3".to_string())
            )]
        );

        let text = "\n\ndebtor_id,name,kind,reference,due_date,amount\n\n\n\
                    1,\"Two\nlines\",invoice,F1,2025-11-20,1\n\n\
                    2,B,invoice,F2,2025-11-20,2\n";
        let origins: Vec<_> = fx
            .batch(text.as_bytes(), "")
            .items
            .into_iter()
            .map(|i| i.origin)
            .collect();
        assert_eq!(origins, ["debts.csv line 6", "debts.csv line 9"]);
    }

    #[test]
    fn decimal_amounts_follow_the_currency() {
        let fx = Fixture::new();
        let text = "debtor_id;name;kind;reference;due_date;amount;paid;currency\n\
                    1;A;invoice;F1;2025-11-20;12,50;1.000,25;\n\
                    2;B;invoice;F2;2025-11-20;2 500;;XOF\n\
                    3;C;invoice;F3;2025-11-20;12,5;;XOF\n\
                    4;D;invoice;F4;2025-11-20;10;;FCFA\n";
        let batch = fx.batch(text.as_bytes(), "currency = \"EUR\"");
        let got: Vec<_> = batch
            .items
            .iter()
            .map(|i| (i.amount_minor, i.paid_minor, i.currency))
            .collect();
        assert_eq!(got, [(1_250, 100_025, Currency::EUR), (2_500, 0, Currency::XOF)]);
        assert_eq!(
            rejections(&batch),
            [
                (
                    "debts.csv line 4: amount \"12,5\" has decimals but XOF has 0 decimal places".to_string(),
                    Some("3".to_string())
                ),
                (
                    "debts.csv line 5: currency \"FCFA\" is not an ISO 4217 currency code such as \"XOF\"".to_string(),
                    Some("4".to_string())
                ),
            ]
        );
    }

    #[test]
    fn dates_in_the_configured_format_or_iso() {
        let fx = Fixture::new();
        let text = "debtor_id,name,kind,reference,due_date,amount\n\
                    1,A,invoice,F1,20/11/2025,1\n\
                    2,B,invoice,F2,2025-11-21,1\n\
                    3,C,invoice,F3,31/13/2025,1\n";
        let batch = fx.batch(text.as_bytes(), "date_format = \"%d/%m/%Y\"");
        let dates: Vec<String> = batch.items.iter().map(|i| i.due_date.to_string()).collect();
        assert_eq!(dates, ["2025-11-20", "2025-11-21"]);
        assert_eq!(
            rejections(&batch),
            [(
                "debts.csv line 4: due_date \"31/13/2025\" is not a date (expected %d/%m/%Y or %Y-%m-%d)".to_string(),
                Some("3".to_string())
            )]
        );
    }

    #[test]
    fn renamed_columns_in_another_order() {
        let fx = Fixture::new();
        let text = "Montant;Échéance;Client;Nom complet;Téléphone;Facture;Notes\n\
                    2 500;2025-11-20;1;Haziza Apple;771234567;FAC-0042;relancer\n";
        let keys = "default_kind = \"invoice\"\n[source.columns]\namount = \"montant\"\ndue_date = \"ÉCHÉANCE\"\n\
                    debtor_id = \"Client\"\nname = \"Nom complet\"\nphone = \"Téléphone\"\nreference = \"Facture\"\n";
        let batch = fx.batch(text.as_bytes(), keys);
        assert_eq!(
            summary(&batch),
            [("1", "Haziza Apple", "FAC-0042", 2_500, 0, "debts.csv line 2")]
        );
        assert_eq!(batch.items[0].phone.as_deref(), Some("771234567"));
        assert_eq!(batch.items[0].kind, ItemKind::Invoice);
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let fx = Fixture::new();
        let source = fx.source("");
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let error = runtime.block_on(source.load()).unwrap_err();
        let want = format!(
            "cannot read {}: No such file or directory",
            fx.path("debts.csv").display()
        );
        assert!(chain(&error).starts_with(&want), "{}", chain(&error));
    }

    #[test]
    fn a_header_without_required_columns_names_them() {
        let fx = Fixture::new();
        let error = fx
            .load(b"client;name;kind;reference;Montant\n1;A;invoice;F;5\n", "")
            .unwrap_err();
        assert_eq!(
            chain(&error),
            format!(
                "{}: the header line has no column \"debtor_id\", \"due_date\", \"amount\"; expected a header line such as \
                 debtor_id;name;phone;email;kind;reference;due_date;amount;paid;currency (found: client;name;kind;reference;Montant)",
                fx.path("debts.csv").display()
            )
        );
        let error = fx
            .load(
                b"debtor_id,name,reference,due_date,Total\n",
                "[source.columns]\namount = \"Montant\"",
            )
            .unwrap_err();
        assert!(
            error.to_string().contains("has no column \"kind\", \"Montant\" (amount); expected a header line such as debtor_id,name,phone,email,kind,reference,due_date,Montant,paid,currency"),
            "{error}"
        );
        let error = fx.load(b"\n\r\n", "").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} is empty: expected a header line such as debtor_id,name,phone,email,kind,reference,due_date,amount,paid,currency",
                fx.path("debts.csv").display()
            )
        );
    }

    #[test]
    fn bad_rows_are_refused_one_by_one_and_the_good_ones_kept() {
        let fx = Fixture::new();
        let text = "debtor_id,name,kind,reference,due_date,amount,paid\n\
                    1,Haziza Apple,invoice,FAC-0042,2025-11-20,2500,\n\
                    2,Fa Guité,invoice,FAC-1,2025-11-20,\"12,5OO\",\n\
                    3,Grand Ndiaye,manual,17,2025-02-30,235000,\n\
                    4,Cheikh ibra,loan,FAC-9,2025-11-20,16000,\n\
                    ,Nobody,invoice,FAC-3,2025-11-20,10,\n\
                    5,Short,invoice\n\
                    6,Long,invoice,FAC-4,2025-11-20,10,0,Dakar\n\
                    7,Trailing,invoice,FAC-5,2025-11-20,10,0,,\n\
                    8,Many,,,bad,,abc\n\
                    9,Overpaid,manual,R9,2025-11-20,100,150\n";
        let batch = fx.batch(text.as_bytes(), "");
        let some = |id: &str| Some(id.to_string());
        assert_eq!(
            rejections(&batch),
            [
                ("debts.csv line 3: amount \"12,5OO\" is not a number".to_string(), some("2")),
                ("debts.csv line 4: due_date \"2025-02-30\" is not a date (expected %Y-%m-%d)".to_string(), some("3")),
                ("debts.csv line 5: kind \"loan\" is not \"invoice\" or \"manual\"".to_string(), some("4")),
                ("debts.csv line 6: debtor_id is empty".to_string(), None),
                ("debts.csv line 7: has 3 fields, the header line has 7".to_string(), some("5")),
                (
                    "debts.csv line 8: has 8 fields, the header line has 7 (a value containing the delimiter must be written in double quotes)"
                        .to_string(),
                    some("6")
                ),
                (
                    "debts.csv line 10: kind is empty (expected \"invoice\" or \"manual\"); reference is empty; \
                     due_date \"bad\" is not a date (expected %Y-%m-%d); amount is empty; paid \"abc\" is not a number"
                        .to_string(),
                    some("8")
                ),
            ]
        );
        assert_eq!(
            summary(&batch),
            [
                ("1", "Haziza Apple", "FAC-0042", 2_500, 0, "debts.csv line 2"),
                ("7", "Trailing", "FAC-5", 10, 0, "debts.csv line 9"),
                ("9", "Overpaid", "R9", 100, 150, "debts.csv line 11"),
            ]
        );
        assert_eq!(batch.items[2].remaining_minor(), 0);
    }

    #[test]
    fn without_a_kind_column_default_kind_is_needed() {
        let fx = Fixture::new();
        let text = b"debtor_id,name,reference,due_date,amount\n7,Grand Ndiaye,17,2025-11-02,235000\n";
        let batch = fx.batch(text, "default_kind = \"manual\"");
        assert_eq!(batch.items[0].kind, ItemKind::Manual);
        let error = fx.load(text, "").unwrap_err();
        assert!(
            error.to_string().contains("the header line has no column \"kind\""),
            "{error}"
        );
    }

    #[test]
    fn a_line_longer_than_max_line_bytes_stops_the_read_and_is_named() {
        let fx = Fixture::new();
        let text = format!(
            "debtor_id,name,kind,reference,due_date,amount\n1,A,invoice,F1,2025-11-20,5\n2,{},invoice,F2,2025-11-20,6\n",
            "x".repeat(100)
        );
        let error = fx.load(text.as_bytes(), "max_line_bytes = 64").unwrap_err();
        assert_eq!(
            chain(&error),
            format!(
                "{} line 3: longer than max_line_bytes = 64 bytes: reading stopped, nothing from this file is used \
                 (is it the CSV export? raise max_line_bytes in [source] if its lines really are that long)",
                fx.path("debts.csv").display()
            )
        );
        // The same file is read with the default bound; so is a header line up to the bound.
        assert_eq!(fx.batch(text.as_bytes(), "").items.len(), 2);
        let error = fx.load(&[b'a'; 65], "max_line_bytes = 64").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("debts.csv line 1: longer than max_line_bytes = 64 bytes"),
            "{error}"
        );
        assert_eq!(
            fx.build_err("path = \"debts.csv\"\nmax_line_bytes = 0"),
            "source.max_line_bytes: must be at least 1"
        );
    }

    #[test]
    fn a_2_gb_line_is_refused_without_being_read_into_memory() {
        let fx = Fixture::new();
        fx.write(
            "debts.csv",
            b"debtor_id,name,kind,reference,due_date,amount\n1,A,invoice,F1,2025-11-20,5\n",
        );
        // A sparse file: 2 GiB of NUL bytes after the first row, one line, no disk used.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(fx.path("debts.csv"))
            .unwrap();
        file.set_len(2 << 30).unwrap();
        drop(file);
        let started = std::time::Instant::now();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let error = runtime.block_on(fx.source("").load()).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("debts.csv line 3: longer than max_line_bytes = 1048576 bytes: reading stopped, nothing from this file is used \
                 (is it the CSV export? raise max_line_bytes in [source] if its lines really are that long)"),
            "{error}"
        );
        // Reading 2 GiB would take many seconds; stopping at 1 MiB takes milliseconds.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
