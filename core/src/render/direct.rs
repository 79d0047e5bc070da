//! Templates written straight from [`ReminderData`]: those Handlebars would render with
//! nothing but text, fields, `if`, `unless` and `each` — every built-in template. Handlebars
//! first turns the data into JSON (a map per message, one per item) and then looks each name up
//! in it; a plan of this module walks the template Handlebars compiled and reads the fields
//! themselves. Anything else (a helper, a partial, `this`, `@index`, `../`, a hash, a name that
//! is not a field where it stands) leaves the whole template to Handlebars, which then gives
//! the same text, or the same strict-mode error, as before. The tests compare both on random
//! data for every built-in template and for templates written to reach each case.
//!
//! Whitespace control (`~`) and standalone lines are settled when Handlebars compiles the
//! template, in its text, so they come out the same.

use super::helpers;
use super::reads::Field;
use super::{ItemData, ReminderData};
use crate::debt::ItemKind;
use handlebars::template::{HelperTemplate, Parameter, TemplateElement};
use handlebars::{Path, PathSeg, Template};

/// A template compiled for [`ReminderData`].
#[derive(Debug)]
pub(super) struct Direct {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Text(String),
    /// `{{field}}`, HTML-escaped in the `*.html` templates; `{{{field}}}` never is.
    Value {
        field: Field,
        escape: bool,
    },
    /// `{{plural count "singular" "plural"}}` (see [`super::helpers::Plural`]), never escaped.
    Plural {
        count: Field,
        one: String,
        many: String,
    },
    /// `#if` (or `#unless`, `negate`), with its `else`.
    If {
        field: Field,
        negate: bool,
        then: Vec<Part>,
        otherwise: Vec<Part>,
    },
    /// `#each` over one of the lists, with its `else` (for an empty list).
    Each {
        list: Field,
        body: Vec<Part>,
        otherwise: Vec<Part>,
    },
}

/// Where a name is looked up: the reminder, or one item inside `#each`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Reminder,
    Item,
}

impl Direct {
    /// The plan for `template`, or `None` when it uses more than this module writes.
    /// `escape`: whether the registry HTML-escapes values.
    pub fn compile(template: &Template, escape: bool) -> Option<Self> {
        Some(Self {
            parts: parts(template, Scope::Reminder, escape)?,
        })
    }

    /// The text, trailing whitespace removed (as [`super::Renderer`] does for Handlebars').
    pub fn render(&self, data: &ReminderData, locale: &str) -> String {
        let mut out = String::with_capacity(512);
        let at = At {
            data,
            item: None,
            locale,
        };
        write_parts(&self.parts, at, &mut out);
        out.truncate(out.trim_end().len());
        out
    }
}

fn parts(template: &Template, scope: Scope, escape: bool) -> Option<Vec<Part>> {
    let mut parts = Vec::with_capacity(template.elements.len());
    for element in &template.elements {
        parts.extend(part(element, scope, escape)?);
    }
    Some(parts)
}

/// The part for `element`: `Some(None)` for nothing to write (a comment), `None` when the
/// template is left to Handlebars.
fn part(element: &TemplateElement, scope: Scope, escape: bool) -> Option<Option<Part>> {
    Some(match element {
        TemplateElement::RawString(text) => Some(Part::Text(text.clone())),
        TemplateElement::Comment(_) => None,
        TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) if plain(h) => {
            let field = field(&h.name, scope).filter(|&f| !f.is_list())?;
            let escape = escape && matches!(element, TemplateElement::Expression(_));
            Some(Part::Value { field, escape })
        }
        TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => plural(h, scope)?,
        TemplateElement::HelperBlock(h) => block(h, scope, escape)?,
        _ => return None,
    })
}

/// `{{plural count "singular" "plural"}}`, the count a number field.
fn plural(h: &HelperTemplate, scope: Scope) -> Option<Option<Part>> {
    let literal = |p: &Parameter| match p {
        Parameter::Literal(serde_json::Value::String(text)) => Some(text.clone()),
        _ => None,
    };
    match (&h.name, h.params.as_slice()) {
        (Parameter::Name(helper), [count, one, many]) if helper == "plural" && !h.block && h.hash.is_empty() => {
            let count = field(count, scope).filter(|&f| f.is_number())?;
            Some(Some(Part::Plural {
                count,
                one: literal(one)?,
                many: literal(many)?,
            }))
        }
        _ => None,
    }
}

/// `{{name}}`: no parameters, no hash, not a block.
fn plain(h: &HelperTemplate) -> bool {
    !h.block && h.params.is_empty() && h.hash.is_empty()
}

/// `{{#if field}}`, `{{#unless field}}`, `{{#each list}}`, with or without `{{else}}`.
fn block(h: &HelperTemplate, scope: Scope, escape: bool) -> Option<Option<Part>> {
    let Parameter::Name(helper) = &h.name else {
        return None;
    };
    if !h.hash.is_empty() || h.block_param.is_some() {
        return None;
    }
    let [param] = h.params.as_slice() else {
        return None;
    };
    let field = field(param, scope)?;
    let inner = |t: &Option<Template>, scope| match t {
        Some(t) => parts(t, scope, escape),
        None => Some(Vec::new()),
    };
    Some(Some(match helper.as_str() {
        "if" | "unless" => Part::If {
            field,
            negate: helper == "unless",
            then: inner(&h.template, scope)?,
            otherwise: inner(&h.inverse, scope)?,
        },
        // Handlebars writes nothing at all for a block without a body, `else` included.
        "each" if h.template.is_none() => return Some(None),
        "each" if field.is_list() => Part::Each {
            list: field,
            body: inner(&h.template, Scope::Item)?,
            otherwise: inner(&h.inverse, scope)?,
        },
        _ => return None,
    }))
}

/// The field a parameter names in `scope`: one plain segment (`name`, `[name]`), nothing else.
fn field(param: &Parameter, scope: Scope) -> Option<Field> {
    let Parameter::Path(Path::Relative((segments, _))) = param else {
        return None;
    };
    let [PathSeg::Named(name)] = segments.as_slice() else {
        return None;
    };
    let in_scope = |f: Field| match scope {
        Scope::Reminder => f.of_reminder(),
        Scope::Item => f.of_item(),
    };
    Field::ALL.into_iter().find(|&f| f.name() == name && in_scope(f))
}

/// What names are read from: the reminder, and the item inside `#each`.
#[derive(Clone, Copy)]
struct At<'a> {
    data: &'a ReminderData,
    item: Option<&'a ItemData>,
    locale: &'a str,
}

fn write_parts(parts: &[Part], at: At, out: &mut String) {
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Value { field, escape } => write_value(*field, at, *escape, out),
            Part::Plural { count, one, many } => {
                // As the helper reads it: a JSON number, as a float.
                let n = match value(*count, at) {
                    Value::Number(n) => n as f64,
                    _ => 0.0,
                };
                out.push_str(if helpers::singular(n, at.locale) { one } else { many });
            }
            Part::If {
                field,
                negate,
                then,
                otherwise,
            } => {
                let branch = if truthy(*field, at) != *negate { then } else { otherwise };
                write_parts(branch, at, out);
            }
            Part::Each { list, body, otherwise } => {
                let mut items = items(*list, at.data).peekable();
                if items.peek().is_none() {
                    write_parts(otherwise, at, out);
                }
                for item in items {
                    write_parts(body, At { item: Some(item), ..at }, out);
                }
            }
        }
    }
}

fn items(list: Field, data: &ReminderData) -> impl Iterator<Item = &ItemData> {
    let kind = match list {
        Field::Invoices => Some(ItemKind::Invoice),
        Field::ManualDebts => Some(ItemKind::Manual),
        _ => None,
    };
    data.items.iter().filter(move |i| kind.is_none_or(|k| i.kind == k))
}

/// A field's value as Handlebars would write it from the JSON.
enum Value<'a> {
    Text(&'a str),
    Owned(String),
    Number(i64),
}

fn value<'a>(field: Field, at: At<'a>) -> Value<'a> {
    let d = at.data;
    let money = |minor, currency| Value::Owned(crate::money::format_minor_code(minor, currency, at.locale));
    match (at.item, field) {
        (Some(i), Field::Kind) => Value::Text(match i.kind {
            ItemKind::Invoice => "invoice",
            ItemKind::Manual => "manual",
        }),
        (Some(i), Field::Reference) => Value::Text(&i.reference),
        (Some(i), Field::DueDate) => Value::Text(&i.due_date),
        (Some(i), Field::AmountMinor) => Value::Number(i.amount_minor),
        (Some(i), Field::Amount) => money(i.amount_minor, &i.currency),
        (Some(i), Field::PaidMinor) => Value::Number(i.paid_minor),
        (Some(i), Field::Paid) => money(i.paid_minor, &i.currency),
        (Some(i), Field::RemainingMinor) => Value::Number(i.remaining_minor),
        (Some(i), Field::Remaining) => money(i.remaining_minor, &i.currency),
        (Some(i), Field::Currency) => Value::Text(&i.currency),
        (Some(i), Field::DaysOverdue) => Value::Number(i.days_overdue),
        (_, Field::Name) => Value::Text(&d.name),
        (_, Field::DebtorId) => Value::Text(&d.debtor_id),
        (_, Field::TotalMinor) => Value::Number(d.total_minor),
        (_, Field::Total) => money(d.total_minor, &d.currency),
        (_, Field::Currency) => Value::Text(&d.currency),
        (_, Field::ItemCount) => Value::Number(d.item_count as i64),
        (_, Field::MaxDaysOverdue) => Value::Number(d.max_days_overdue),
        (_, Field::ReminderNumber) => Value::Number(i64::from(d.reminder_number)),
        (_, Field::Locale) => Value::Text(&d.locale),
        // Compiled only in their scope: lists as `#if`/`#each` parameters, item fields in
        // `#each`.
        _ => Value::Text(""),
    }
}

fn write_value(field: Field, at: At, escape: bool, out: &mut String) {
    let value = value(field, at);
    let text = match value {
        Value::Text(text) => text,
        Value::Owned(ref text) => text,
        Value::Number(n) => {
            out.push_str(itoa::Buffer::new().format(n));
            return;
        }
    };
    if escape {
        out.push_str(&handlebars::html_escape(text));
    } else {
        out.push_str(text);
    }
}

/// Handlebars' truth: a non-empty text or list, a number other than 0.
fn truthy(field: Field, at: At) -> bool {
    if field.is_list() {
        return items(field, at.data).next().is_some();
    }
    match value(field, at) {
        Value::Text(text) => !text.is_empty(),
        Value::Owned(text) => !text.is_empty(),
        Value::Number(n) => n != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ItemData, ReminderData, Renderer};
    use crate::channel::Medium;
    use crate::debt::ItemKind;
    use proptest::prelude::*;

    /// Templates that reach every case this module writes, under `fr/<medium>/<name>`.
    const WRITTEN: &[(&str, &str)] = &[
        (
            "sms/fields",
            "{{name}}|{{debtor_id}}|{{total_minor}}|{{total}}|{{currency}}|{{item_count}}|{{max_days_overdue}}|\
             {{reminder_number}}|{{locale}}|{{#each items}}{{kind}} {{reference}} {{due_date}} {{amount_minor}} \
             {{amount}} {{paid_minor}} {{paid}} {{remaining_minor}} {{remaining}} {{currency}} {{days_overdue}};{{/each}}",
        ),
        (
            "sms/branches",
            "{{#if name}}N{{else}}no name{{/if}} {{#unless invoices}}no invoice{{/unless}} \
             {{#each manual_debts}}{{reference}}{{else}}no manual debt{{/each}} \
             {{#each invoices}}{{#if paid_minor}}paid {{paid}}{{else if days_overdue}}late {{days_overdue}}\
             {{else}}due{{/if}} {{#unless kind}}never{{/unless}}{{/each}} {{#if items}}{{item_count}}{{/if}}\
             {{#if total_minor}}T{{/if}}{{#if max_days_overdue}}M{{/if}}",
        ),
        (
            "sms/layout",
            "  {{~name~}}  \n\n{{! a comment }}{{!-- another --}}\n{{#each items~}}\n   {{[reference]}}\n{{~/each}}\n\
             {{#if invoices}}\n  standalone\n{{/if}}\n{{{name}}} \\{{name}}\n{{#each invoices}}{{/each}}\
             {{#each items}}{{else}}none{{/each}}   \n\n",
        ),
        (
            "email/escaped",
            "{{plural item_count \"one <b>\" \"many <b>\"}} {{#each items}}{{plural days_overdue \"d\" \"ds\"}} \
             {{plural paid_minor \"p\" \"ps\"}}{{/each}} {{plural total_minor \"t\" \"ts\"}}",
        ),
        (
            "email/escaped.html",
            "<p>{{name}} {{{name}}} {{plural item_count \"<i>\" \"<b>\"}} {{#each items}}<td>{{reference}}</td><td>{{{reference}}}</td>{{/each}}</p>",
        ),
    ];

    /// Templates left to Handlebars: a helper, `@index`, `this`, a hash, a name that is not
    /// a field where it stands, a list written as a value, a partial, a parent path.
    const LEFT: &[&str] = &[
        "{{money total_minor currency}}",
        "{{plural name \"a\" \"b\"}}",
        "{{plural item_count \"a\" name}}",
        "{{plural item_count \"a\" \"b\" locale=\"en\"}}",
        "{{#each items}}{{@index}}{{/each}}",
        "{{#each items}}{{this}}{{/each}}",
        "{{#if total_minor includeZero=true}}x{{/if}}",
        "{{#each invoices}}{{name}}{{/each}}",
        "{{reference}}",
        "{{invoices}}",
        "{{nom}}",
        "{{> other}}",
        "{{#each invoices}}{{../name}}{{/each}}",
        "{{#each invoices as |i|}}{{i.reference}}{{/each}}",
        "{{#with items}}x{{/with}}",
        "{{items.0.reference}}",
        "{{#each total_minor}}x{{/each}}",
    ];

    fn renderers(locale: &str) -> (Renderer, Renderer, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        for (name, source) in WRITTEN {
            let path = dir.path().join(locale).join(format!("{name}.hbs"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, source).unwrap();
        }
        let direct = Renderer::new(locale, Some(dir.path())).unwrap();
        let mut handlebars = Renderer::new(locale, Some(dir.path())).unwrap();
        handlebars.direct.clear();
        (direct, handlebars, dir)
    }

    #[test]
    fn every_built_in_template_and_the_written_cases_are_written_directly() {
        for locale in ["fr", "en"] {
            let (r, _, _dir) = renderers(locale);
            let names = r.hbs.get_templates().keys().chain(r.html.get_templates().keys());
            for name in names {
                assert!(r.direct.contains_key(name), "{name} is left to Handlebars");
            }
        }
    }

    #[test]
    fn what_this_module_does_not_write_is_left_to_handlebars() {
        for source in LEFT {
            let template = handlebars::Template::compile(source).unwrap();
            assert!(super::Direct::compile(&template, false).is_none(), "{source}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("fr/sms")).unwrap();
        std::fs::write(dir.path().join("fr/sms/reminder.hbs"), "Bonjour {{nom}}").unwrap();
        let r = Renderer::new("fr", Some(dir.path())).unwrap();
        assert!(!r.direct.contains_key("fr/sms/reminder"));
        let data = ReminderData {
            name: "Awa".into(),
            debtor_id: "1".into(),
            total_minor: 0,
            currency: "XOF".into(),
            items: Vec::new(),
            item_count: 0,
            max_days_overdue: 0,
            reminder_number: 1,
            locale: "fr".into(),
        };
        let err = r.render_reminder(Medium::Sms, &data).unwrap_err();
        assert!(
            err.to_string().contains("fr/sms/reminder"),
            "Handlebars' strict error: {err}"
        );
    }

    fn item() -> impl Strategy<Value = ItemData> {
        (
            any::<bool>(),
            "[A-Za-z0-9 <>&\"'{}é-]{0,8}",
            prop_oneof![Just(0i64), -1_000i64..1_000_000_000],
            prop_oneof![Just(0i64), 0i64..1_000_000],
            prop::sample::select(vec!["XOF", "EUR", "USD"]),
            prop_oneof![Just(0i64), -5i64..400],
        )
            .prop_map(|(invoice, reference, amount, paid, currency, days)| ItemData {
                kind: if invoice { ItemKind::Invoice } else { ItemKind::Manual },
                reference,
                due_date: "2025-11-20".into(),
                amount_minor: amount,
                paid_minor: paid,
                remaining_minor: amount - paid,
                currency: currency.into(),
                days_overdue: days,
            })
    }

    fn reminder() -> impl Strategy<Value = ReminderData> {
        (
            "[A-Za-z <>&\"'{}é]{0,12}",
            prop::collection::vec(item(), 0..5),
            prop::sample::select(vec!["XOF", "EUR", "USD"]),
            0u32..4,
        )
            .prop_map(|(name, items, currency, reminder_number)| ReminderData {
                name,
                debtor_id: "D-7".into(),
                total_minor: items.iter().map(|i| i.remaining_minor).sum(),
                currency: currency.into(),
                item_count: items.len(),
                max_days_overdue: items.iter().map(|i| i.days_overdue).max().unwrap_or(0),
                items,
                reminder_number,
                locale: "fr".into(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn writes_what_handlebars_writes(data in reminder(), english in any::<bool>()) {
            let (direct, handlebars, _dir) = renderers(if english { "en" } else { "fr" });
            let mut messages: Vec<(Medium, String)> = Vec::new();
            for medium in [Medium::Sms, Medium::Whatsapp, Medium::Email] {
                for template in ["reminder", "reminder-firm", "reminder-large"] {
                    messages.push((medium, template.into()));
                }
            }
            for (name, _) in WRITTEN {
                let (medium, template) = name.split_once('/').unwrap();
                if !template.ends_with(".html") {
                    let medium = if medium == "sms" { Medium::Sms } else { Medium::Email };
                    messages.push((medium, template.into()));
                }
            }
            for (medium, template) in messages {
                let ours = direct.render_message(medium, &template, &data).unwrap();
                let theirs = handlebars.render_message(medium, &template, &data).unwrap();
                prop_assert_eq!(ours, theirs, "{:?} {}", medium, template);
            }
        }
    }
}
