//! Money as integer minor units plus an ISO 4217 currency: parsing what people type and
//! formatting it the way a French or English reader expects. Never floats.

use iso_currency::Currency;
use std::borrow::Cow;
use std::fmt::Write as _;

/// An amount of money: integer minor units of an ISO 4217 currency (XOF has none, so
/// `2500` is 2 500 XOF; EUR has two, so `250` is 2,50 EUR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// The amount in the currency's minor units.
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// An amount in minor units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// The amount formatted for `locale` (`fr` or `en`), with the currency code after it.
    pub fn format(&self, locale: &str) -> String {
        format_minor(self.minor, self.currency, locale)
    }
}

/// The number of decimal places of `currency` (0 for XOF, 2 for EUR and USD).
pub fn exponent(currency: Currency) -> u32 {
    currency.exponent().map(u32::from).unwrap_or(0)
}

/// Parses an ISO 4217 code such as `XOF` (case-insensitive, surrounding spaces ignored).
pub fn parse_currency(code: &str) -> Option<Currency> {
    let code = code.trim();
    let [a, b, c] = *code.as_bytes() else {
        return Currency::from_code(&code.to_ascii_uppercase());
    };
    // `from_code` compares the code with every ISO code in turn, and a check reads one for
    // each item and each amount it writes: the last code read on this thread is remembered,
    // since a book is nearly always in one currency.
    thread_local! {
        static LAST: std::cell::Cell<Option<([u8; 3], Currency)>> = const { std::cell::Cell::new(None) };
    }
    let key = [a, b, c].map(|b| b.to_ascii_uppercase());
    if let Some((last, currency)) = LAST.get()
        && last == key
    {
        return Some(currency);
    }
    let currency = Currency::from_code(std::str::from_utf8(&key).ok()?)?;
    LAST.set(Some((key, currency)));
    Some(currency)
}

/// Formats minor units for `locale`: `fr` groups thousands with an ASCII space and uses a
/// decimal comma (`127 000 XOF`, `1 234,50 EUR`); any other locale groups with a comma and
/// uses a decimal point (`127,000 XOF`). The space is ASCII on purpose: U+202F is not GSM-7
/// and would turn an SMS into UCS-2.
pub fn format_minor(minor: i64, currency: Currency, locale: &str) -> String {
    let (group, decimal) = separators(locale);
    let exp = exponent(currency);
    let scale = 10_i64.pow(exp);
    let abs = minor.unsigned_abs();
    let whole = abs / scale as u64;
    let frac = abs % scale as u64;

    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + 8);
    if minor < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(c);
    }
    if exp > 0 {
        out.push(decimal);
        let _ = write!(out, "{frac:0width$}", width = exp as usize);
    }
    out.push(' ');
    out.push_str(currency.code());
    out
}

/// [`format_minor`] for the currency `code` (`XOF`); with a code that is not ISO 4217, the
/// bare number before it (`127000 ABC`).
pub fn format_minor_code(minor: i64, code: &str, locale: &str) -> String {
    match parse_currency(code) {
        Some(currency) => format_minor(minor, currency, locale),
        None => format!("{minor} {code}"),
    }
}

fn separators(locale: &str) -> (char, char) {
    if locale.starts_with("fr") {
        (' ', ',')
    } else {
        (',', '.')
    }
}

/// Millionths of a currency unit as a decimal: `7500` → `0.0075`, `135000` → `0.135`,
/// `2000000` → `2.00`. At least two decimals, trailing zeros beyond them dropped.
pub fn format_micros(micros: i64) -> String {
    let abs = micros.unsigned_abs();
    let mut whole = itoa::Buffer::new();
    let whole = whole.format(abs / 1_000_000);
    // The six decimals (a leading 1 keeps their zeros), then their trailing zeros dropped
    // down to two: written once per message a check previews, without `format!`.
    let mut frac = itoa::Buffer::new();
    let frac = &frac.format(abs % 1_000_000 + 1_000_000)[1..];
    let frac = &frac[..frac.trim_end_matches('0').len().max(2)];
    let sign = if micros < 0 { "-" } else { "" };
    [sign, whole, ".", frac].concat()
}

/// Why an amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing was written.
    #[error("is empty")]
    Empty,
    /// Characters other than digits, spaces, `,` and `.`.
    #[error("\"{0}\" is not a number")]
    NotANumber(String),
    /// More decimals than the currency has (e.g. `12,5` for XOF).
    #[error("\"{text}\" has decimals but {currency} has {exponent} decimal places")]
    TooPrecise {
        /// What was written.
        text: String,
        /// The currency code.
        currency: &'static str,
        /// The currency's number of decimals.
        exponent: u32,
    },
    /// Below zero.
    #[error("\"{0}\" is negative")]
    Negative(String),
    /// Does not fit in 64 bits of minor units.
    #[error("\"{0}\" is too large")]
    TooLarge(String),
}

/// Reads an amount written by a person into minor units of `currency`.
///
/// Accepts thousands separators (space, no-break space, U+202F, `,`, `.`, `'`) and a decimal
/// comma or point: `127 000`, `127,000`, `127.000`, `2500`, `12,50`, `1.234,56`, `1,234.56`.
/// A separator followed by exactly three digits is a thousands separator; a final separator
/// followed by one or two digits is the decimal mark, allowed only for currencies with minor
/// units.
pub fn parse_amount(text: &str, currency: Currency) -> Result<i64, AmountError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(AmountError::Empty);
    }
    if trimmed.starts_with('-') {
        return Err(AmountError::Negative(trimmed.to_string()));
    }
    let too_large = || AmountError::TooLarge(trimmed.to_string());
    // Digits alone, as most books write amounts: the same value as below, read at once.
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let exp = exponent(currency);
        return digits_value(trimmed)
            .and_then(|whole| whole.checked_mul(10_i64.pow(exp)))
            .ok_or_else(too_large);
    }
    // A check reads two amounts per item: the text is copied only when it holds spaces or
    // apostrophes to drop.
    let signless = trimmed.trim_start_matches('+');
    let is_ignored = |c: char| matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\'');
    let cleaned: Cow<'_, str> = if signless.contains(is_ignored) {
        Cow::Owned(signless.chars().filter(|&c| !is_ignored(c)).collect())
    } else {
        Cow::Borrowed(signless)
    };
    if cleaned.is_empty() || !cleaned.bytes().all(|b| b.is_ascii_digit() || b == b',' || b == b'.') {
        return Err(AmountError::NotANumber(trimmed.to_string()));
    }
    let not_a_number = || AmountError::NotANumber(trimmed.to_string());

    // Split off a decimal part: the last separator is the decimal mark when no earlier
    // separator is the same character and it is followed by 1 or 2 digits (up to the
    // currency's decimals for KWD, CLF…: there "1,234" is 1.234).
    let exp = exponent(currency);
    let max_decimals = exp.max(2) as usize;
    let (int_part, frac_part) = match cleaned.rfind([',', '.']) {
        Some(pos)
            if (1..=max_decimals).contains(&(cleaned.len() - pos - 1))
                && !cleaned[..pos].contains(&cleaned[pos..=pos]) =>
        {
            (&cleaned[..pos], &cleaned[pos + 1..])
        }
        _ => (&cleaned[..], ""),
    };
    // Whatever separators remain must group exactly three digits.
    let mut groups = int_part.split([',', '.']);
    let first = groups.next().unwrap_or_default();
    if first.is_empty() || first.len() > 3 && int_part.len() != first.len() {
        return Err(not_a_number());
    }
    let mut whole = digits_value(first).ok_or_else(too_large)?;
    for group in groups {
        if group.len() != 3 {
            return Err(not_a_number());
        }
        whole = whole
            .checked_mul(1_000)
            .and_then(|w| w.checked_add(digits_value(group)?))
            .ok_or_else(too_large)?;
    }

    // Spreadsheets write `2500.00` even for XOF: zero decimals beyond the currency's are fine.
    let frac_part = if frac_part.len() as u32 > exp && frac_part.bytes().all(|b| b == b'0') {
        &frac_part[..exp as usize]
    } else {
        frac_part
    };
    if frac_part.len() as u32 > exp {
        return Err(AmountError::TooPrecise {
            text: trimmed.to_string(),
            currency: currency.code(),
            exponent: exp,
        });
    }
    // At most 4 digits (the largest ISO 4217 exponent): it always fits.
    let frac = digits_value(frac_part).ok_or_else(not_a_number)? * 10_i64.pow(exp - frac_part.len() as u32);
    whole
        .checked_mul(10_i64.pow(exp))
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(too_large)
}

/// The value of a run of ASCII digits (0 for none); `None` past `i64::MAX`.
fn digits_value(digits: &str) -> Option<i64> {
    digits
        .bytes()
        .try_fold(0_i64, |n, b| n.checked_mul(10)?.checked_add(i64::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const XOF: Currency = Currency::XOF;
    const EUR: Currency = Currency::EUR;

    #[test]
    fn formats_french_and_english() {
        assert_eq!(format_minor(127_000, XOF, "fr"), "127 000 XOF");
        assert_eq!(format_minor(2_500, XOF, "fr"), "2 500 XOF");
        assert_eq!(format_minor(235_000, XOF, "en"), "235,000 XOF");
        assert_eq!(format_minor(999, XOF, "fr"), "999 XOF");
        assert_eq!(format_minor(1_000_000, XOF, "fr"), "1 000 000 XOF");
        assert_eq!(format_minor(123_450, EUR, "fr"), "1 234,50 EUR");
        assert_eq!(format_minor(123_405, EUR, "en"), "1,234.05 EUR");
        assert_eq!(format_minor(-2_500, XOF, "fr"), "-2 500 XOF");
    }

    #[test]
    fn currency_codes_in_any_case_one_after_another() {
        // The last code read is remembered: a different one right after must not be taken for it.
        for (code, want) in [
            ("XOF", Some(XOF)),
            (" xof ", Some(XOF)),
            ("EUR", Some(Currency::EUR)),
            ("Xof", Some(XOF)),
            ("eur", Some(Currency::EUR)),
            ("XOX", None),
            ("XOF", Some(XOF)),
            ("XO", None),
            ("XOFF", None),
            ("€", None),
            ("", None),
            ("usd", Some(Currency::USD)),
        ] {
            assert_eq!(parse_currency(code), want, "{code:?}");
        }
    }

    #[test]
    fn micros() {
        assert_eq!(format_micros(7_500), "0.0075");
        assert_eq!(format_micros(135_000), "0.135");
        assert_eq!(format_micros(2_000_000), "2.00");
        assert_eq!(format_micros(0), "0.00");
        assert_eq!(format_micros(-1), "-0.000001");
        assert_eq!(format_micros(-1_234_500_000), "-1234.50");
        assert_eq!(format_micros(1_000_010), "1.00001");
        assert_eq!(format_micros(i64::MIN), "-9223372036854.775808");
        assert_eq!(format_micros(i64::MAX), "9223372036854.775807");
    }

    #[test]
    fn french_format_uses_only_ascii_spaces() {
        assert!(format_minor(1_234_567, XOF, "fr").is_ascii());
    }

    #[test]
    fn parses_what_people_write() {
        for (text, want) in [
            ("127000", 127_000),
            ("127 000", 127_000),
            ("127\u{a0}000", 127_000),
            ("127\u{202f}000", 127_000),
            ("127,000", 127_000),
            ("127.000", 127_000),
            ("1 000 000", 1_000_000),
            (" 2500 ", 2_500),
            ("0", 0),
            ("127000.00", 127_000),
            ("2 500,0", 2_500),
        ] {
            assert_eq!(parse_amount(text, XOF), Ok(want), "{text}");
        }
        for (text, want) in [
            ("12,50", 1_250),
            ("12.5", 1_250),
            ("1.234,56", 123_456),
            ("1,234.56", 123_456),
            ("1 234,56", 123_456),
            ("7", 700),
            ("7.500", 750_000),
            ("1.234.567", 123_456_700),
        ] {
            assert_eq!(parse_amount(text, EUR), Ok(want), "{text}");
        }
    }

    #[test]
    fn three_and_four_decimal_currencies_round_trip() {
        // Found by fuzzing: KWD amounts came back a thousand times too large.
        let kwd = Currency::KWD;
        for minor in [0, 1, 500, 1_234_567, 1_000_000_000] {
            for locale in ["fr", "en"] {
                let shown = format_minor(minor, kwd, locale);
                let number = shown.strip_suffix(" KWD").unwrap();
                assert_eq!(parse_amount(number, kwd), Ok(minor), "{shown}");
            }
        }
        assert_eq!(
            parse_amount("1,234", kwd),
            Ok(1_234),
            "a lone separator is the decimal mark"
        );
        assert_eq!(parse_amount("1,234,567", kwd), Ok(1_234_567_000), "repeated: thousands");
        let clf = Currency::CLF;
        assert_eq!(
            parse_amount(&format_minor(12_345, clf, "fr").replace(" CLF", ""), clf),
            Ok(12_345)
        );
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        assert_eq!(parse_amount("", XOF), Err(AmountError::Empty));
        assert!(matches!(parse_amount("12,5OO", XOF), Err(AmountError::NotANumber(_))));
        assert!(matches!(parse_amount("12,5", XOF), Err(AmountError::TooPrecise { .. })));
        assert!(matches!(parse_amount("-5", XOF), Err(AmountError::Negative(_))));
        assert!(matches!(parse_amount("1,23,4", XOF), Err(AmountError::NotANumber(_))));
        assert!(matches!(parse_amount("1234,567", XOF), Err(AmountError::NotANumber(_))));
        assert!(matches!(
            parse_amount("99999999999999999999", XOF),
            Err(AmountError::TooLarge(_))
        ));
        assert_eq!(
            parse_amount("12,5OO", XOF).unwrap_err().to_string(),
            "\"12,5OO\" is not a number"
        );
    }

    /// `parse_amount` as it was before it stopped copying the text twice: the new one must
    /// give the same answer, error included, for every text.
    fn parse_amount_before(text: &str, currency: Currency) -> Result<i64, AmountError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(AmountError::Empty);
        }
        if trimmed.starts_with('-') {
            return Err(AmountError::Negative(trimmed.to_string()));
        }
        let cleaned: String = trimmed
            .trim_start_matches('+')
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\''))
            .collect();
        if cleaned.is_empty() || !cleaned.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.') {
            return Err(AmountError::NotANumber(trimmed.to_string()));
        }
        let not_a_number = || AmountError::NotANumber(trimmed.to_string());
        let exp = exponent(currency);
        let max_decimals = exp.max(2) as usize;
        let (int_part, frac_part) = match cleaned.rfind([',', '.']) {
            Some(pos)
                if (1..=max_decimals).contains(&(cleaned.len() - pos - 1))
                    && !cleaned[..pos].contains(&cleaned[pos..=pos]) =>
            {
                (&cleaned[..pos], &cleaned[pos + 1..])
            }
            _ => (cleaned.as_str(), ""),
        };
        let mut groups = int_part.split([',', '.']);
        let first = groups.next().unwrap_or_default();
        if first.is_empty() || first.len() > 3 && int_part.len() != first.len() {
            return Err(not_a_number());
        }
        let mut whole = String::with_capacity(int_part.len());
        whole.push_str(first);
        for group in groups {
            if group.len() != 3 {
                return Err(not_a_number());
            }
            whole.push_str(group);
        }
        let frac_part = if frac_part.len() as u32 > exp && frac_part.bytes().all(|b| b == b'0') {
            &frac_part[..exp as usize]
        } else {
            frac_part
        };
        if frac_part.len() as u32 > exp {
            return Err(AmountError::TooPrecise {
                text: trimmed.to_string(),
                currency: currency.code(),
                exponent: exp,
            });
        }
        let too_large = || AmountError::TooLarge(trimmed.to_string());
        let whole: i64 = whole.parse().map_err(|_| too_large())?;
        let mut frac: i64 = if frac_part.is_empty() {
            0
        } else {
            frac_part.parse().map_err(|_| not_a_number())?
        };
        frac *= 10_i64.pow(exp - frac_part.len() as u32);
        whole
            .checked_mul(10_i64.pow(exp))
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(too_large)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        #[test]
        fn reads_every_text_as_before(
            text in "[ +\\-]?[0-9 ,.'\u{a0}\u{202f}x]{0,24}",
            currency in proptest::sample::select(vec![Currency::XOF, Currency::EUR, Currency::KWD, Currency::CLF]),
        ) {
            proptest::prop_assert_eq!(parse_amount(&text, currency), parse_amount_before(&text, currency), "{:?}", text);
        }

        #[test]
        fn reads_big_numbers_as_before(digits in "[0-9]{15,22}", cut in 0_usize..22) {
            let spaced = format!("{} {}", &digits[..cut.min(digits.len())], &digits[cut.min(digits.len())..]);
            for text in [&digits, &spaced] {
                proptest::prop_assert_eq!(parse_amount(text, Currency::XOF), parse_amount_before(text, Currency::XOF));
                proptest::prop_assert_eq!(parse_amount(text, Currency::EUR), parse_amount_before(text, Currency::EUR));
            }
        }
    }
}
