//! Due dates as sources read them: the configured strftime format, parsed once, with ISO
//! `YYYY-MM-DD` always accepted as well.

use chrono::NaiveDate;
use chrono::format::{Item, Parsed, StrftimeItems};
use std::fmt::Write as _;

const ISO: &str = "%Y-%m-%d";

/// A checked `date_format`.
#[derive(Debug, Clone)]
pub struct DateFormat {
    text: String,
    items: Vec<Item<'static>>,
}

impl DateFormat {
    /// Checks `text`: it must be valid strftime and name a year, a month and a day.
    pub fn new(text: &str) -> Result<Self, String> {
        let items = StrftimeItems::new(text)
            .parse_to_owned()
            .map_err(|_| format!("{text:?} is not a strftime date format such as \"%d/%m/%Y\""))?;
        let format = Self {
            text: text.to_string(),
            items,
        };
        let sample = NaiveDate::from_ymd_opt(2025, 11, 20).expect("a valid date");
        let mut written = String::new();
        let round_trip = write!(written, "{}", sample.format_with_items(format.items.iter()))
            .ok()
            .and_then(|()| format.parse_own(&written));
        if round_trip != Some(sample) {
            return Err(format!(
                "{text:?} does not give a whole date: it needs a day, a month and a year, e.g. \"%d/%m/%Y\""
            ));
        }
        Ok(format)
    }

    /// Reads a date in the configured format or in ISO `YYYY-MM-DD`.
    pub fn parse(&self, text: &str) -> Option<NaiveDate> {
        if self.text == ISO {
            return iso_quick(text).unwrap_or_else(|| self.parse_own(text));
        }
        self.parse_own(text)
            .or_else(|| iso_quick(text).unwrap_or_else(|| text.parse().ok()))
    }

    fn parse_own(&self, text: &str) -> Option<NaiveDate> {
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, text, self.items.iter()).ok()?;
        parsed.to_naive_date().ok()
    }

    /// What was expected, for messages: `%d/%m/%Y or %Y-%m-%d`.
    pub fn expected(&self) -> String {
        if self.text == ISO {
            ISO.to_string()
        } else {
            format!("{} or {ISO}", self.text)
        }
    }
}

/// Most books write `2025-11-20`: a text of exactly that form is read at once, with chrono's
/// answer (a test checks), `Some(None)` for a date that does not exist; `None` for another
/// form.
fn iso_quick(text: &str) -> Option<Option<NaiveDate>> {
    let &[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = text.as_bytes() else {
        return None;
    };
    let digits = [y1, y2, y3, y4, m1, m2, d1, d2];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = |ds: &[u8]| ds.iter().fold(0_u32, |n, d| n * 10 + u32::from(d - b'0'));
    let year = i32::try_from(value(&digits[..4])).ok()?;
    Some(NaiveDate::from_ymd_opt(year, value(&digits[4..6]), value(&digits[6..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Option<NaiveDate> {
        text.parse().ok()
    }

    #[test]
    fn configured_format_and_iso_are_both_read() {
        let french = DateFormat::new("%d/%m/%Y").unwrap();
        assert_eq!(french.parse("20/11/2025"), date("2025-11-20"));
        assert_eq!(french.parse("2025-11-20"), date("2025-11-20"));
        assert_eq!(french.parse("31/13/2025"), None);
        assert_eq!(french.expected(), "%d/%m/%Y or %Y-%m-%d");
        let iso = DateFormat::new(ISO).unwrap();
        assert_eq!(iso.parse("2025-11-20"), date("2025-11-20"));
        assert_eq!(iso.parse("20/11/2025"), None);
        assert_eq!(iso.expected(), "%Y-%m-%d");
        // A format that looks like ISO is read as configured first.
        let year_day_month = DateFormat::new("%Y-%d-%m").unwrap();
        assert_eq!(year_day_month.parse("2025-05-11"), date("2025-11-05"));
        assert_eq!(
            year_day_month.parse("2025-11-20"),
            date("2025-11-20"),
            "not a day-month: ISO"
        );
    }

    #[test]
    fn formats_without_a_whole_date_are_refused() {
        assert!(
            DateFormat::new("%d/%m")
                .unwrap_err()
                .contains("needs a day, a month and a year")
        );
        assert!(DateFormat::new("%H:%M").is_err());
        assert!(
            DateFormat::new("%Q")
                .unwrap_err()
                .contains("is not a strftime date format")
        );
    }

    proptest::proptest! {
        /// The quick reading of `dddd-dd-dd` gives chrono's answer, valid dates or not, in
        /// ISO and in another configured format.
        #[test]
        fn iso_dates_are_read_as_chrono_reads_them(year in 0_u32..10_000, month in 0_u32..100, day in 0_u32..100) {
            let text = format!("{year:04}-{month:02}-{day:02}");
            let mut parsed = Parsed::new();
            let items = StrftimeItems::new(ISO).parse_to_owned().unwrap();
            let chrono = chrono::format::parse(&mut parsed, &text, items.iter())
                .ok()
                .and_then(|()| parsed.to_naive_date().ok());
            proptest::prop_assert_eq!(DateFormat::new(ISO).unwrap().parse(&text), chrono, "{}", text);
            proptest::prop_assert_eq!(DateFormat::new("%d/%m/%Y").unwrap().parse(&text), chrono, "{}", text);
            proptest::prop_assert_eq!(text.parse::<NaiveDate>().ok(), chrono, "{}", text);
        }
    }
}
