//! Messages from Handlebars templates: registered once at start-up, strict mode, no HTML
//! escaping (SMS, WhatsApp and text email are plain text). Debtor values are data, never
//! template source, so a `{{` in a name stays text. Templates made only of text, fields,
//! `if`, `unless`, `each` and `plural` (the built-in ones) are written straight from the data
//! with the same result (`direct`); the others by Handlebars.

mod builtin;
mod direct;
mod helpers;
mod reads;

use crate::channel::Medium;
use crate::debt::{DebtItem, Debtor, ItemKind};
use chrono::NaiveDate;
use handlebars::{Context, Handlebars};
use reads::{Field, Reads};
use serde::Serialize;
use serde::ser::SerializeStruct;
use std::path::{Path, PathBuf};

/// A template that cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The templates folder cannot be read.
    #[error("templates folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A template does not compile.
    #[error("template {name}: {source}")]
    Syntax {
        /// The template's file or built-in name.
        name: String,
        /// The parse error, with line and column.
        #[source]
        source: Box<handlebars::TemplateError>,
    },
    /// No template for a locale and medium.
    #[error("no template \"{0}\" (looked in the built-in templates and [templates] dir)")]
    Missing(String),
}

/// A template that fails on this data (strict mode: a missing variable).
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct RenderError {
    /// The template.
    pub name: String,
    /// What went wrong.
    #[source]
    pub source: Box<handlebars::RenderError>,
}

/// One item as templates see it (serialized by `ItemView`, which leaves out the fields no
/// template reads).
#[derive(Debug, Clone)]
pub struct ItemData {
    /// `invoice` or `manual`.
    pub kind: ItemKind,
    /// Invoice number or debt reference.
    pub reference: String,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Paid so far, minor units.
    pub paid_minor: i64,
    /// Still owed, minor units.
    pub remaining_minor: i64,
    /// ISO code.
    pub currency: String,
    /// Days since the due date.
    pub days_overdue: i64,
}

/// Everything a reminder template can use: the fields below; `invoices` and `manual_debts`,
/// the overdue items of each kind (written from `items`, not kept twice); and the amounts
/// written as `{{money}}` writes them in the renderer's locale (`127 000 XOF`): `total`, and
/// of an item `amount`, `paid` and `remaining` (formatted only when a template reads them).
#[derive(Debug, Clone)]
pub struct ReminderData {
    /// The client's name.
    pub name: String,
    /// The client's id in the source.
    pub debtor_id: String,
    /// Overdue total, minor units.
    pub total_minor: i64,
    /// ISO code of the total.
    pub currency: String,
    /// All overdue items.
    pub items: Vec<ItemData>,
    /// `items.len()`.
    pub item_count: usize,
    /// Days overdue of the oldest item.
    pub max_days_overdue: i64,
    /// The reminder's number in its cycle (1 for the first).
    pub reminder_number: u32,
    /// The locale.
    pub locale: String,
}

impl Serialize for ReminderData {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        View {
            data: self,
            reads: Reads::ALL,
            locale: &self.locale,
        }
        .serialize(serializer)
    }
}

/// The data as the templates see it: without the fields none of them reads.
struct View<'a> {
    data: &'a ReminderData,
    reads: Reads,
    /// The locale amounts are written in (`total`, an item's `remaining`…).
    locale: &'a str,
}

/// Writes `value` as `field` when a template may read it.
fn field<S: SerializeStruct, T: Serialize + ?Sized>(
    out: &mut S,
    reads: Reads,
    field: Field,
    value: &T,
) -> Result<(), S::Error> {
    if reads.has(field) {
        out.serialize_field(field.name(), value)
    } else {
        out.skip_field(field.name())
    }
}

/// An amount as `{{money}}` writes it (`127 000 XOF`), formatted only when a template reads it.
struct FormattedAmount<'a> {
    minor: i64,
    currency: &'a str,
    locale: &'a str,
}

impl Serialize for FormattedAmount<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::money::format_minor_code(self.minor, self.currency, self.locale))
    }
}

impl Serialize for View<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (d, reads, locale) = (self.data, self.reads, self.locale);
        let items = |kind: Option<ItemKind>| Items {
            items: &d.items,
            kind,
            reads,
            locale,
        };
        let total = FormattedAmount {
            minor: d.total_minor,
            currency: &d.currency,
            locale,
        };
        let mut out = serializer.serialize_struct("ReminderData", 12)?;
        field(&mut out, reads, Field::Name, &d.name)?;
        field(&mut out, reads, Field::DebtorId, &d.debtor_id)?;
        field(&mut out, reads, Field::TotalMinor, &d.total_minor)?;
        field(&mut out, reads, Field::Total, &total)?;
        field(&mut out, reads, Field::Currency, &d.currency)?;
        field(&mut out, reads, Field::Invoices, &items(Some(ItemKind::Invoice)))?;
        field(&mut out, reads, Field::ManualDebts, &items(Some(ItemKind::Manual)))?;
        field(&mut out, reads, Field::Items, &items(None))?;
        field(&mut out, reads, Field::ItemCount, &d.item_count)?;
        field(&mut out, reads, Field::MaxDaysOverdue, &d.max_days_overdue)?;
        field(&mut out, reads, Field::ReminderNumber, &d.reminder_number)?;
        field(&mut out, reads, Field::Locale, &d.locale)?;
        out.end()
    }
}

/// The items of one kind (or all), as a list.
struct Items<'a> {
    items: &'a [ItemData],
    kind: Option<ItemKind>,
    reads: Reads,
    locale: &'a str,
}

impl Serialize for Items<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let of_kind = |i: &&ItemData| self.kind.is_none_or(|kind| i.kind == kind);
        serializer.collect_seq(self.items.iter().filter(of_kind).map(|item| ItemView {
            item,
            reads: self.reads,
            locale: self.locale,
        }))
    }
}

/// One item as the templates see it.
struct ItemView<'a> {
    item: &'a ItemData,
    reads: Reads,
    locale: &'a str,
}

impl Serialize for ItemView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (i, reads) = (self.item, self.reads);
        let amount = |minor| FormattedAmount {
            minor,
            currency: &i.currency,
            locale: self.locale,
        };
        let mut out = serializer.serialize_struct("ItemData", 11)?;
        field(&mut out, reads, Field::Kind, &i.kind)?;
        field(&mut out, reads, Field::Reference, &i.reference)?;
        field(&mut out, reads, Field::DueDate, &i.due_date)?;
        field(&mut out, reads, Field::AmountMinor, &i.amount_minor)?;
        field(&mut out, reads, Field::Amount, &amount(i.amount_minor))?;
        field(&mut out, reads, Field::PaidMinor, &i.paid_minor)?;
        field(&mut out, reads, Field::Paid, &amount(i.paid_minor))?;
        field(&mut out, reads, Field::RemainingMinor, &i.remaining_minor)?;
        field(&mut out, reads, Field::Remaining, &amount(i.remaining_minor))?;
        field(&mut out, reads, Field::Currency, &i.currency)?;
        field(&mut out, reads, Field::DaysOverdue, &i.days_overdue)?;
        out.end()
    }
}

impl ReminderData {
    /// The data for `debtor`'s overdue items on `today`.
    pub fn new(debtor: &Debtor, overdue: &[&DebtItem], today: NaiveDate, reminder_number: u32, locale: &str) -> Self {
        let items: Vec<ItemData> = overdue
            .iter()
            .map(|i| ItemData {
                kind: i.kind,
                reference: i.reference.clone(),
                due_date: i.due_date.to_string(), // `%Y-%m-%d`
                amount_minor: i.amount_minor,
                paid_minor: i.paid_minor,
                remaining_minor: i.remaining_minor(),
                currency: i.currency.code().to_string(),
                days_overdue: i.days_overdue(today),
            })
            .collect();
        Self {
            name: debtor.name.clone(),
            debtor_id: debtor.id.clone(),
            total_minor: items.iter().map(|i| i.remaining_minor).sum(),
            currency: debtor.currency.code().to_string(),
            item_count: items.len(),
            max_days_overdue: items.iter().map(|i| i.days_overdue).max().unwrap_or(0),
            items,
            reminder_number,
            locale: locale.to_string(),
        }
    }
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The template used (`fr/sms/reminder`).
    pub template: String,
    /// The subject, for email.
    pub subject: Option<String>,
    /// The body, trailing whitespace removed.
    pub body: String,
    /// The HTML body, for email when a `reminder.html` template exists.
    pub html: Option<String>,
}

/// The template registries, built once: plain text without escaping, and HTML (templates
/// named `*.html.hbs`) where every value is HTML-escaped.
pub struct Renderer {
    hbs: Handlebars<'static>,
    html: Handlebars<'static>,
    locale: String,
    /// Each template's source and where it came from, for checks on the text itself.
    sources: std::collections::HashMap<String, (String, String)>,
    /// The fields any template may read; the others are left out of the data.
    reads: Reads,
    /// The templates written straight from the data, without Handlebars (all the built-in
    /// ones; see [`direct`]), by name.
    direct: std::collections::HashMap<String, direct::Direct>,
}

fn registry(locale: &str, escape: bool) -> Handlebars<'static> {
    let mut hbs = Handlebars::new();
    hbs.set_strict_mode(true);
    if !escape {
        hbs.register_escape_fn(handlebars::no_escape);
    }
    hbs.register_helper(
        "money",
        Box::new(helpers::Money {
            locale: locale.to_string(),
        }),
    );
    hbs.register_helper(
        "plural",
        Box::new(helpers::Plural {
            locale: locale.to_string(),
        }),
    );
    hbs.register_helper("date", Box::new(helpers::date));
    hbs
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Registers the built-in templates, then every `*.hbs` under `dir` (which replace
    /// built-ins of the same name), with the helpers for `locale`.
    pub fn new(locale: &str, dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut renderer = Self {
            hbs: registry(locale, false),
            html: registry(locale, true),
            locale: locale.to_string(),
            sources: Default::default(),
            reads: Reads::ALL,
            direct: Default::default(),
        };
        for (name, source) in builtin::TEMPLATES {
            renderer.register(name, source, name)?;
        }
        if let Some(dir) = dir {
            renderer.register_dir(dir, dir)?;
        }
        let templates = renderer.hbs.get_templates().values();
        renderer.reads = Reads::of(templates.chain(renderer.html.get_templates().values()));
        let escaped = |escape| {
            move |(name, template): (&String, &handlebars::Template)| {
                Some((name.clone(), direct::Direct::compile(template, escape)?))
            }
        };
        renderer.direct = (renderer.hbs.get_templates().iter().filter_map(escaped(false)))
            .chain(renderer.html.get_templates().iter().filter_map(escaped(true)))
            .collect();
        Ok(renderer)
    }

    fn register(&mut self, name: &str, source: &str, shown: &str) -> Result<(), TemplateError> {
        self.sources
            .insert(name.to_string(), (shown.to_string(), source.to_string()));
        let target = if name.ends_with(".html") {
            &mut self.html
        } else {
            &mut self.hbs
        };
        target
            .register_template_string(name, source)
            .map_err(|e| TemplateError::Syntax {
                name: shown.to_string(),
                source: Box::new(e),
            })
    }

    fn register_dir(&mut self, root: &Path, dir: &Path) -> Result<(), TemplateError> {
        let folder_err = |source| TemplateError::Folder {
            path: dir.to_path_buf(),
            source,
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(folder_err)?
            .collect::<Result<_, _>>()
            .map_err(folder_err)?;
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                self.register_dir(root, &path)?;
            } else if path.extension().is_some_and(|e| e == "hbs") {
                let source = std::fs::read_to_string(&path).map_err(|source| TemplateError::Folder {
                    path: path.clone(),
                    source,
                })?;
                let relative = path.strip_prefix(root).unwrap_or(&path).with_extension("");
                let name = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                self.register(&name, &source, &path.display().to_string())?;
            }
        }
        Ok(())
    }

    /// The first character of `name`'s literal text (outside `{{…}}`) that GSM-7 cannot
    /// carry, with where it is: `(file or built-in name, line, column, char)`.
    pub fn first_non_gsm7(&self, name: &str) -> Option<(String, usize, usize, char)> {
        let (shown, source) = self.sources.get(name)?;
        let (mut line, mut column, mut depth) = (1, 0, 0usize);
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            column += 1;
            match c {
                '{' if chars.peek() == Some(&'{') => depth += 1,
                '}' if chars.peek() == Some(&'}') && depth > 0 => depth -= 1,
                '\n' => {
                    line += 1;
                    column = 0;
                }
                _ if depth == 0 && crate::sms::gsm_septets(c).is_none() => {
                    return Some((shown.clone(), line, column, c));
                }
                _ => {}
            }
        }
        None
    }

    /// The locale messages are written in.
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// The full name of `template` for `medium` (`fr/sms/reminder-firm`), checking that
    /// it exists.
    pub fn message_template(&self, medium: Medium, template: &str) -> Result<String, TemplateError> {
        let name = format!("{}/{}/{template}", self.locale, medium.as_str());
        if self.hbs.has_template(&name) {
            Ok(name)
        } else {
            Err(TemplateError::Missing(name))
        }
    }

    /// The default reminder template for `medium`, checking that it exists.
    pub fn reminder_template(&self, medium: Medium) -> Result<String, TemplateError> {
        self.message_template(medium, crate::strategy::DEFAULT_TEMPLATE)
    }

    /// Renders the default reminder for `medium`.
    pub fn render_reminder(&self, medium: Medium, data: &ReminderData) -> Result<Rendered, RenderError> {
        self.render_message(medium, crate::strategy::DEFAULT_TEMPLATE, data)
    }

    /// Renders `template` for `medium`. For email: a subject from `<template>.subject`
    /// (else the default reminder's) and an HTML part from `<template>.html` (else the
    /// default reminder's).
    pub fn render_message(&self, medium: Medium, template: &str, data: &ReminderData) -> Result<Rendered, RenderError> {
        // Once per message: joined without `format!`.
        let base = [self.locale.as_str(), medium.as_str()].join("/");
        let name = [base.as_str(), template].join("/");
        // The data is turned into JSON at most once, for the body, the subject and the HTML
        // part, and only for a template written by Handlebars.
        let mut json = None;
        let body = self.render_one(&self.hbs, &name, data, &mut json)?;
        let (mut subject, mut html) = (None, None);
        if medium == Medium::Email {
            let pick = |suffix: &str, has: &dyn Fn(&str) -> bool| {
                [
                    format!("{name}.{suffix}"),
                    format!("{base}/{}.{suffix}", crate::strategy::DEFAULT_TEMPLATE),
                ]
                .into_iter()
                .find(|n| has(n))
            };
            if let Some(n) = pick("subject", &|n| self.hbs.has_template(n)) {
                let text = self.render_one(&self.hbs, &n, data, &mut json)?;
                subject = Some(text.lines().next().unwrap_or_default().to_string());
            }
            if let Some(n) = pick("html", &|n| self.html.has_template(n)) {
                html = Some(self.render_one(&self.html, &n, data, &mut json)?);
            }
        }
        Ok(Rendered {
            template: name,
            subject,
            body,
            html,
        })
    }

    /// Renders `name` of `registry`: straight from the data when it can, else by Handlebars
    /// from `json`, made on first use.
    fn render_one(
        &self,
        registry: &Handlebars<'static>,
        name: &str,
        data: &ReminderData,
        json: &mut Option<Context>,
    ) -> Result<String, RenderError> {
        if let Some(direct) = self.direct.get(name) {
            return Ok(direct.render(data, &self.locale));
        }
        let context = match json {
            Some(context) => context,
            None => json.insert(
                Context::wraps(View {
                    data,
                    reads: self.reads,
                    locale: &self.locale,
                })
                .map_err(|e| failed(name, e))?,
            ),
        };
        render_with(registry, name, context)
    }
}

fn render_with(hbs: &Handlebars<'static>, name: &str, context: &Context) -> Result<String, RenderError> {
    hbs.render_with_context(name, context)
        .map(|s| s.trim_end().to_string())
        .map_err(|e| failed(name, e))
}

fn failed(name: &str, e: handlebars::RenderError) -> RenderError {
    RenderError {
        name: name.to_string(),
        source: Box::new(e),
    }
}

/// SHA-256 of a body, hex: what the ledger keeps instead of the text.
pub fn body_hash(body: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(body.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debt::group_by_debtor;
    use crate::debt::tests::item;

    fn today() -> NaiveDate {
        "2025-11-26".parse().unwrap()
    }

    fn data(items: Vec<DebtItem>) -> ReminderData {
        let (debtors, _) = group_by_debtor(items);
        let d = &debtors[0];
        let overdue: Vec<&DebtItem> = d.overdue_items(today(), 0).collect();
        ReminderData::new(d, &overdue, today(), 1, "fr")
    }

    #[test]
    fn body_hash_is_the_lowercase_hex_sha256_of_the_text() {
        let hash = body_hash("abc");
        assert_eq!(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(body_hash("Bonjour é"), body_hash("Bonjour é"));
        assert_ne!(body_hash("Bonjour é"), body_hash("Bonjour e"));
    }

    #[test]
    fn french_whatsapp_reproduces_the_approved_message() {
        let mut invoice = item("7", "FAC-0042", "2025-11-20", 2_500, 0);
        invoice.name = "Fa Guité".into();
        let mut manual = item("7", "17", "2025-11-02", 235_000, 0);
        manual.kind = ItemKind::Manual;
        let r = Renderer::new("fr", None).unwrap();
        let out = r
            .render_reminder(Medium::Whatsapp, &data(vec![invoice, manual]))
            .unwrap();
        assert_eq!(
            out.body,
            "Bonjour Fa Guité,\n\
             \n\
             Nous vous informons que certaines créances ont dépassé leur date d'échéance :\n\
             \n\
             Factures en retard:\n \
             - Facture FAC-0042 • Échéance: 2025-11-20 • Restant: 2 500 XOF\n\
             \n\
             Créances manuelles en retard:\n \
             - Réf 17 • Échéance: 2025-11-02 • Restant: 235 000 XOF\n\
             \n\
             Merci de régulariser votre situation dans les meilleurs délais."
        );
        assert_eq!(out.template, "fr/whatsapp/reminder");
        assert_eq!(out.subject, None);
    }

    #[test]
    fn french_sms_is_the_approved_message_in_gsm_7() {
        let mut items = Vec::new();
        for (i, due) in ["2025-11-20", "2025-11-21", "2025-11-02", "2025-10-15"]
            .iter()
            .enumerate()
        {
            let mut it = item("7", &format!("FAC-004{i}"), due, 127_000 + i as i64, 0);
            it.name = "Fa Guité".into();
            if i >= 2 {
                it.kind = ItemKind::Manual;
            }
            items.push(it);
        }
        let r = Renderer::new("fr", None).unwrap();
        let d = data(items);
        let sms = r.render_reminder(Medium::Sms, &d).unwrap().body;
        let approved = r.render_reminder(Medium::Whatsapp, &d).unwrap().body;
        assert_eq!(sms, approved.replace(" • ", " - "), "the approved text, bullets aside");
        let sms_info = crate::sms::analyze(&sms);
        assert_eq!(sms_info.encoding, crate::sms::Encoding::Gsm7, "{sms}");
        let gsm_form = crate::sms::analyze(&crate::sms::transliterate(&approved));
        assert!(sms_info.segments <= gsm_form.segments);
        assert!(
            sms_info.segments < crate::sms::analyze(&approved).segments,
            "cheaper than the UCS-2 original"
        );
    }

    #[test]
    fn a_section_without_items_is_left_out() {
        let mut manual = item("3", "17", "2025-11-02", 235_000, 0);
        manual.kind = ItemKind::Manual;
        let r = Renderer::new("fr", None).unwrap();
        let body = r.render_reminder(Medium::Sms, &data(vec![manual])).unwrap().body;
        assert!(!body.contains("Factures en retard"), "{body}");
        assert!(
            body.contains("d'échéance :\n\nCréances manuelles en retard:\n - Réf 17"),
            "{body}"
        );
    }

    #[test]
    fn english_uses_commas_and_email_has_a_subject() {
        let r = Renderer::new("en", None).unwrap();
        let d = data(vec![item("1", "A-1", "2025-11-01", 127_000, 0)]);
        let out = r.render_reminder(Medium::Email, &d).unwrap();
        assert!(out.body.contains("Remaining: 127,000 XOF"), "{}", out.body);
        assert_eq!(out.subject.as_deref(), Some("Reminder: 1 overdue item (127,000 XOF)"));
        let html = out.html.unwrap();
        assert!(
            html.contains("<td>Invoice A-1</td><td>2025-11-01</td><td align=\"right\">127,000 XOF</td>"),
            "{html}"
        );
        let fr = Renderer::new("fr", None).unwrap().render_reminder(
            Medium::Email,
            &data(vec![
                item("1", "A-1", "2025-11-01", 100_000, 0),
                item("1", "A-2", "2025-11-01", 27_000, 0),
            ]),
        );
        assert_eq!(
            fr.unwrap().subject.as_deref(),
            Some("Rappel : 2 créances en retard (127 000 XOF)")
        );
    }

    #[test]
    fn debtor_values_are_never_templates() {
        let mut i = item("1", "{{reference}}", "2025-11-01", 5, 0);
        i.name = "{{name}} <b>&</b> {{#each x}}".into();
        let body = Renderer::new("fr", None)
            .unwrap()
            .render_reminder(Medium::Sms, &data(vec![i]))
            .unwrap()
            .body;
        assert!(body.starts_with("Bonjour {{name}} <b>&</b> {{#each x}},"), "{body}");
        assert!(body.contains("Facture {{reference}} - "), "{body}");
        let mut i = item("1", "<script>", "2025-11-01", 5, 0);
        i.name = "Awa <b>&</b>".into();
        let html = Renderer::new("fr", None)
            .unwrap()
            .render_reminder(Medium::Email, &data(vec![i]))
            .unwrap()
            .html
            .unwrap();
        assert!(html.contains("Bonjour Awa &lt;b&gt;&amp;&lt;/b&gt;,"), "{html}");
        assert!(html.contains("Facture &lt;script&gt;"), "{html}");
    }

    /// Writes `dir`'s French SMS reminder template.
    fn write_sms_reminder(dir: &Path, text: &str) {
        std::fs::create_dir_all(dir.join("fr/sms")).unwrap();
        std::fs::write(dir.join("fr/sms/reminder.hbs"), text).unwrap();
    }

    #[test]
    fn a_templates_folder_overrides_builtins_and_strict_mode_catches_typos() {
        let dir = tempfile::tempdir().unwrap();
        write_sms_reminder(dir.path(), "Salut {{name}}, total {{money total_minor currency}}");
        let r = Renderer::new("fr", Some(dir.path())).unwrap();
        let body = r
            .render_reminder(Medium::Sms, &data(vec![item("1", "A", "2025-11-01", 1500, 0)]))
            .unwrap()
            .body;
        assert_eq!(body, "Salut Client 1, total 1 500 XOF");

        write_sms_reminder(dir.path(), "Salut {{nom}}");
        let r = Renderer::new("fr", Some(dir.path())).unwrap();
        let err = r
            .render_reminder(Medium::Sms, &data(vec![item("1", "A", "2025-11-01", 1, 0)]))
            .unwrap_err();
        assert!(err.to_string().contains("fr/sms/reminder"), "{err}");

        write_sms_reminder(dir.path(), "Salut {{#if name}}");
        let err = Renderer::new("fr", Some(dir.path())).unwrap_err();
        assert!(err.to_string().contains("reminder.hbs"), "{err}");
    }

    #[test]
    fn templates_see_every_item_and_the_items_of_each_kind() {
        let dir = tempfile::tempdir().unwrap();
        write_sms_reminder(
            dir.path(),
            "{{#each items}}{{reference}} {{/each}}| {{#each invoices}}{{reference}} {{/each}}| \
             {{#each manual_debts}}{{reference}} {{days_overdue}}d {{/each}}| {{item_count}} {{max_days_overdue}}",
        );
        let r = Renderer::new("fr", Some(dir.path())).unwrap();
        let mut manual = item("1", "M-9", "2025-11-20", 500, 0);
        manual.kind = ItemKind::Manual;
        let items = vec![
            item("1", "F-1", "2025-11-01", 1500, 0),
            manual,
            item("1", "F-2", "2025-11-10", 10, 0),
        ];
        let body = r.render_reminder(Medium::Sms, &data(items)).unwrap().body;
        assert_eq!(body, "F-1 M-9 F-2 | F-1 F-2 | M-9 6d | 3 25");
    }

    #[test]
    fn a_template_reads_every_field_by_its_name() {
        let dir = tempfile::tempdir().unwrap();
        write_sms_reminder(
            dir.path(),
            "{{name}}|{{debtor_id}}|{{total_minor}}|{{total}}|{{currency}}|{{item_count}}|{{max_days_overdue}}|\
             {{reminder_number}}|{{locale}}|{{#each items}}{{kind}} {{reference}} {{due_date}} {{amount_minor}} \
             {{amount}} {{paid_minor}} {{paid}} {{remaining_minor}} {{remaining}} {{currency}} {{days_overdue}}{{/each}}|\
             {{#each invoices}}{{reference}}{{/each}}|{{#each manual_debts}}{{reference}}{{/each}}",
        );
        let r = Renderer::new("fr", Some(dir.path())).unwrap();
        let data = data(vec![item("1", "F-1", "2025-11-01", 1500, 200)]);
        let body = r.render_reminder(Medium::Sms, &data).unwrap().body;
        assert_eq!(
            body,
            "Client 1|1|1300|1 300 XOF|XOF|1|25|1|fr|invoice F-1 2025-11-01 1500 1 500 XOF 200 200 XOF 1300 1 300 XOF \
             XOF 25|F-1|"
        );

        let json = serde_json::to_value(&data).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let item = json["items"][0].as_object().unwrap();
        let item_keys: Vec<&str> = item.keys().map(String::as_str).collect();
        let mut named: Vec<&str> = keys.into_iter().chain(item_keys).collect();
        named.sort_unstable();
        named.dedup();
        let mut fields: Vec<&str> = reads::Field::ALL.into_iter().map(reads::Field::name).collect();
        fields.sort_unstable();
        assert_eq!(
            named, fields,
            "the data as JSON has every field, under the name templates read"
        );
        let of = |scope: fn(reads::Field) -> bool| {
            let mut names: Vec<&str> = reads::Field::ALL
                .into_iter()
                .filter(|&f| scope(f))
                .map(reads::Field::name)
                .collect();
            names.sort_unstable();
            names
        };
        let mut reminder_keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        reminder_keys.sort_unstable();
        assert_eq!(reminder_keys, of(reads::Field::of_reminder), "the reminder's fields");
        let mut item_keys: Vec<&str> = item.keys().map(String::as_str).collect();
        item_keys.sort_unstable();
        assert_eq!(item_keys, of(reads::Field::of_item), "an item's fields");
    }

    #[test]
    fn finds_the_first_character_that_forces_ucs2() {
        let r = Renderer::new("fr", None).unwrap();
        assert_eq!(r.first_non_gsm7("fr/sms/reminder"), None, "the default SMS is GSM-7");
        assert_eq!(
            r.first_non_gsm7("fr/whatsapp/reminder"),
            Some(("fr/whatsapp/reminder".into(), 8, 26, '•'))
        );
    }

    #[test]
    fn missing_locale_is_reported() {
        let r = Renderer::new("wo", None).unwrap();
        assert_eq!(
            r.reminder_template(Medium::Sms).unwrap_err().to_string(),
            "no template \"wo/sms/reminder\" (looked in the built-in templates and [templates] dir)"
        );
    }

    #[test]
    fn the_date_helper_writes_a_date_as_chrono_does_and_refuses_what_is_not_one() {
        let mut hbs = Renderer::new("fr", None).unwrap().hbs;
        hbs.register_template_string("t", "{{date d}}").unwrap();
        for text in [
            "2025-11-20",
            "2024-02-29",
            "0000-01-01",
            "9999-12-31",
            "2025-1-5",
            "+2025-11-20",
            " 2025-11-20",
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-11-2x",
            "20251120",
            "2025/11/20",
            "",
        ] {
            let rendered = hbs.render("t", &serde_json::json!({ "d": text }));
            match text.parse::<NaiveDate>() {
                Ok(date) => assert_eq!(rendered.unwrap(), date.to_string(), "{text}"),
                Err(_) => assert!(rendered.is_err(), "{text}: {rendered:?}"),
            }
        }
    }

    #[test]
    fn formatted_amounts_are_what_the_money_helper_writes() {
        let dir = tempfile::tempdir().unwrap();
        for locale in ["fr", "en"] {
            std::fs::create_dir_all(dir.path().join(locale).join("sms")).unwrap();
            std::fs::write(
                dir.path().join(locale).join("sms/reminder.hbs"),
                "{{total}}|{{money total_minor currency}}{{#each items}}|{{amount}}|{{money amount_minor currency}}|\
                 {{paid}}|{{money paid_minor currency}}|{{remaining}}|{{money remaining_minor currency}}{{/each}}",
            )
            .unwrap();
        }
        for (locale, code, total) in [
            ("fr", "XOF", "1 233 572 XOF"),
            ("en", "XOF", "1,233,572 XOF"),
            ("fr", "EUR", "12 335,72 EUR"),
            ("en", "USD", "12,335.72 USD"),
        ] {
            let r = Renderer::new(locale, Some(dir.path())).unwrap();
            let mut items = vec![
                item("1", "A", "2025-11-01", 1_234_567, 1_000),
                item("1", "B", "2025-11-02", 5, 0),
            ];
            for i in &mut items {
                i.currency = crate::money::parse_currency(code).unwrap();
            }
            let body = r.render_reminder(Medium::Sms, &data(items)).unwrap().body;
            let fields: Vec<&str> = body.split('|').collect();
            assert_eq!(fields.len(), 14, "{body}");
            assert_eq!(fields[0], total, "{locale} {code}");
            for pair in fields.chunks(2) {
                assert_eq!(pair[0], pair[1], "{locale} {code}: {body}");
            }
            assert!(body.ends_with(code), "{body}");
        }
    }

    #[test]
    fn helpers() {
        let r = Renderer::new("fr", None).unwrap();
        let mut hbs = r.hbs;
        hbs.register_template_string("t", "{{date due_date \"%d/%m/%Y\"}} {{plural 0 \"a\" \"b\"}} {{plural 2 \"a\" \"b\"}} {{money 1500 \"XOF\" locale=\"en\"}}").unwrap();
        let out = hbs.render("t", &serde_json::json!({"due_date": "2025-11-20"})).unwrap();
        assert_eq!(out, "20/11/2025 a b 1,500 XOF");
        // English: only 1 takes the singular (the direct templates share the rule).
        let mut en = Renderer::new("en", None).unwrap().hbs;
        en.register_template_string(
            "t",
            "{{plural 0 \"a\" \"b\"}} {{plural 1 \"a\" \"b\"}} {{plural 2 \"a\" \"b\"}}",
        )
        .unwrap();
        assert_eq!(en.render("t", &serde_json::json!({})).unwrap(), "b a b");
    }
}
