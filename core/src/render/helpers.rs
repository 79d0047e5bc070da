//! Template helpers: `{{money minor currency}}`, `{{date due_date}}`, `{{plural n "one" "many"}}`.

use crate::money::{format_minor, parse_currency};
use chrono::NaiveDate;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError, RenderErrorReason,
};

fn param<'a>(
    h: &'a Helper<'_>,
    i: usize,
    helper: &'static str,
    what: &str,
) -> Result<&'a serde_json::Value, RenderError> {
    h.param(i)
        .map(|p| p.value())
        .ok_or_else(|| RenderErrorReason::Other(format!("{{{{{helper}}}}} needs {what}")).into())
}

/// `{{money remaining_minor currency}}` → `2 500 XOF` (fr) / `2,500 XOF` (en).
/// `locale="en"` in the hash overrides the renderer's locale.
pub struct Money {
    /// The renderer's locale.
    pub locale: String,
}

impl HelperDef for Money {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let minor = param(h, 0, "money", "an amount in minor units")?
            .as_i64()
            .ok_or_else(|| {
                RenderErrorReason::Other("{{money}}: the amount must be a whole number of minor units".into())
            })?;
        let code = param(h, 1, "money", "a currency code")?.as_str().unwrap_or_default();
        let currency = parse_currency(code).ok_or_else(|| {
            RenderErrorReason::Other(format!("{{{{money}}}}: \"{code}\" is not an ISO 4217 currency"))
        })?;
        let locale = h
            .hash_get("locale")
            .and_then(|v| v.value().as_str())
            .unwrap_or(&self.locale);
        out.write(&format_minor(minor, currency, locale))?;
        Ok(())
    }
}

/// `{{date due_date}}` → `2025-11-20`; `{{date due_date "%d/%m/%Y"}}` → `20/11/2025`.
pub fn date(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let text = param(h, 0, "date", "a date")?.as_str().unwrap_or_default();
    let format = h.param(1).and_then(|p| p.value().as_str());
    if format.is_none() && written_as_displayed(text) {
        // Items' due dates come this way: the text is the output, with no parse and no
        // formatting for every item.
        out.write(text)?;
        return Ok(());
    }
    let date: NaiveDate = text
        .parse()
        .map_err(|_| RenderErrorReason::Other(format!("{{{{date}}}}: \"{text}\" is not a YYYY-MM-DD date")))?;
    let Some(format) = format else {
        // `Display` is `%Y-%m-%d`, without reading a format string.
        out.write(&date.to_string())?;
        return Ok(());
    };
    let mut formatted = String::new();
    std::fmt::write(&mut formatted, format_args!("{}", date.format(format)))
        .map_err(|_| RenderErrorReason::Other(format!("{{{{date}}}}: \"{format}\" is not a date format")))?;
    out.write(&formatted)?;
    Ok(())
}

/// Whether `text` is a real date written as `NaiveDate`'s `Display` writes it: `YYYY-MM-DD`,
/// four, two and two digits.
fn written_as_displayed(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let number = |digits: &[u8]| {
        digits
            .iter()
            .try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let (Some(year), Some(month), Some(day)) = (number(&b[..4]), number(&b[5..7]), number(&b[8..])) else {
        return false;
    };
    // A four-digit year always fits.
    let date = NaiveDate::from_ymd_opt(year as i32, month, day);
    debug_assert!(date.is_none_or(|d| d.to_string() == text), "{text}");
    date.is_some()
}

/// `{{plural n "facture" "factures"}}`: the first word for 0 and 1 in French (and for 1 in
/// other locales), the second otherwise.
pub struct Plural {
    /// The renderer's locale.
    pub locale: String,
}

impl HelperDef for Plural {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let n = param(h, 0, "plural", "a count")?.as_f64().unwrap_or(0.0);
        let one = param(h, 1, "plural", "the singular")?.as_str().unwrap_or_default();
        let many = param(h, 2, "plural", "the plural")?.as_str().unwrap_or_default();
        out.write(if singular(n, &self.locale) { one } else { many })?;
        Ok(())
    }
}

/// Whether `n` takes the singular in `locale`: 0 and 1 in French (and -1), 1 elsewhere.
pub(super) fn singular(n: f64, locale: &str) -> bool {
    if locale.starts_with("fr") {
        n.abs() < 2.0
    } else {
        n == 1.0
    }
}
