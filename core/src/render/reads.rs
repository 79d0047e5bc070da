//! Which fields of a reminder the registered templates may read, so that the data handed to
//! Handlebars leaves out the ones none of them names. Each field is a key and a value in a
//! JSON map, built and freed for every message (for a list, a map per item): the built-in
//! templates read `invoices` and `manual_debts`, never `items`, and of an item only its
//! reference, due date and remainder (already formatted).
//!
//! The walk is conservative: a field counts as read when its name appears anywhere in an
//! expression of any template, partials included: in a path, a helper's name, parameters or
//! hash, a partial's parameters, or as a whole string literal (the key of `lookup`). A path
//! to a whole context (`this`, `../`, `@root`), which `each` could list, and an element this
//! walker does not know count as reading everything. Only literal text and comments are
//! skipped, which Handlebars never evaluates.

use handlebars::template::{DecoratorTemplate, HelperTemplate, Parameter, TemplateElement};
use handlebars::{Path, Template};

/// A field of [`super::ReminderData`] or of one of its items, by the name templates use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Name,
    DebtorId,
    TotalMinor,
    Total,
    Currency,
    Invoices,
    ManualDebts,
    Items,
    ItemCount,
    MaxDaysOverdue,
    ReminderNumber,
    Locale,
    Kind,
    Reference,
    DueDate,
    AmountMinor,
    Amount,
    PaidMinor,
    Paid,
    RemainingMinor,
    Remaining,
    DaysOverdue,
}

impl Field {
    pub const ALL: [Field; 22] = [
        Field::Name,
        Field::DebtorId,
        Field::TotalMinor,
        Field::Total,
        Field::Currency,
        Field::Invoices,
        Field::ManualDebts,
        Field::Items,
        Field::ItemCount,
        Field::MaxDaysOverdue,
        Field::ReminderNumber,
        Field::Locale,
        Field::Kind,
        Field::Reference,
        Field::DueDate,
        Field::AmountMinor,
        Field::Amount,
        Field::PaidMinor,
        Field::Paid,
        Field::RemainingMinor,
        Field::Remaining,
        Field::DaysOverdue,
    ];

    /// The name templates read it by (the item fields share one namespace with the others:
    /// `currency` is both).
    pub fn name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::DebtorId => "debtor_id",
            Field::TotalMinor => "total_minor",
            Field::Total => "total",
            Field::Currency => "currency",
            Field::Invoices => "invoices",
            Field::ManualDebts => "manual_debts",
            Field::Items => "items",
            Field::ItemCount => "item_count",
            Field::MaxDaysOverdue => "max_days_overdue",
            Field::ReminderNumber => "reminder_number",
            Field::Locale => "locale",
            Field::Kind => "kind",
            Field::Reference => "reference",
            Field::DueDate => "due_date",
            Field::AmountMinor => "amount_minor",
            Field::Amount => "amount",
            Field::PaidMinor => "paid_minor",
            Field::Paid => "paid",
            Field::RemainingMinor => "remaining_minor",
            Field::Remaining => "remaining",
            Field::DaysOverdue => "days_overdue",
        }
    }

    /// Whether each item has this field (`currency`: the reminder too).
    pub fn of_item(self) -> bool {
        matches!(
            self,
            Field::Kind
                | Field::Reference
                | Field::DueDate
                | Field::AmountMinor
                | Field::Amount
                | Field::PaidMinor
                | Field::Paid
                | Field::RemainingMinor
                | Field::Remaining
                | Field::Currency
                | Field::DaysOverdue
        )
    }

    /// Whether the reminder itself has this field.
    pub fn of_reminder(self) -> bool {
        !self.of_item() || self == Field::Currency
    }

    /// Whether it is a list of items (what `#each` walks).
    pub fn is_list(self) -> bool {
        matches!(self, Field::Invoices | Field::ManualDebts | Field::Items)
    }

    /// Whether it is a whole number (a JSON number, not text).
    pub fn is_number(self) -> bool {
        matches!(
            self,
            Field::TotalMinor
                | Field::ItemCount
                | Field::MaxDaysOverdue
                | Field::ReminderNumber
                | Field::AmountMinor
                | Field::PaidMinor
                | Field::RemainingMinor
                | Field::DaysOverdue
        )
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// The fields of [`super::ReminderData`] and of its items that templates may read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Reads(u32);

impl Reads {
    /// Every field, for data rendered by templates nobody walked.
    pub const ALL: Reads = Reads(u32::MAX);

    /// What `templates` may read, together.
    pub fn of<'t>(templates: impl IntoIterator<Item = &'t Template> + Clone) -> Self {
        let named = |name: &str| templates.clone().into_iter().any(|t| template_names(t, name));
        Reads(
            Field::ALL
                .into_iter()
                .filter(|f| named(f.name()))
                .fold(0, |bits, f| bits | f.bit()),
        )
    }

    /// Whether `field` may be read.
    pub fn has(self, field: Field) -> bool {
        self.0 & field.bit() != 0
    }
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(Field::ALL.into_iter().filter(|&field| self.has(field)).map(Field::name))
            .finish()
    }
}

fn template_names(template: &Template, name: &str) -> bool {
    template.elements.iter().any(|e| element_names(e, name))
}

fn element_names(element: &TemplateElement, name: &str) -> bool {
    match element {
        TemplateElement::RawString(_) | TemplateElement::Comment(_) => false,
        TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) | TemplateElement::HelperBlock(h) => {
            helper_names(h, name)
        }
        TemplateElement::DecoratorExpression(d)
        | TemplateElement::DecoratorBlock(d)
        | TemplateElement::PartialExpression(d)
        | TemplateElement::PartialBlock(d) => decorator_names(d, name),
        _ => true,
    }
}

fn helper_names(h: &HelperTemplate, name: &str) -> bool {
    parameter_names(&h.name, name)
        || h.params.iter().any(|p| parameter_names(p, name))
        || h.hash.values().any(|p| parameter_names(p, name))
        || [&h.template, &h.inverse]
            .into_iter()
            .flatten()
            .any(|t| template_names(t, name))
}

fn decorator_names(d: &DecoratorTemplate, name: &str) -> bool {
    parameter_names(&d.name, name)
        || d.params.iter().any(|p| parameter_names(p, name))
        || d.hash.values().any(|p| parameter_names(p, name))
        || d.template.as_ref().is_some_and(|t| template_names(t, name))
}

fn parameter_names(parameter: &Parameter, name: &str) -> bool {
    match parameter {
        Parameter::Name(n) => segment_is(n, name) || whole_context(n),
        Parameter::Path(Path::Relative((_, raw)) | Path::Local((_, _, raw))) => {
            segment_is(raw, name) || whole_context(raw)
        }
        // A literal is a key only where a helper looks it up (`lookup this "items"`): as a
        // whole string, never inside a sentence (`plural n "overdue item" "overdue items"`).
        Parameter::Literal(value) => literal_is(value, name),
        Parameter::Subexpression(s) => element_names(s.as_element(), name),
        _ => true,
    }
}

/// Whether a segment of `path` is `name` (`items.[0].remaining`, `../remaining`): the text
/// between two characters that cannot be part of a field's name. `remaining_minor` does not
/// name `remaining`.
fn segment_is(path: &str, name: &str) -> bool {
    path.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|segment| segment == name)
}

/// Whether `path` names a whole context (`this`, `./this`, `../`, `@root`) rather than one of its
/// fields: `{{#each this}}` at the top would list every field, so it counts as reading all.
fn whole_context(path: &str) -> bool {
    path.split(['/', '.'])
        .all(|segment| matches!(segment, "" | "this" | ".." | "@root"))
}

/// Whether `value` is, or holds, the string `name`.
fn literal_is(value: &serde_json::Value, name: &str) -> bool {
    match value {
        serde_json::Value::String(s) => s == name,
        serde_json::Value::Array(values) => values.iter().any(|v| literal_is(v, name)),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k == name || literal_is(v, name)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(source: &str) -> Reads {
        Reads::of([&Template::compile(source).unwrap()])
    }

    #[test]
    fn a_list_named_anywhere_in_an_expression_is_read() {
        for source in [
            "{{#each items}}{{reference}}{{/each}}",
            "{{items.0.reference}}",
            "{{items.[0].reference}}",
            "{{@root.items.length}}",
            "{{#with this}}{{#each ../items}}x{{/each}}{{/with}}",
            "{{lookup this \"items\"}}",
            "{{#if (lookup this \"items\")}}x{{/if}}",
            "{{plural (lookup this \"items\") \"a\" \"b\"}}",
            "{{money total_minor currency locale=(lookup this \"items\")}}",
            "{{#each invoices}}{{#each ../items}}x{{/each}}{{/each}}",
            "{{#if invoices}}{{else}}{{#each items}}x{{/each}}{{/if}}",
            "{{> (lookup this \"items\")}}",
            "{{#each this}}{{@key}}{{/each}}",
            "{{#each ./this}}{{@key}}{{/each}}",
            "{{#with @root}}{{#each this}}x{{/each}}{{/with}}",
            "{{#each invoices}}{{#each ../this}}x{{/each}}{{/each}}",
        ] {
            assert!(reads(source).has(Field::Items), "{source}");
        }
    }

    fn names(reads: Reads) -> Vec<&'static str> {
        Field::ALL
            .into_iter()
            .filter(|&f| reads.has(f))
            .map(Field::name)
            .collect()
    }

    #[test]
    fn text_comments_and_words_of_a_sentence_are_not_reads() {
        let r = reads(concat!(
            "items, invoices and manual_debts {{! items }}{{!-- invoices --}} \\{{items}} {{name}}",
            "{{plural item_count \"overdue item\" \"overdue items\"}}",
        ));
        assert_eq!(names(r), ["name", "item_count"]);
    }

    #[test]
    fn an_item_field_is_read_where_a_template_names_it_or_lists_a_whole_item() {
        let r = reads("{{#each invoices as |i|}}{{i.reference}} {{money remaining_minor currency}}{{/each}}");
        assert_eq!(names(r), ["currency", "invoices", "reference", "remaining_minor"]);
        let r = reads("{{#each invoices}}{{#each this}}{{@key}}={{this}} {{/each}}{{/each}}");
        assert_eq!(names(r), names(Reads::ALL));
        assert_eq!(
            names(reads("{{lookup (lookup invoices 0) \"days_overdue\"}}")),
            ["invoices", "days_overdue"]
        );
        assert_eq!(
            names(reads(
                "{{invoices.[0].remaining}} {{[total]}} {{../paid}} {{@root.items.0.amount}}"
            )),
            ["total", "invoices", "items", "amount", "paid", "remaining"]
        );
    }

    #[test]
    fn the_built_in_templates_read_the_lists_by_kind_and_three_fields_of_an_item() {
        let renderer = super::super::Renderer::new("en", None).unwrap();
        assert_eq!(
            names(renderer.reads),
            [
                "name",
                "total",
                "invoices",
                "manual_debts",
                "item_count",
                "reference",
                "due_date",
                "remaining"
            ]
        );
    }
}
