//! Targets on core's small parsers and the renderer: money, phone numbers, the TOML config
//! with `${VAR}`, SMS segments and transliteration, templates fed hostile debtor data.

use crate::text::{SECRET, lossy, options, two_fields};
use chrono::NaiveDate;
use iso_currency::Currency;
use rappel_core::config::{Config, expand_str};
use rappel_core::money::{format_minor, parse_amount, parse_currency};
use rappel_core::phone::{DefaultRegion, normalize_e164};
use rappel_core::render::{ReminderData, Renderer};
use rappel_core::sms::{Encoding, analyze, gsm_septets, is_gsm7, transliterate};
use rappel_core::{DebtItem, Debtor, ItemKind, Medium};
use std::path::Path;
use std::sync::OnceLock;

/// Currencies with 0, 2, 3 and 4 decimals.
const CURRENCIES: [Currency; 6] = [
    Currency::XOF,
    Currency::EUR,
    Currency::USD,
    Currency::JPY,
    Currency::KWD,
    Currency::CLF,
];

/// `parse_amount` never panics, never gives a negative amount, and what it reads formats
/// (in both locales) to a text that parses back to the same amount; any `i64` formats to a
/// text that parses back to it (or is refused as negative).
pub fn money(data: &[u8]) {
    let (opt, rest) = options(data);
    let currency = CURRENCIES[usize::from(opt) % CURRENCIES.len()];
    let locale = if opt & 0x80 == 0 { "fr" } else { "en" };
    let text = lossy(rest);
    if let Some(c) = parse_currency(&text) {
        assert_eq!(c.code(), text.trim().to_ascii_uppercase());
    }
    if let Ok(minor) = parse_amount(&text, currency) {
        assert!(minor >= 0, "{text:?} parsed to a negative amount {minor}");
        round_trip(minor, currency, locale);
    }
    if let Some(bytes) = rest.get(..8) {
        let minor = i64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        round_trip(minor, currency, locale);
    }
}

fn round_trip(minor: i64, currency: Currency, locale: &str) {
    let shown = format_minor(minor, currency, locale);
    let suffix = format!(" {}", currency.code());
    let number = shown
        .strip_suffix(&suffix)
        .unwrap_or_else(|| panic!("{shown:?} does not end with {suffix:?}"));
    assert!(!shown.contains('\u{202f}'), "{shown:?} holds U+202F");
    let parsed = parse_amount(number, currency);
    if minor < 0 {
        assert!(parsed.is_err(), "{shown:?} (negative) was read as {parsed:?}");
    } else {
        assert_eq!(
            parsed,
            Ok(minor),
            "{minor} {} formatted for {locale} as {shown:?} does not parse back",
            currency.code()
        );
    }
}

fn regions() -> &'static [DefaultRegion] {
    static REGIONS: OnceLock<Vec<DefaultRegion>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        ["+221", "+33", "+1", "+44", "+225", "+91"]
            .iter()
            .map(|c| DefaultRegion::from_calling_code(c).expect("a known calling code"))
            .collect()
    })
}

/// A normalised number is `+` and digits, and normalises to itself from any region.
pub fn phone(data: &[u8]) {
    let (opt, rest) = options(data);
    let regions = regions();
    let text = lossy(rest);
    let _ = DefaultRegion::from_calling_code(&text);
    let Ok(e164) = normalize_e164(&text, regions[usize::from(opt) % regions.len()]) else {
        return;
    };
    assert!(
        e164.len() > 2 && e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()),
        "{text:?} normalised to {e164:?}"
    );
    for region in regions {
        assert_eq!(
            normalize_e164(&e164, *region).as_deref(),
            Ok(e164.as_str()),
            "{text:?} normalised to {e164:?}, which does not normalise to itself from {region:?}"
        );
    }
}

/// Any TOML text with any environment: `Config::parse` gives a config or errors that each
/// say something; a variable's value is inserted as text, never expanded again and never
/// read as TOML.
pub fn config(data: &[u8]) {
    let (opt, rest) = options(data);
    let (text, value) = two_fields(rest);
    let env = |name: &str| -> Option<String> {
        match name {
            "FUZZ_VAR" => Some(value.clone()),
            "TWILIO_AUTH_TOKEN" | "SMTP_PASSWORD" | "API_TOKEN" => Some(SECRET.to_string()),
            // The legacy variables get the fuzzed value on odd option bytes.
            _ if opt & 1 == 1 && rappel_core::config::LEGACY_VARIABLES.iter().any(|(n, _)| *n == name) => {
                Some(value.clone())
            }
            _ => None,
        }
    };
    match Config::parse(&text, Path::new("/fuzz/rappel.toml"), &env) {
        Ok(config) => {
            assert!(config.channels.contains_key(&config.engine.channel));
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason: {text:?}");
            for e in &errors {
                assert!(!e.to_string().trim().is_empty(), "an empty error for {text:?}");
            }
        }
    }
    // Expansion is one pass: the value comes back as written, `${…}` and TOML syntax included.
    if !value.is_empty() {
        assert_eq!(expand_str("${FUZZ_VAR}", &env).as_deref(), Ok(value.as_str()));
        assert_eq!(
            expand_str("a${FUZZ_VAR:-x}b", &env),
            Ok(format!("a{value}b")),
            "value {value:?}"
        );
    }
    if !text.contains('$') {
        assert_eq!(expand_str(&text, &env).as_deref(), Ok(text.as_str()));
    }
    let _ = expand_str(&text, &env);
}

/// Segments: at least one, consistent with the units; transliteration gives GSM-7 text
/// when it changes anything, leaves GSM-7 text alone, and never costs more segments.
pub fn sms(data: &[u8]) {
    let text = lossy(data);
    let info = analyze(&text);
    check_segments(&text, info);
    let out = transliterate(&text);
    let after = analyze(&out);
    check_segments(&out, after);
    assert!(
        after.segments <= info.segments,
        "transliterating {text:?} ({} segments) gave {out:?} ({} segments)",
        info.segments,
        after.segments
    );
    if is_gsm7(&text) {
        assert_eq!(out, text, "GSM-7 text was changed");
    }
    if out != text {
        assert!(is_gsm7(&out), "{text:?} transliterated to {out:?}, not GSM-7");
    }
}

fn check_segments(text: &str, info: rappel_core::sms::SegmentInfo) {
    let (single, part, units) = match info.encoding {
        Encoding::Gsm7 => (
            160,
            153,
            text.chars().map(|c| gsm_septets(c).expect("GSM-7")).sum::<u32>(),
        ),
        Encoding::Ucs2 => (70, 67, text.encode_utf16().count() as u32),
    };
    assert_eq!(info.units, units, "{text:?}");
    assert_eq!(info.first_non_gsm.is_none(), info.encoding == Encoding::Gsm7);
    assert!(info.segments >= 1);
    if units <= single {
        assert_eq!(info.segments, 1, "{text:?}");
    } else {
        // Parts are full but for one split character (2 septets, or a surrogate pair).
        assert!(info.segments >= units.div_ceil(part), "{text:?}");
        assert!(info.segments <= units.div_ceil(part - 1), "{text:?}");
    }
}

fn renderers() -> &'static [Renderer] {
    static RENDERERS: OnceLock<Vec<Renderer>> = OnceLock::new();
    RENDERERS.get_or_init(|| {
        ["fr", "en"]
            .iter()
            .map(|l| Renderer::new(l, None).expect("the built-in templates register"))
            .collect()
    })
}

/// A debtor's name and reference are data, never template: rendering never fails on them,
/// they appear as written in SMS and WhatsApp bodies (`{{`, RTL marks, NUL and 10 000
/// characters included), and HTML cannot be injected into the email's HTML part.
pub fn render(data: &[u8]) {
    let (opt, rest) = options(data);
    let (mut name, reference) = two_fields(rest);
    if opt & 1 == 1 && !name.is_empty() {
        name = name.repeat(10_000 / name.len() + 1);
    }
    let item = DebtItem {
        debtor_id: "1".into(),
        name: name.clone(),
        phone: None,
        email: None,
        kind: if opt & 2 == 0 {
            ItemKind::Invoice
        } else {
            ItemKind::Manual
        },
        reference: reference.clone(),
        due_date: NaiveDate::from_ymd_opt(2025, 11, 1).expect("a date"),
        amount_minor: i64::from(opt) * 1_000 + 1,
        paid_minor: 0,
        currency: Currency::XOF,
        origin: "fuzz".into(),
    };
    let debtor = Debtor {
        id: "1".into(),
        name: name.clone(),
        phone: None,
        email: None,
        currency: Currency::XOF,
        items: vec![item.clone()],
    };
    let today = NaiveDate::from_ymd_opt(2025, 12, 1).expect("a date");
    for renderer in renderers() {
        let data = ReminderData::new(&debtor, &[&item], today, 1, renderer.locale());
        for medium in [Medium::Sms, Medium::Whatsapp, Medium::Email] {
            let out = renderer
                .render_reminder(medium, &data)
                .unwrap_or_else(|e| panic!("{medium:?} reminder for name {name:?}: {e}"));
            assert!(
                out.body.contains(name.trim_end()),
                "{medium:?} body lost the name {name:?}: {:?}",
                out.body
            );
            assert!(
                out.body.contains(reference.trim_end()),
                "{medium:?} body lost the reference {reference:?}"
            );
            if let Some(subject) = &out.subject {
                assert!(!subject.contains('\n'), "the subject spans lines: {subject:?}");
            }
            if let Some(html) = &out.html {
                for raw in [&name, &reference] {
                    if raw.to_ascii_lowercase().contains("<script") {
                        assert!(
                            !html.to_ascii_lowercase().contains("<script"),
                            "HTML injected: {html:?}"
                        );
                    }
                }
            }
        }
    }
}
