//! Which of the query's columns holds what: our standard column names, their renames in
//! `[source.columns]`, and the query's result columns matched against them, types included.

use serde::Deserialize;
use sqlx::postgres::PgColumn;
use sqlx::{Column as _, TypeInfo as _};
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
    /// Every column, in the standard order.
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

    /// The standard name, used in the default query and in messages.
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

    fn required(self) -> bool {
        !matches!(self, Column::Phone | Column::Email | Column::Paid | Column::Currency)
    }

    /// The SQL types this column may have.
    fn accepts(self, class: TypeClass) -> bool {
        use TypeClass::{Date, Integer, Numeric, Text};
        match self {
            Column::DebtorId | Column::Reference | Column::Phone => matches!(class, Text | Integer),
            Column::Name | Column::Email | Column::Kind | Column::Currency => class == Text,
            Column::DueDate => matches!(class, Date | Text),
            Column::Amount | Column::Paid => matches!(class, Integer | Numeric | Text),
        }
    }

    /// What the column may be, for messages.
    fn expected(self) -> &'static str {
        match self {
            Column::DebtorId | Column::Reference | Column::Phone => "text or an integer",
            Column::Name | Column::Email | Column::Kind | Column::Currency => "text",
            Column::DueDate => "date (or YYYY-MM-DD text)",
            Column::Amount | Column::Paid => "bigint, integer or numeric",
        }
    }

    /// The cast that fixes a column of another type, for messages.
    fn cast(self) -> &'static str {
        match self {
            Column::DueDate => "::date",
            Column::Amount | Column::Paid => "::numeric",
            _ => "::text",
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `[source.columns]`: the query's column names, when they are not the standard names.
/// Names are matched ignoring case; other columns of the query are ignored.
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
    /// `invoice` or `manual` (default `kind`; required). Write `'invoice' AS kind` in the
    /// query when every row is an invoice.
    pub kind: Option<String>,
    /// The invoice number or debt reference (default `reference`; required).
    pub reference: Option<String>,
    /// The due date (default `due_date`; required).
    pub due_date: Option<String>,
    /// The amount owed, in major units: `2500` is 2 500 XOF (default `amount`; required).
    pub amount: Option<String>,
    /// The amount already paid on the item (default `paid`; optional, `NULL` means nothing).
    pub paid: Option<String>,
    /// The ISO 4217 currency code (default `currency`; optional, `NULL` means `currency`).
    pub currency: Option<String>,
}

impl ColumnNames {
    /// The name expected in the query's result for `column`.
    pub(crate) fn get(&self, column: Column) -> &str {
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

    /// How a column is named in messages: `"amount"`, or `"montant" (amount)`.
    pub(crate) fn describe(&self, column: Column) -> String {
        let name = self.get(column);
        if name == column.name() {
            format!("\"{name}\"")
        } else {
            format!("\"{name}\" ({column})")
        }
    }
}

/// How a value of a SQL type is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeClass {
    Text,
    Integer,
    Numeric,
    Date,
    Other,
}

impl TypeClass {
    fn of(type_name: &str) -> Self {
        match type_name.to_ascii_uppercase().as_str() {
            "TEXT" | "VARCHAR" | "CHAR" | "BPCHAR" | "NAME" | "CITEXT" | "UNKNOWN" => TypeClass::Text,
            "INT2" | "INT4" | "INT8" => TypeClass::Integer,
            "NUMERIC" => TypeClass::Numeric,
            "DATE" => TypeClass::Date,
            _ => TypeClass::Other,
        }
    }
}

/// The SQL name of a type as PostgreSQL users write it.
fn sql_name(type_name: &str) -> String {
    match type_name {
        "FLOAT8" => "double precision".into(),
        "FLOAT4" => "real".into(),
        "BOOL" => "boolean".into(),
        "INT2" => "smallint".into(),
        "INT4" => "integer".into(),
        "INT8" => "bigint".into(),
        "TIMESTAMPTZ" => "timestamp with time zone".into(),
        "TIMESTAMP" => "timestamp".into(),
        other => other.to_lowercase(),
    }
}

/// What a query's rows are: which columns are read from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// One row per item, with its client's details (`query` alone).
    Items,
    /// One row per item, its client's details coming from `clients_query`.
    ItemsOfClients,
    /// One row per client: its id and details (`clients_query`).
    Clients,
}

impl Reads {
    fn columns(self) -> &'static [Column] {
        use Column::{Amount, Currency, DebtorId, DueDate, Email, Kind, Name, Paid, Phone, Reference};
        match self {
            Reads::Items => &Column::ALL,
            Reads::ItemsOfClients => &[DebtorId, Kind, Reference, DueDate, Amount, Paid, Currency],
            Reads::Clients => &[DebtorId, Name, Phone, Email],
        }
    }

    /// The query, as messages name it.
    pub(crate) fn query(self) -> &'static str {
        match self {
            Reads::Items | Reads::ItemsOfClients => "the query",
            Reads::Clients => "the clients query",
        }
    }

    /// How a row's origin starts: `query row ` then its number.
    pub(crate) fn row_prefix(self) -> &'static str {
        match self {
            Reads::Items | Reads::ItemsOfClients => "query row ",
            Reads::Clients => "clients query row ",
        }
    }
}

/// Where each column is in the query's rows, and how to read it.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    slots: [Option<(usize, TypeClass)>; Column::ALL.len()],
}

impl Layout {
    /// Matches the query's result columns against the expected names and types. The error
    /// lists every problem: missing required columns (with the columns found) and columns
    /// of a type that cannot be read.
    pub(crate) fn find(found: &[PgColumn], names: &ColumnNames, reads: Reads) -> Result<Self, String> {
        let mut slots = [None; Column::ALL.len()];
        let mut missing = Vec::new();
        let mut mistyped = Vec::new();
        for &column in reads.columns() {
            let slot = &mut slots[column as usize];
            let wanted = names.get(column);
            let Some((index, c)) = found
                .iter()
                .enumerate()
                .find(|(_, c)| c.name().eq_ignore_ascii_case(wanted))
            else {
                if column.required() {
                    missing.push(names.describe(column));
                }
                continue;
            };
            let type_name = c.type_info().name();
            let class = TypeClass::of(type_name);
            if column.accepts(class) {
                *slot = Some((index, class));
            } else {
                mistyped.push(format!(
                    "column {} is {}, expected {} (cast it in {}: {}{})",
                    names.describe(column),
                    sql_name(type_name),
                    column.expected(),
                    reads.query(),
                    c.name(),
                    column.cast()
                ));
            }
        }
        let mut problems = Vec::new();
        if !missing.is_empty() {
            let found: Vec<&str> = found.iter().map(|c| c.name()).collect();
            let required: Vec<&str> = reads
                .columns()
                .iter()
                .filter(|c| c.required())
                .map(|c| names.get(*c))
                .collect();
            problems.push(format!(
                "{} returns no column {}; it must return {} (found: {})",
                reads.query(),
                missing.join(", "),
                required.join(", "),
                if found.is_empty() {
                    "no columns".to_string()
                } else {
                    found.join(", ")
                }
            ));
        }
        problems.extend(mistyped);
        if problems.is_empty() {
            Ok(Self { slots })
        } else {
            Err(problems.join("; "))
        }
    }

    /// The index and type of `column` in the rows, when the query returns it.
    pub(crate) fn get(&self, column: Column) -> Option<(usize, TypeClass)> {
        self.slots[column as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_classes() {
        assert_eq!(TypeClass::of("VARCHAR"), TypeClass::Text);
        assert_eq!(TypeClass::of("INT8"), TypeClass::Integer);
        assert_eq!(TypeClass::of("NUMERIC"), TypeClass::Numeric);
        assert_eq!(TypeClass::of("FLOAT8"), TypeClass::Other);
        assert!(Column::Amount.accepts(TypeClass::Numeric));
        assert!(!Column::Amount.accepts(TypeClass::Date));
        assert!(Column::DueDate.accepts(TypeClass::Text));
        assert!(!Column::Name.accepts(TypeClass::Integer));
        assert_eq!(sql_name("FLOAT8"), "double precision");
    }

    #[test]
    fn renamed_columns_are_described_with_their_standard_name() {
        let names = ColumnNames {
            amount: Some(" Montant ".into()),
            ..Default::default()
        };
        assert_eq!(names.get(Column::Amount), "Montant");
        assert_eq!(names.describe(Column::Amount), "\"Montant\" (amount)");
        assert_eq!(names.describe(Column::DueDate), "\"due_date\"");
    }
}
