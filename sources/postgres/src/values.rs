//! Reading one value of a row by its SQL type, exactly: integers and `numeric` become decimal
//! text (never a float), `date` a calendar date. Decoded by hand because the workspace's
//! sqlx has no chrono or decimal support; both of PostgreSQL's wire formats are handled.

use crate::columns::TypeClass;
use chrono::NaiveDate;
use sqlx::ValueRef as _;
use sqlx::postgres::{PgValueFormat, PgValueRef};
use std::borrow::Cow;

/// A value as read from a row, its text borrowed from the row: only what an item keeps is
/// copied (a million rows are read per check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'r> {
    Null,
    /// Text as stored (not trimmed).
    Text(&'r str),
    /// A `smallint`, `integer` or `bigint` sent in binary.
    Integer(i64),
    /// Any other number (`numeric`, or an integer sent as text), as canonical decimal text:
    /// `-12`, `2500.00`.
    Number(Cow<'r, str>),
    Date(NaiveDate),
}

impl<'r> Value<'r> {
    /// The value as written in a message or kept as text: `2500`, `2025-11-20`; `None` for `NULL`.
    pub(crate) fn into_text(self) -> Option<Cow<'r, str>> {
        match self {
            Value::Null => None,
            Value::Text(t) => Some(Cow::Borrowed(t)),
            Value::Number(n) => Some(n),
            Value::Integer(n) => Some(Cow::Owned(n.to_string())),
            Value::Date(d) => Some(Cow::Owned(d.to_string())),
        }
    }
}

/// Reads `value`, whose column is of type `class`. The error says what was found.
pub(crate) fn decode(value: PgValueRef<'_>, class: TypeClass) -> Result<Value<'_>, String> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let format = value.format();
    let bytes = value.as_bytes().map_err(|e| e.to_string())?;
    let text = || std::str::from_utf8(bytes).map_err(|_| "is not valid UTF-8 text".to_string());
    match (class, format) {
        (TypeClass::Integer, PgValueFormat::Binary) => integer(bytes).map(Value::Integer),
        (TypeClass::Numeric, PgValueFormat::Binary) => numeric(bytes).map(|n| Value::Number(Cow::Owned(n))),
        (TypeClass::Date, PgValueFormat::Binary) => date(bytes).map(Value::Date),
        (TypeClass::Date, PgValueFormat::Text) => {
            let t = text()?;
            t.parse().map(Value::Date).map_err(|_| format!("{t:?} is not a date"))
        }
        (TypeClass::Integer | TypeClass::Numeric, PgValueFormat::Text) => {
            text().map(|t| Value::Number(Cow::Borrowed(t)))
        }
        (TypeClass::Text | TypeClass::Other, _) => text().map(Value::Text),
    }
}

/// A big-endian `smallint`, `integer` or `bigint`.
fn integer(bytes: &[u8]) -> Result<i64, String> {
    match bytes.len() {
        2 => Ok(i64::from(i16::from_be_bytes([bytes[0], bytes[1]]))),
        4 => Ok(i64::from(i32::from_be_bytes(bytes.try_into().expect("4 bytes")))),
        8 => Ok(i64::from_be_bytes(bytes.try_into().expect("8 bytes"))),
        n => Err(format!("is an integer of {n} bytes")),
    }
}

/// A binary `date`: days since 2000-01-01.
fn date(bytes: &[u8]) -> Result<NaiveDate, String> {
    let days = i32::from_be_bytes(bytes.try_into().map_err(|_| "is not a date".to_string())?);
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date");
    match days {
        i32::MAX => Err("is 'infinity', not a date".into()),
        i32::MIN => Err("is '-infinity', not a date".into()),
        _ => epoch
            .checked_add_signed(chrono::Duration::days(i64::from(days)))
            .ok_or_else(|| "is out of the calendar's range".into()),
    }
}

/// A binary `numeric` as decimal text, with the column's scale: `2500.00`, `-0.5`.
///
/// Layout: ndigits, weight, sign, dscale (each 16 bits), then ndigits base-10000 digits;
/// the first digit is worth 10000^weight.
fn numeric(bytes: &[u8]) -> Result<String, String> {
    let word = |i: usize| -> Result<u16, String> {
        bytes
            .get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "is a truncated numeric".to_string())
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    let dscale = usize::from(word(3)?);
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Err("is NaN".into()),
        _ => return Err("is infinite".into()),
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Result<_, _>>()?;
    let digit = |power: i64| -> u16 {
        // The base-10000 digit worth 10000^power (zero outside the stored ones).
        let index = weight - power;
        usize::try_from(index)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut whole = String::new();
    for power in (0..=weight.max(0)).rev() {
        let d = digit(power);
        if whole.is_empty() {
            if d != 0 || power == 0 {
                whole = d.to_string();
            }
        } else {
            whole.push_str(&format!("{d:04}"));
        }
    }
    let mut frac = String::new();
    let mut power = -1;
    while frac.len() < dscale {
        frac.push_str(&format!("{:04}", digit(power)));
        power -= 1;
    }
    frac.truncate(dscale);
    let negative = sign == 0x4000 && (whole != "0" || frac.bytes().any(|b| b != b'0'));
    let mut out = String::with_capacity(whole.len() + frac.len() + 2);
    if negative {
        out.push('-');
    }
    out.push_str(&whole);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// Converts canonical decimal text (`2500`, `12.50`, `-3`) to minor units of a currency
/// with `exponent` decimals, exactly. Decimals beyond the currency's are allowed only when
/// they are zeros (`2500.00` for XOF).
pub(crate) fn decimal_minor(text: &str, currency: iso_currency::Currency) -> Result<i64, String> {
    let exponent = rappel_core::money::exponent(currency);
    if text.starts_with('-') {
        return Err(format!("{text} is negative"));
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a number"));
    }
    let significant = frac.trim_end_matches('0');
    if significant.len() > exponent as usize {
        return Err(format!(
            "{text} has decimals but {} has {exponent} decimal places",
            currency.code()
        ));
    }
    let too_large = || format!("{text} is too large");
    let whole: i64 = whole.parse().map_err(|_| too_large())?;
    let frac_minor: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse::<i64>().map_err(|_| too_large())? * 10_i64.pow(exponent - significant.len() as u32)
    };
    whole
        .checked_mul(10_i64.pow(exponent))
        .and_then(|w| w.checked_add(frac_minor))
        .ok_or_else(too_large)
}

/// An integer amount, in whole units of `currency`, in its minor units: the same answers and
/// messages as [`decimal_minor`] of the integer written out.
pub(crate) fn integer_minor(value: i64, currency: iso_currency::Currency) -> Result<i64, String> {
    if value < 0 {
        return Err(format!("{value} is negative"));
    }
    value
        .checked_mul(10_i64.pow(rappel_core::money::exponent(currency)))
        .ok_or_else(|| format!("{value} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso_currency::Currency;

    fn numeric_bytes(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut out = Vec::new();
        for w in [ndigits as u16, weight as u16, sign, dscale] {
            out.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numerics_decode_exactly() {
        // 127000.00: digits 12|7000, weight 1, scale 2.
        assert_eq!(numeric(&numeric_bytes(2, 1, 0, 2, &[12, 7000])).unwrap(), "127000.00");
        // 0.05: digit 500 at weight -1.
        assert_eq!(numeric(&numeric_bytes(1, -1, 0, 2, &[500])).unwrap(), "0.05");
        // 2500: one digit 2500 at weight 0, scale 0.
        assert_eq!(numeric(&numeric_bytes(1, 0, 0, 0, &[2500])).unwrap(), "2500");
        // 100000000 = 1 * 10000^2, the zero digits after it not stored.
        assert_eq!(numeric(&numeric_bytes(1, 2, 0, 0, &[1])).unwrap(), "100000000");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric(&numeric_bytes(1, 0, 0x4000, 1, &[3])).unwrap(), "-3.0");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0xC000, 0, &[])).unwrap_err(), "is NaN");
    }

    #[test]
    fn dates_and_integers_decode() {
        assert_eq!(date(&0_i32.to_be_bytes()).unwrap().to_string(), "2000-01-01");
        assert_eq!(date(&9_455_i32.to_be_bytes()).unwrap().to_string(), "2025-11-20");
        assert!(date(&i32::MAX.to_be_bytes()).is_err());
        assert_eq!(integer(&(-7_i16).to_be_bytes()).unwrap(), -7);
        assert_eq!(integer(&235_000_i64.to_be_bytes()).unwrap(), 235_000);
    }

    #[test]
    fn decimals_to_minor_units() {
        assert_eq!(decimal_minor("2500", Currency::XOF), Ok(2_500));
        assert_eq!(decimal_minor("127000.00", Currency::XOF), Ok(127_000));
        assert_eq!(decimal_minor("12.5", Currency::EUR), Ok(1_250));
        assert_eq!(decimal_minor("1234.500", Currency::EUR), Ok(123_450));
        assert_eq!(
            decimal_minor("12.5", Currency::XOF).unwrap_err(),
            "12.5 has decimals but XOF has 0 decimal places"
        );
        assert_eq!(decimal_minor("-5", Currency::XOF).unwrap_err(), "-5 is negative");
        assert_eq!(
            decimal_minor("99999999999999999999", Currency::XOF).unwrap_err(),
            "99999999999999999999 is too large"
        );
    }

    #[test]
    fn integers_to_minor_units_as_their_decimal_text_would() {
        for (value, currency) in [
            (2_500, Currency::XOF),
            (0, Currency::XOF),
            (12, Currency::EUR),
            (-5, Currency::XOF),
            (i64::MAX, Currency::XOF),
            (i64::MAX / 10, Currency::EUR),
            (i64::MAX / 100, Currency::EUR),
            (i64::MIN, Currency::EUR),
        ] {
            assert_eq!(
                integer_minor(value, currency),
                decimal_minor(&value.to_string(), currency),
                "{value} {currency:?}"
            );
        }
    }
}
