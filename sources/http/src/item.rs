//! One JSON item to one debt item, or the reasons it was refused, each naming the field,
//! the value and what was expected.

use crate::fields::{Field, FieldPointers};
use iso_currency::Currency;
use rappel_core::dates::DateFormat;
use rappel_core::money::parse_currency;
use rappel_core::{DebtItem, ItemKind, RejectedRow};
use serde_json::Value;

/// Turns items into debt items; built once per read.
pub(crate) struct ItemParser<'a> {
    pub(crate) fields: &'a FieldPointers,
    pub(crate) dates: &'a DateFormat,
    pub(crate) currency: Currency,
    pub(crate) default_kind: Option<ItemKind>,
}

/// `an object`, `a string`…: what a JSON value is, for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The values of one item, collecting what is wrong with them.
struct Values<'a> {
    item: &'a Value,
    fields: &'a FieldPointers,
    errors: Vec<String>,
}

impl<'a> Values<'a> {
    /// The field's value; `None` when missing or `null`.
    fn get(&self, field: Field) -> Option<&'a Value> {
        self.item.pointer(&self.fields.get(field)).filter(|v| !v.is_null())
    }

    fn error(&mut self, field: Field, what: impl std::fmt::Display) {
        self.errors.push(format!("{} {what}", self.fields.describe(field)));
    }

    /// A string, or an integer written out; `None` when missing, `null` or empty. Other
    /// values are an error.
    fn text(&mut self, field: Field, integers: bool) -> Option<String> {
        match self.get(field)? {
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) if integers && (n.is_i64() || n.is_u64()) => Some(n.to_string()),
            other => {
                let expected = if integers { "a string or an integer" } else { "a string" };
                self.error(field, format!("is {}, expected {expected}", type_name(other)));
                None
            }
        }
    }

    /// Like `text`, but missing, `null` or empty is an error.
    fn require(&mut self, field: Field, integers: bool) -> Option<String> {
        let before = self.errors.len();
        let text = self.text(field, integers);
        if text.is_none() && self.errors.len() == before {
            let what = match self.item.pointer(&self.fields.get(field)) {
                None => "is missing",
                Some(Value::Null) => "is null",
                Some(_) => "is empty",
            };
            self.error(field, what);
        }
        text
    }
}

impl ItemParser<'_> {
    /// Reads `item`, found at `origin` (`page 2 item 5`).
    pub(crate) fn parse(&self, item: &Value, origin: String) -> Result<DebtItem, RejectedRow> {
        if !item.is_object() {
            return Err(RejectedRow {
                origin,
                debtor_id: None,
                reason: format!("is {}, expected an object", type_name(item)),
            });
        }
        let mut values = Values {
            item,
            fields: self.fields,
            errors: Vec::new(),
        };
        let debtor_id = values.require(Field::DebtorId, true);
        let name = match item.pointer(&self.fields.get(Field::Name)) {
            Some(Value::String(s)) => Some(s.trim().to_string()),
            _ => values.require(Field::Name, false),
        };
        let phone = values.text(Field::Phone, true);
        let email = values.text(Field::Email, false);
        let kind = self.kind(&mut values);
        let reference = values.require(Field::Reference, true);
        let due_date = values.require(Field::DueDate, false).and_then(|text| {
            let date = self.dates.parse(&text);
            if date.is_none() {
                values.error(
                    Field::DueDate,
                    format!("{text:?} is not a date (expected {})", self.dates.expected()),
                );
            }
            date
        });
        let currency = self.currency(&mut values);
        let (amount, paid) = match currency {
            Some(currency) => (
                amount(&mut values, Field::Amount, currency, None),
                amount(&mut values, Field::Paid, currency, Some(0)),
            ),
            None => (None, None),
        };

        match (&debtor_id, name, kind, reference, due_date, amount, paid, currency) {
            (
                Some(id),
                Some(name),
                Some(kind),
                Some(reference),
                Some(due_date),
                Some(amount),
                Some(paid),
                Some(currency),
            ) if values.errors.is_empty() => Ok(DebtItem {
                debtor_id: id.clone(),
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
            _ => Err(RejectedRow {
                origin,
                debtor_id,
                reason: values.errors.join("; "),
            }),
        }
    }

    fn kind(&self, values: &mut Values<'_>) -> Option<ItemKind> {
        let text = match self.default_kind {
            Some(default) => match values.text(Field::Kind, false) {
                Some(text) => text,
                None => return Some(default),
            },
            None => values.require(Field::Kind, false)?,
        };
        let kind = ItemKind::parse(&text);
        if kind.is_none() {
            values.error(Field::Kind, format!("{text:?} is not \"invoice\" or \"manual\""));
        }
        kind
    }

    fn currency(&self, values: &mut Values<'_>) -> Option<Currency> {
        let Some(text) = values.text(Field::Currency, false) else {
            return Some(self.currency);
        };
        let currency = parse_currency(&text);
        if currency.is_none() {
            values.error(
                Field::Currency,
                format!("{text:?} is not an ISO 4217 currency code such as \"XOF\""),
            );
        }
        currency
    }
}

/// Reads an amount field; `if_missing` is the value when it is missing or `null` (`None`:
/// an error).
fn amount(values: &mut Values<'_>, field: Field, currency: Currency, if_missing: Option<i64>) -> Option<i64> {
    match (values.get(field), if_missing) {
        (Some(Value::String(s)), Some(default)) if s.trim().is_empty() => Some(default),
        (Some(value), _) => crate::amount::read(value, currency)
            .map_err(|e| values.error(field, e))
            .ok(),
        (None, Some(default)) => Some(default),
        (None, None) => {
            let what = if values.item.pointer(&values.fields.get(field)).is_some() {
                "is null"
            } else {
                "is missing"
            };
            values.error(field, what);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(item: Value, default_kind: Option<ItemKind>) -> Result<DebtItem, RejectedRow> {
        let fields = FieldPointers::default();
        let dates = DateFormat::new("%d/%m/%Y").unwrap();
        let parser = ItemParser {
            fields: &fields,
            dates: &dates,
            currency: Currency::XOF,
            default_kind,
        };
        parser.parse(&item, "page 1 item 1".into())
    }

    #[test]
    fn reads_numbers_or_strings() {
        let item = parse(
            json!({"debtor_id": 7, "name": "Cheikh ibra", "phone": 771234567, "kind": "facture",
                   "reference": 301, "due_date": "20/11/2025", "amount": "16 000", "paid": 1000.0,
                   "currency": null, "extra": [1, 2]}),
            None,
        )
        .unwrap();
        assert_eq!(
            (item.debtor_id.as_str(), item.phone.as_deref(), item.reference.as_str()),
            ("7", Some("771234567"), "301")
        );
        assert_eq!(
            (item.kind, item.due_date.to_string()),
            (ItemKind::Invoice, "2025-11-20".into())
        );
        assert_eq!(
            (item.amount_minor, item.paid_minor, item.currency),
            (16_000, 1_000, Currency::XOF)
        );
        let item = parse(
            json!({"debtor_id": "3", "name": "", "reference": "17", "due_date": "2025-11-02", "amount": 235000}),
            Some(ItemKind::Manual),
        )
        .unwrap();
        assert_eq!((item.kind, item.name.as_str()), (ItemKind::Manual, ""));
    }

    #[test]
    fn says_what_is_wrong_with_each_field() {
        let error = parse(
            json!({"debtor_id": 1.5, "kind": "loan", "reference": "", "due_date": "2025-02-30",
                   "amount": null, "paid": "abc", "currency": "FCFA", "email": 3}),
            None,
        )
        .unwrap_err();
        assert_eq!(error.debtor_id, None);
        assert_eq!(
            error.reason,
            "debtor_id is a number, expected a string or an integer; name is missing; email is a number, expected a string; \
             kind \"loan\" is not \"invoice\" or \"manual\"; reference is empty; \
             due_date \"2025-02-30\" is not a date (expected %d/%m/%Y or %Y-%m-%d); \
             currency \"FCFA\" is not an ISO 4217 currency code such as \"XOF\""
        );
        let error = parse(
            json!({"debtor_id": "9", "name": "A", "kind": "invoice", "reference": "F",
                                 "due_date": "2025-11-20", "amount": null, "paid": "abc"}),
            None,
        )
        .unwrap_err();
        assert_eq!(error.debtor_id.as_deref(), Some("9"));
        assert_eq!(error.reason, "amount is null; paid \"abc\" is not a number");
        assert_eq!(
            parse(json!("F-1"), None).unwrap_err().reason,
            "is a string, expected an object"
        );
    }
}
