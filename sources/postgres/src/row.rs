//! One row of the query to one debt item, or the reasons it was refused, each naming the
//! column, the value and what was expected.

use crate::columns::{Column, ColumnNames, Layout};
use crate::values::{self, Value};
use iso_currency::Currency;
use rappel_core::money::{parse_amount, parse_currency};
use rappel_core::{DebtItem, ItemKind, RejectedRow};
use sqlx::Row as _;
use sqlx::postgres::PgRow;
use std::borrow::Cow;

/// Turns rows into items; built once per read.
pub(crate) struct RowParser<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) names: &'a ColumnNames,
    pub(crate) currency: Currency,
}

/// The values of one row, collecting what is wrong with them.
struct Cells<'a> {
    row: &'a PgRow,
    parser: &'a RowParser<'a>,
    errors: Vec<String>,
}

impl<'a> Cells<'a> {
    fn new(row: &'a PgRow, parser: &'a RowParser<'a>) -> Self {
        Self {
            row,
            parser,
            errors: Vec::new(),
        }
    }

    /// The client's name (empty when `NULL` or not returned), phone and email.
    fn details(&mut self) -> ClientDetails {
        ClientDetails {
            name: self.text(Column::Name).map(Cow::into_owned).unwrap_or_default(),
            phone: self.text(Column::Phone).map(Cow::into_owned),
            email: self.text(Column::Email).map(Cow::into_owned),
        }
    }

    /// The column's value, borrowed from the row; `Null` when the query does not return the column.
    fn get(&mut self, column: Column) -> Option<Value<'a>> {
        let (index, class) = self.parser.layout.get(column)?;
        let decoded = self
            .row
            .try_get_raw(index)
            .map_err(|e| e.to_string())
            .and_then(|raw| values::decode(raw, class));
        match decoded {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push(format!("{} {e}", self.label(column)));
                None
            }
        }
    }

    /// The column's name in the query, for messages (borrowed from the parser, not the cells,
    /// so that it is taken only when a message is written).
    fn label(&self, column: Column) -> &'a str {
        self.parser.names.get(column)
    }

    /// Trimmed, non-empty text (numbers as written); `None` for `NULL` or empty.
    fn text(&mut self, column: Column) -> Option<Cow<'a, str>> {
        self.get(column)?.into_text().and_then(trimmed)
    }

    /// Trimmed, non-empty text; a `NULL` or empty value is an error.
    fn require(&mut self, column: Column) -> Option<Cow<'a, str>> {
        let label = self.label(column);
        let value = self.get(column)?;
        if matches!(value, Value::Null) {
            self.errors.push(format!("{label} is NULL"));
            return None;
        }
        let text = value.into_text().and_then(trimmed);
        if text.is_none() {
            self.errors.push(format!("{label} is empty"));
        }
        text
    }
}

/// `text` without its surrounding spaces; `None` when nothing is left.
fn trimmed(text: Cow<'_, str>) -> Option<Cow<'_, str>> {
    match text {
        Cow::Borrowed(t) => Some(t.trim()).filter(|t| !t.is_empty()).map(Cow::Borrowed),
        Cow::Owned(t) if t.trim().is_empty() => None,
        Cow::Owned(t) if t.trim().len() == t.len() => Some(Cow::Owned(t)),
        Cow::Owned(t) => Some(Cow::Owned(t.trim().to_string())),
    }
}

/// A client's details from the clients query, given to the first of its items.
#[derive(Debug, Default)]
pub(crate) struct ClientDetails {
    pub(crate) name: String,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
}

impl ClientDetails {
    /// Gives the details to `item` (its own are empty: its query does not return them).
    pub(crate) fn give(self, item: &mut DebtItem) {
        item.name = self.name;
        item.phone = self.phone;
        item.email = self.email;
    }

    /// Fills what is still empty from a later row of the same client, as items' details
    /// are (the first non-empty value wins).
    pub(crate) fn fill(&mut self, other: ClientDetails) {
        if self.name.is_empty() {
            self.name = other.name;
        }
        if self.phone.is_none() {
            self.phone = other.phone;
        }
        if self.email.is_none() {
            self.email = other.email;
        }
    }
}

impl RowParser<'_> {
    /// Reads a row of the clients query, found at `origin` (`clients query row 3`).
    pub(crate) fn parse_client(&self, row: &PgRow, origin: String) -> Result<(String, ClientDetails), RejectedRow> {
        let mut cells = Cells::new(row, self);
        let debtor_id = cells.require(Column::DebtorId).map(Cow::into_owned);
        let details = cells.details();
        match debtor_id {
            Some(id) if cells.errors.is_empty() => Ok((id, details)),
            debtor_id => Err(RejectedRow {
                origin,
                debtor_id,
                reason: cells.errors.join("; "),
            }),
        }
    }

    /// Reads `row`, found at `origin` (`query row 12`).
    pub(crate) fn parse(&self, row: &PgRow, origin: String) -> Result<DebtItem, RejectedRow> {
        let mut cells = Cells::new(row, self);
        let debtor_id = cells.require(Column::DebtorId).map(Cow::into_owned);
        let ClientDetails { name, phone, email } = cells.details();
        let kind = cells.require(Column::Kind).and_then(|text| {
            let kind = ItemKind::parse(&text);
            if kind.is_none() {
                let label = cells.label(Column::Kind);
                cells
                    .errors
                    .push(format!("{label} {text:?} is not \"invoice\" or \"manual\""));
            }
            kind
        });
        let reference = cells.require(Column::Reference).map(Cow::into_owned);
        let due_date = self.due_date(&mut cells);
        let currency = self.currency(&mut cells);
        let (amount, paid) = match currency {
            Some(currency) => (
                amount(&mut cells, Column::Amount, currency, None),
                amount(&mut cells, Column::Paid, currency, Some(0)),
            ),
            None => (None, None),
        };

        match (debtor_id, kind, reference, due_date, amount, paid, currency) {
            (
                Some(debtor_id),
                Some(kind),
                Some(reference),
                Some(due_date),
                Some(amount),
                Some(paid),
                Some(currency),
            ) if cells.errors.is_empty() => Ok(DebtItem {
                debtor_id,
                name,
                phone,
                email,
                kind,
                reference,
                due_date,
                amount_minor: amount,
                paid_minor: paid,
                currency,
                origin,
            }),
            (debtor_id, ..) => Err(RejectedRow {
                origin,
                debtor_id,
                reason: cells.errors.join("; "),
            }),
        }
    }

    fn due_date(&self, cells: &mut Cells<'_>) -> Option<chrono::NaiveDate> {
        let label = cells.label(Column::DueDate);
        match cells.get(Column::DueDate)? {
            Value::Date(date) => Some(date),
            Value::Null => {
                cells.errors.push(format!("{label} is NULL"));
                None
            }
            value => {
                let text = value.into_text().unwrap_or_default();
                let date = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
                if date.is_none() {
                    cells
                        .errors
                        .push(format!("{label} {text:?} is not a date (expected YYYY-MM-DD)"));
                }
                date
            }
        }
    }

    fn currency(&self, cells: &mut Cells<'_>) -> Option<Currency> {
        let Some(text) = cells.text(Column::Currency) else {
            // NULL, empty, or no currency column. An unreadable value has been noted.
            return Some(self.currency);
        };
        let currency = parse_currency(&text);
        if currency.is_none() {
            let label = cells.label(Column::Currency);
            cells.errors.push(format!(
                "{label} {text:?} is not an ISO 4217 currency code such as \"XOF\""
            ));
        }
        currency
    }
}

/// Reads an amount column; `if_null` is the value of a `NULL` (`None`: an error).
fn amount(cells: &mut Cells<'_>, column: Column, currency: Currency, if_null: Option<i64>) -> Option<i64> {
    let label = cells.label(column);
    let result = match cells.get(column) {
        None if cells.parser.layout.get(column).is_none() => return if_null,
        None => return None,
        Some(Value::Text(text)) if text.trim().is_empty() && if_null.is_some() => return if_null,
        Some(Value::Null) => match if_null {
            Some(value) => return Some(value),
            None => Err("is NULL".to_string()),
        },
        Some(Value::Integer(value)) => values::integer_minor(value, currency),
        Some(Value::Number(text)) => values::decimal_minor(&text, currency),
        Some(Value::Text(text)) => parse_amount(text, currency).map_err(|e| e.to_string()),
        Some(Value::Date(date)) => Err(format!("{date} is a date, not an amount")),
    };
    result.map_err(|e| cells.errors.push(format!("{label} {e}"))).ok()
}
