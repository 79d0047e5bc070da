//! One CSV record to one debt item, or the reasons it was refused, each naming the column,
//! the value and what was expected.

use crate::columns::{Column, Layout};
use csv::ByteRecord;
use iso_currency::Currency;
use rappel_core::dates::DateFormat;
use rappel_core::money::{parse_amount, parse_currency};
use rappel_core::{DebtItem, ItemKind, RejectedRow};

/// Turns records into items; built once per read.
pub(crate) struct RowParser<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) dates: &'a DateFormat,
    pub(crate) currency: Currency,
    pub(crate) default_kind: Option<ItemKind>,
}

/// A cell as read from a record.
#[derive(Clone, Copy)]
enum Cell<'r> {
    /// Trimmed, non-empty text.
    Text(&'r str),
    /// An empty cell, or a column the file does not have.
    Empty,
    /// Not UTF-8; the error has already been noted.
    Unreadable,
}

/// The cells of one record, collecting what is wrong with them.
struct Cells<'r, 'a> {
    record: &'r ByteRecord,
    /// The whole record's fields as text, when they are UTF-8: one check per record
    /// instead of one per cell.
    text: Option<&'r str>,
    layout: &'a Layout,
    errors: Vec<String>,
}

impl<'r> Cells<'r, '_> {
    fn get(&mut self, column: Column) -> Cell<'r> {
        let Some(range) = self.layout.get(column).and_then(|i| self.record.range(i)) else {
            return Cell::Empty;
        };
        // A cell of a UTF-8 record is UTF-8 when it starts and ends between characters.
        let text = match self.text {
            Some(record) => record.get(range),
            None => std::str::from_utf8(&self.record.as_slice()[range]).ok(),
        };
        match text.map(str::trim) {
            Some("") => Cell::Empty,
            Some(text) => Cell::Text(text),
            None => {
                self.errors.push(format!(
                    "{column} is not valid UTF-8 text (for a file saved by Excel, set encoding = \"windows-1252\")"
                ));
                Cell::Unreadable
            }
        }
    }

    fn require(&mut self, column: Column) -> Option<&'r str> {
        match self.get(column) {
            Cell::Text(text) => Some(text),
            Cell::Empty => {
                self.errors.push(format!("{column} is empty"));
                None
            }
            Cell::Unreadable => None,
        }
    }

    fn optional(&mut self, column: Column) -> Option<String> {
        match self.get(column) {
            Cell::Text(text) => Some(text.to_string()),
            Cell::Empty | Cell::Unreadable => None,
        }
    }
}

impl RowParser<'_> {
    /// Reads `record`, found at `origin` (`debts.csv line 14`).
    pub(crate) fn parse(&self, record: &ByteRecord, origin: String) -> Result<DebtItem, RejectedRow> {
        let mut cells = Cells {
            record,
            text: std::str::from_utf8(record.as_slice()).ok(),
            layout: self.layout,
            errors: Vec::new(),
        };
        let debtor_id = cells.require(Column::DebtorId);
        let reject = |reason: String| RejectedRow {
            origin: origin.clone(),
            debtor_id: debtor_id.map(str::to_string),
            reason,
        };

        let width = self.layout.width;
        let extra = record.iter().skip(width).any(|field| !field.trim_ascii().is_empty());
        if record.len() < width || extra {
            let mut reason = format!("has {} fields, the header line has {width}", record.len());
            if extra {
                reason.push_str(" (a value containing the delimiter must be written in double quotes)");
            }
            return Err(reject(reason));
        }

        let name = match cells.get(Column::Name) {
            Cell::Text(text) => text,
            Cell::Empty | Cell::Unreadable => "",
        };
        let phone = cells.optional(Column::Phone);
        let email = cells.optional(Column::Email);
        let kind = self.kind(&mut cells);
        let reference = cells.require(Column::Reference);
        let due_date = cells.require(Column::DueDate).and_then(|text| {
            let date = self.dates.parse(text);
            if date.is_none() {
                cells.errors.push(format!(
                    "due_date {text:?} is not a date (expected {})",
                    self.dates.expected()
                ));
            }
            date
        });
        let currency = self.currency(&mut cells);
        let (amount, paid) = match currency {
            Some(currency) => (
                amount(&mut cells, Column::Amount, currency, None),
                amount(&mut cells, Column::Paid, currency, Some(0)),
            ),
            None => (None, None),
        };

        match (debtor_id, kind, reference, due_date, amount, paid, currency) {
            (Some(id), Some(kind), Some(reference), Some(due_date), Some(amount), Some(paid), Some(currency))
                if cells.errors.is_empty() =>
            {
                Ok(DebtItem {
                    debtor_id: id.to_string(),
                    name: name.to_string(),
                    phone,
                    email,
                    kind,
                    reference: reference.to_string(),
                    due_date,
                    amount_minor: amount,
                    paid_minor: paid,
                    currency,
                    origin,
                })
            }
            _ => Err(reject(cells.errors.join("; "))),
        }
    }

    fn kind(&self, cells: &mut Cells<'_, '_>) -> Option<ItemKind> {
        match cells.get(Column::Kind) {
            Cell::Text(text) => {
                let kind = ItemKind::parse(text);
                if kind.is_none() {
                    cells
                        .errors
                        .push(format!("kind {text:?} is not \"invoice\" or \"manual\""));
                }
                kind
            }
            Cell::Empty if self.default_kind.is_some() => self.default_kind,
            Cell::Empty => {
                cells
                    .errors
                    .push("kind is empty (expected \"invoice\" or \"manual\")".to_string());
                None
            }
            Cell::Unreadable => None,
        }
    }

    fn currency(&self, cells: &mut Cells<'_, '_>) -> Option<Currency> {
        match cells.get(Column::Currency) {
            Cell::Text(text) if text.eq_ignore_ascii_case(self.currency.code()) => Some(self.currency),
            Cell::Text(text) => {
                let currency = parse_currency(text);
                if currency.is_none() {
                    cells.errors.push(format!(
                        "currency {text:?} is not an ISO 4217 currency code such as \"XOF\""
                    ));
                }
                currency
            }
            Cell::Empty => Some(self.currency),
            Cell::Unreadable => None,
        }
    }
}

/// Reads an amount column; `if_empty` is the value of an empty cell (`None`: an error).
fn amount(cells: &mut Cells<'_, '_>, column: Column, currency: Currency, if_empty: Option<i64>) -> Option<i64> {
    let text = match (cells.get(column), if_empty) {
        (Cell::Text(text), _) => text,
        (Cell::Empty, Some(value)) => return Some(value),
        (Cell::Empty, None) => "",
        (Cell::Unreadable, _) => return None,
    };
    parse_amount(text, currency)
        .map_err(|e| cells.errors.push(format!("{column} {e}")))
        .ok()
}
