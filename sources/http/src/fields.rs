//! Which value of an item holds what: our standard field names and their JSON pointers,
//! renamable in `[source.fields]`.

use crate::config::Pointer;
use serde::Deserialize;
use std::fmt;

/// One of the values rappel reads from an item, by its standard name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
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

impl Field {
    /// The standard name, used in default pointers (`/amount`) and in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::DebtorId => "debtor_id",
            Field::Name => "name",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Kind => "kind",
            Field::Reference => "reference",
            Field::DueDate => "due_date",
            Field::Amount => "amount",
            Field::Paid => "paid",
            Field::Currency => "currency",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `[source.fields]`: where each value is inside an item, as a JSON pointer, when it is not
/// `/` + the standard name. For `{"client": {"id": 7, "nom": "Awa"}, "total": 2500}` write
/// `debtor_id = "/client/id"`, `name = "/client/nom"`, `amount = "/total"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldPointers {
    /// The client identifier, a string or an integer (default `/debtor_id`; required).
    pub debtor_id: Option<Pointer>,
    /// The client's name as it appears in messages (default `/name`; required).
    pub name: Option<Pointer>,
    /// The client's phone number (default `/phone`; optional).
    pub phone: Option<Pointer>,
    /// The client's email address (default `/email`; optional).
    pub email: Option<Pointer>,
    /// `"invoice"` or `"manual"` (default `/kind`; required unless `default_kind` is set).
    pub kind: Option<Pointer>,
    /// The invoice number or debt reference, a string or an integer (default `/reference`;
    /// required).
    pub reference: Option<Pointer>,
    /// The due date, a string written as `date_format` says (default `/due_date`; required).
    pub due_date: Option<Pointer>,
    /// The amount owed in major units: a number (`2500`, `12.5`) or a string
    /// (`"127 000"`) (default `/amount`; required).
    pub amount: Option<Pointer>,
    /// The amount already paid, like `amount` (default `/paid`; optional, missing or `null`
    /// means nothing paid).
    pub paid: Option<Pointer>,
    /// The ISO 4217 currency code (default `/currency`; optional, missing means `currency`).
    pub currency: Option<Pointer>,
}

impl FieldPointers {
    /// The pointer of `field`.
    pub(crate) fn get(&self, field: Field) -> String {
        let set = match field {
            Field::DebtorId => &self.debtor_id,
            Field::Name => &self.name,
            Field::Phone => &self.phone,
            Field::Email => &self.email,
            Field::Kind => &self.kind,
            Field::Reference => &self.reference,
            Field::DueDate => &self.due_date,
            Field::Amount => &self.amount,
            Field::Paid => &self.paid,
            Field::Currency => &self.currency,
        };
        match set {
            Some(pointer) => pointer.0.clone(),
            None => format!("/{}", field.name()),
        }
    }

    /// How a field is named in messages: `amount`, or `amount (/total)` when moved.
    pub(crate) fn describe(&self, field: Field) -> String {
        let pointer = self.get(field);
        if pointer.strip_prefix('/') == Some(field.name()) {
            field.name().to_string()
        } else {
            format!("{field} ({pointer})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_moved_fields() {
        let fields = FieldPointers {
            amount: Some(Pointer("/total".into())),
            ..Default::default()
        };
        assert_eq!(fields.get(Field::DueDate), "/due_date");
        assert_eq!(fields.get(Field::Amount), "/total");
        assert_eq!(fields.describe(Field::Amount), "amount (/total)");
        assert_eq!(fields.describe(Field::DebtorId), "debtor_id");
    }
}
