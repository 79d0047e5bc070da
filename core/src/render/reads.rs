//! Which of a reminder's lists the registered templates may read, so that the data handed to
//! Handlebars leaves out the ones none of them names. Building a list's JSON costs a map and
//! its keys per item: the built-in templates read `invoices` and `manual_debts`, never
//! `items`, and leaving `items` out saves about 5 % of a `preview`'s instructions.
//!
//! The walk is conservative: a list counts as read when its name appears anywhere in an
//! expression of any template, partials included: in a path, a helper's name, parameters or
//! hash, a partial's parameters, or as a whole string literal (the key of `lookup`). A path
//! to a whole context (`this`, `../`, `@root`), which `each` could list, and an element this
//! walker does not know count as reading everything. Only literal text and comments are
//! skipped, which Handlebars never evaluates.

use handlebars::template::{DecoratorTemplate, HelperTemplate, Parameter, TemplateElement};
use handlebars::{Path, Template};

/// The lists of [`super::ReminderData`] that templates may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reads {
    /// `items`: every overdue item.
    pub items: bool,
    /// `invoices`: the overdue invoices.
    pub invoices: bool,
    /// `manual_debts`: the overdue manual debts.
    pub manual_debts: bool,
}

impl Reads {
    /// Every list, for data rendered by templates nobody walked.
    pub const ALL: Reads = Reads {
        items: true,
        invoices: true,
        manual_debts: true,
    };

    /// What `templates` may read, together.
    pub fn of<'t>(templates: impl IntoIterator<Item = &'t Template> + Clone) -> Self {
        let named = |name: &str| templates.clone().into_iter().any(|t| template_names(t, name));
        Self {
            items: named("items"),
            invoices: named("invoices"),
            manual_debts: named("manual_debts"),
        }
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
        Parameter::Name(n) => n.contains(name) || whole_context(n),
        Parameter::Path(Path::Relative((_, raw)) | Path::Local((_, _, raw))) => {
            raw.contains(name) || whole_context(raw)
        }
        // A literal is a key only where a helper looks it up (`lookup this "items"`): as a
        // whole string, never inside a sentence (`plural n "overdue item" "overdue items"`).
        Parameter::Literal(value) => literal_is(value, name),
        Parameter::Subexpression(s) => element_names(s.as_element(), name),
        _ => true,
    }
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
            assert!(reads(source).items, "{source}");
        }
    }

    #[test]
    fn text_comments_and_words_of_a_sentence_are_not_reads() {
        let r = reads(concat!(
            "items, invoices and manual_debts {{! items }}{{!-- invoices --}} \\{{items}} {{name}}",
            "{{plural item_count \"overdue item\" \"overdue items\"}}",
        ));
        assert_eq!(
            r,
            Reads {
                items: false,
                invoices: false,
                manual_debts: false
            }
        );
    }

    #[test]
    fn the_built_in_templates_read_the_lists_by_kind_only() {
        let renderer = super::super::Renderer::new("en", None).unwrap();
        assert_eq!(
            renderer.reads,
            Reads {
                items: false,
                invoices: true,
                manual_debts: true
            }
        );
    }
}
