//! Which of the file's columns holds what: our standard column names, their renames in
//! `[source.columns]`, and the header line matched against them.

use csv::ByteRecord;
use serde::Deserialize;
use std::fmt;

/// One of the columns rappel reads, by its standard name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    DebtorId,
    Name,
    Phone,
    Email,
    Kind,
    Reference,
    DueDate,
    Amount,
    Paid,
    Currency,
}

impl Column {
    /// Every column, in the order of the standard header.
    pub(crate) const ALL: [Column; 10] = [
        Column::DebtorId,
        Column::Name,
        Column::Phone,
        Column::Email,
        Column::Kind,
        Column::Reference,
        Column::DueDate,
        Column::Amount,
        Column::Paid,
        Column::Currency,
    ];

    /// The standard name, used in the default header and in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Column::DebtorId => "debtor_id",
            Column::Name => "name",
            Column::Phone => "phone",
            Column::Email => "email",
            Column::Kind => "kind",
            Column::Reference => "reference",
            Column::DueDate => "due_date",
            Column::Amount => "amount",
            Column::Paid => "paid",
            Column::Currency => "currency",
        }
    }

    fn required(self, kind_required: bool) -> bool {
        match self {
            Column::Phone | Column::Email | Column::Paid | Column::Currency => false,
            Column::Kind => kind_required,
            _ => true,
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `[source.columns]`: the header of each column in the file, when it is not the standard
/// name. Header names are matched ignoring case and surrounding spaces; the order of the
/// columns in the file does not matter, and columns not listed here are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnNames {
    /// The client identifier (default `debtor_id`; required). The rows of one client are
    /// grouped into one message.
    pub debtor_id: Option<String>,
    /// The client's name as it appears in messages (default `name`; required).
    pub name: Option<String>,
    /// The client's phone number (default `phone`; optional).
    pub phone: Option<String>,
    /// The client's email address (default `email`; optional).
    pub email: Option<String>,
    /// `invoice` or `manual` (default `kind`; required unless `default_kind` is set).
    pub kind: Option<String>,
    /// The invoice number or debt reference (default `reference`; required).
    pub reference: Option<String>,
    /// The due date, written as `date_format` says (default `due_date`; required).
    pub due_date: Option<String>,
    /// The amount owed, e.g. `127 000` (default `amount`; required).
    pub amount: Option<String>,
    /// The amount already paid (default `paid`; optional, empty means nothing paid).
    pub paid: Option<String>,
    /// The ISO 4217 currency code (default `currency`; optional, empty means `currency`).
    pub currency: Option<String>,
}

impl ColumnNames {
    /// The header name expected in the file for `column`.
    pub(crate) fn header(&self, column: Column) -> &str {
        let renamed = match column {
            Column::DebtorId => &self.debtor_id,
            Column::Name => &self.name,
            Column::Phone => &self.phone,
            Column::Email => &self.email,
            Column::Kind => &self.kind,
            Column::Reference => &self.reference,
            Column::DueDate => &self.due_date,
            Column::Amount => &self.amount,
            Column::Paid => &self.paid,
            Column::Currency => &self.currency,
        };
        renamed.as_deref().map(str::trim).unwrap_or(column.name())
    }

    /// The header line this configuration expects, e.g. `debtor_id;name;…;currency`.
    pub(crate) fn expected_header(&self, delimiter: u8) -> String {
        let names: Vec<&str> = Column::ALL.iter().map(|c| self.header(*c)).collect();
        names.join(&shown(delimiter))
    }

    /// How a missing column is named in messages: `"amount"`, or `"Montant" (amount)`.
    pub(crate) fn describe(&self, column: Column) -> String {
        let header = self.header(column);
        if header == column.name() {
            format!("\"{header}\"")
        } else {
            format!("\"{header}\" ({column})")
        }
    }
}

/// A delimiter as shown in messages: a tab is written `\t`.
pub(crate) fn shown(delimiter: u8) -> String {
    if delimiter == b'\t' {
        "\\t".to_string()
    } else {
        char::from(delimiter).to_string()
    }
}

/// Where each column is in the file's records.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    index: [Option<usize>; Column::ALL.len()],
    /// The number of fields of the header line: every row must have as many.
    pub(crate) width: usize,
}

impl Layout {
    /// Matches the header line against the expected names. Returns the missing required
    /// columns when there are any.
    pub(crate) fn find(header: &ByteRecord, names: &ColumnNames, kind_required: bool) -> Result<Self, Vec<Column>> {
        let found: Vec<String> = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_lowercase())
            .collect();
        let mut index = [None; Column::ALL.len()];
        let mut missing = Vec::new();
        for (slot, column) in index.iter_mut().zip(Column::ALL) {
            let wanted = names.header(column).to_lowercase();
            *slot = found.iter().position(|h| *h == wanted);
            if slot.is_none() && column.required(kind_required) {
                missing.push(column);
            }
        }
        if missing.is_empty() {
            Ok(Self {
                index,
                width: header.len(),
            })
        } else {
            Err(missing)
        }
    }

    /// The field index of `column`, when the file has it.
    pub(crate) fn get(&self, column: Column) -> Option<usize> {
        self.index[column as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(fields: &[&str]) -> ByteRecord {
        ByteRecord::from(fields.to_vec())
    }

    #[test]
    fn standard_header_in_any_order_and_case() {
        let h = header(&[
            "AMOUNT",
            " Due_Date ",
            "reference",
            "kind",
            "name",
            "debtor_id",
            "notes",
        ]);
        let layout = Layout::find(&h, &ColumnNames::default(), true).unwrap();
        assert_eq!(layout.get(Column::Amount), Some(0));
        assert_eq!(layout.get(Column::DueDate), Some(1));
        assert_eq!(layout.get(Column::DebtorId), Some(5));
        assert_eq!(layout.get(Column::Phone), None);
        assert_eq!(layout.width, 7);
    }

    #[test]
    fn renamed_columns_and_missing_ones() {
        let names = ColumnNames {
            amount: Some("Montant".into()),
            debtor_id: Some("client".into()),
            ..Default::default()
        };
        let h = header(&["client", "montant", "name", "reference"]);
        assert_eq!(
            Layout::find(&h, &names, true).unwrap_err(),
            [Column::Kind, Column::DueDate]
        );
        assert_eq!(Layout::find(&h, &names, false).unwrap_err(), [Column::DueDate]);
        assert_eq!(names.describe(Column::Amount), "\"Montant\" (amount)");
        assert_eq!(names.describe(Column::DueDate), "\"due_date\"");
        assert_eq!(
            names.expected_header(b';'),
            "client;name;phone;email;kind;reference;due_date;Montant;paid;currency"
        );
    }
}
