//! Amounts as JSON gives them: numbers read exactly from their written digits (never
//! through a float's rounding), strings as people write them (`"127 000"`).

use iso_currency::Currency;
use rappel_core::money::{exponent, parse_amount};
use serde_json::{Number, Value};

/// Reads an amount value in major units into minor units of `currency`. The error is the
/// end of a sentence starting with the field's name: `"12,5OO" is not a number`.
pub(crate) fn read(value: &Value, currency: Currency) -> Result<i64, String> {
    match value {
        Value::Number(n) => number(n, currency),
        Value::String(text) => parse_amount(text, currency).map_err(|e| e.to_string()),
        other => Err(format!(
            "is {}, expected a number or a string",
            crate::item::type_name(other)
        )),
    }
}

/// A JSON number: its shortest decimal writing, converted exactly.
fn number(n: &Number, currency: Currency) -> Result<i64, String> {
    let text = n.to_string();
    let exp = exponent(currency);
    if text.starts_with('-') {
        return Err(format!("{text} is negative"));
    }
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        // Written with an exponent: beyond i64 (`1e+21`) or below any currency's cents (`1e-7`).
        return Err(if text.contains("e-") {
            format!("{text} has decimals but {} has {exp} decimal places", currency.code())
        } else {
            format!("{text} is too large")
        });
    }
    let significant = frac.trim_end_matches('0');
    if significant.len() > exp as usize {
        return Err(format!(
            "{text} has decimals but {} has {exp} decimal places",
            currency.code()
        ));
    }
    let too_large = || format!("{text} is too large");
    let whole: i64 = whole.parse().map_err(|_| too_large())?;
    let frac: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse::<i64>().map_err(|_| too_large())? * 10_i64.pow(exp - significant.len() as u32)
    };
    whole
        .checked_mul(10_i64.pow(exp))
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(too_large)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_strings() {
        let xof = Currency::XOF;
        assert_eq!(read(&json!(2500), xof), Ok(2_500));
        assert_eq!(read(&json!(127000.0), xof), Ok(127_000));
        assert_eq!(read(&json!("127 000"), xof), Ok(127_000));
        assert_eq!(read(&json!(12.5), Currency::EUR), Ok(1_250));
        assert_eq!(read(&json!(0.1), Currency::EUR), Ok(10));
        assert_eq!(read(&json!(1234.56), Currency::EUR), Ok(123_456));
        assert_eq!(
            read(&json!(12.5), xof).unwrap_err(),
            "12.5 has decimals but XOF has 0 decimal places"
        );
        assert_eq!(read(&json!(-5), xof).unwrap_err(), "-5 is negative");
        assert_eq!(read(&json!(1e21), xof).unwrap_err(), "1e+21 is too large");
        assert_eq!(
            read(&json!(1e-7), Currency::EUR).unwrap_err(),
            "1e-7 has decimals but EUR has 2 decimal places"
        );
        assert_eq!(read(&json!("12,5OO"), xof).unwrap_err(), "\"12,5OO\" is not a number");
        assert_eq!(
            read(&json!(true), xof).unwrap_err(),
            "is a boolean, expected a number or a string"
        );
    }
}
