//! Value types of the config that need more than a plain number or string: intervals,
//! quiet hours, time zones.

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer, de};
use std::time::Duration;

/// An interval written `6h`, `30m`, `90s`, `1d`, or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(pub Duration);

impl Interval {
    /// Parses `6h`, `30m`, `45s`, `1d`, `21600`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let expected = || format!("\"{text}\" is not an interval (expected e.g. \"6h\", \"30m\" or seconds)");
        let n: u64 = number.parse().map_err(|_| expected())?;
        let secs = match unit.trim() {
            "" | "s" => n,
            "m" | "min" => n * 60,
            "h" => n * 3600,
            "d" => n * 86_400,
            _ => return Err(expected()),
        };
        if secs == 0 {
            return Err("the interval must be longer than zero".into());
        }
        Ok(Self(Duration::from_secs(secs)))
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Seconds(s) => Self::parse(&s.to_string()),
            Raw::Text(t) => Self::parse(&t),
        }
        .map_err(de::Error::custom)
    }
}

/// Local hours during which nothing is sent, e.g. `21:00-08:00` (crossing midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// When the quiet window starts.
    pub start: NaiveTime,
    /// When sending may resume.
    pub end: NaiveTime,
}

impl QuietHours {
    /// Parses `HH:MM-HH:MM`; `""`, `off` and `none` mean no quiet hours.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("off") || text.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let expected = || format!("\"{text}\" is not a time range (expected e.g. \"21:00-08:00\", or \"off\")");
        let (start, end) = text.split_once('-').ok_or_else(expected)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| expected());
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(format!(
                "\"{text}\" is an empty range: write \"off\" for no quiet hours"
            ));
        }
        Ok(Some(Self { start, end }))
    }

    /// Whether `t` (local time) falls inside the quiet window.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

/// Deserializes `quiet_hours`.
pub(super) fn quiet_hours<'de, D: Deserializer<'de>>(d: D) -> Result<Option<QuietHours>, D::Error> {
    QuietHours::parse(&String::deserialize(d)?).map_err(de::Error::custom)
}

/// Deserializes an IANA time zone name such as `Africa/Dakar`.
pub(super) fn timezone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map_err(|_| {
        de::Error::custom(format!(
            "\"{name}\" is not an IANA time zone (expected e.g. \"Africa/Dakar\")"
        ))
    })
}

/// An ISO 4217 currency code such as `XOF` or `EUR` (sources' `currency` key; `XOF` by
/// default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CurrencyCode(pub iso_currency::Currency);

impl Default for CurrencyCode {
    fn default() -> Self {
        Self(iso_currency::Currency::XOF)
    }
}

impl TryFrom<String> for CurrencyCode {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        crate::money::parse_currency(&text)
            .map(Self)
            .ok_or_else(|| format!("{text:?} is not an ISO 4217 currency code such as \"XOF\""))
    }
}

/// `invoice` or `manual`, for rows that do not say (sources' `default_kind` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct DefaultKind(pub crate::debt::ItemKind);

impl TryFrom<String> for DefaultKind {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        crate::debt::ItemKind::parse(&text)
            .map(Self)
            .ok_or_else(|| format!("{text:?} is not \"invoice\" or \"manual\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(Interval::parse("6h").unwrap().0.as_secs(), 21_600);
        assert_eq!(Interval::parse("21600").unwrap().0.as_secs(), 21_600);
        assert_eq!(Interval::parse("30m").unwrap().0.as_secs(), 1_800);
        assert_eq!(Interval::parse("1d").unwrap().0.as_secs(), 86_400);
        assert!(Interval::parse("0").is_err());
        assert!(Interval::parse("6 hours").is_err());
        assert!(Interval::parse("h").is_err());
    }

    #[test]
    fn quiet_hours_cross_midnight() {
        let q = QuietHours::parse("21:00-08:00").unwrap().unwrap();
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        assert!(q.contains(t("21:00")));
        assert!(q.contains(t("03:00")));
        assert!(!q.contains(t("08:00")));
        assert!(!q.contains(t("12:00")));
        let day = QuietHours::parse("12:00-14:00").unwrap().unwrap();
        assert!(day.contains(t("13:00")));
        assert!(!day.contains(t("15:00")));
        assert_eq!(QuietHours::parse("off").unwrap(), None);
        assert!(QuietHours::parse("9pm-8am").is_err());
    }
}
