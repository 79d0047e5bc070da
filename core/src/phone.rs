//! Phone numbers: everything a person may write, normalised to E.164 (`+221771234567`).

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use std::str::FromStr;

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing was written.
    #[error("phone number is empty")]
    Empty,
    /// Not a phone number at all.
    #[error("\"{0}\" is not a phone number")]
    Unparseable(String),
    /// Looks like a number, but no such number can exist.
    #[error("\"{0}\" is not a valid phone number")]
    Invalid(String),
    /// A default country code that no country uses.
    #[error("\"{0}\" is not a known country calling code (expected e.g. \"+221\")")]
    UnknownCountryCode(String),
}

/// The region used to read local numbers, from a calling code such as `+221` (→ `SN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultRegion(Id);

impl DefaultRegion {
    /// The region of a calling code written `+221`, `221` or `00221`.
    pub fn from_calling_code(code: &str) -> Result<Self, PhoneError> {
        let unknown = || PhoneError::UnknownCountryCode(code.to_string());
        let digits = code.trim().trim_start_matches('+').trim_start_matches("00");
        let value: u16 = digits.parse().map_err(|_| unknown())?;
        // The users' countries without loading the whole metadata (a few milliseconds):
        // reading the config stays instant, and `warm_up` can load it in the background.
        if let Some((_, region)) = COMMON.iter().find(|(c, _)| *c == value) {
            return Ok(Self(*region));
        }
        let regions = DATABASE.region(&value).ok_or_else(unknown)?;
        // The first region listed for a code is its main one (e.g. US for +1).
        let main = regions.first().ok_or_else(unknown)?;
        Id::from_str(main).map(Self).map_err(|_| unknown())
    }
}

/// Calling codes of the regions rappel is used in, and a few others.
const COMMON: &[(u16, Id)] = &[
    (221, Id::SN),
    (220, Id::GM),
    (222, Id::MR),
    (223, Id::ML),
    (224, Id::GN),
    (225, Id::CI),
    (226, Id::BF),
    (227, Id::NE),
    (228, Id::TG),
    (229, Id::BJ),
    (237, Id::CM),
    (212, Id::MA),
    (33, Id::FR),
    (32, Id::BE),
    (44, Id::GB),
    (1, Id::US),
];

/// Loads the phone metadata now (on a thread of the caller's choosing), so that the first
/// number parsed does not pay for it.
pub fn warm_up() {
    let _ = DATABASE.by_id("SN");
}

/// Normalises `raw` to E.164, reading local numbers in `region`.
///
/// `77 123 45 67`, `771234567`, `+221 77 123 45 67` and `00221771234567` all give
/// `+221771234567`. The number is validated, not only parsed.
pub fn normalize_e164(raw: &str, region: DefaultRegion) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    // A number written with its country code reads the same from every region (the
    // crate would otherwise strip the US "1" from "+252…" when the default region is US).
    let region = if trimmed.starts_with('+') { None } else { Some(region.0) };
    let number = phonenumber::parse(region, trimmed).map_err(|_| PhoneError::Unparseable(trimmed.to_string()))?;
    let e164 = write_e164(&number);
    // Valid, and standing on its own: read back without a default region, it is the same
    // valid number (a few inputs parse into numbers that only look valid from one region).
    // Both are one check, since the same E.164 text is the same country code and national
    // number; a number already written that way was read without a region in the first place.
    let again = if region.is_none() && e164 == trimmed {
        number
    } else {
        phonenumber::parse(None, &e164).map_err(|_| PhoneError::Invalid(trimmed.to_string()))?
    };
    if phonenumber::is_valid(&again) && write_e164(&again) == e164 {
        Ok(e164)
    } else {
        Err(PhoneError::Invalid(trimmed.to_string()))
    }
}

/// `number` in E.164, `+221771234567`, as the crate's formatter writes it in that mode
/// (`+`, the calling code, the national number's leading zeros and digits), with neither
/// its metadata lookup nor `fmt`: it is written twice per number. Debug builds (tests,
/// fuzzing) check it against the formatter on every call.
fn write_e164(number: &phonenumber::PhoneNumber) -> String {
    let national = number.national();
    let (mut code, mut value) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (code, value) = (code.format(number.code().value()), value.format(national.value()));
    let zeros = usize::from(national.zeros());
    let mut written = String::with_capacity(1 + code.len() + zeros + value.len());
    written.push('+');
    written.push_str(code);
    written.extend(std::iter::repeat_n('0', zeros));
    written.push_str(value);
    debug_assert_eq!(written, number.format().mode(phonenumber::Mode::E164).to_string());
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sn() -> DefaultRegion {
        DefaultRegion::from_calling_code("+221").unwrap()
    }

    #[test]
    fn every_region_of_the_metadata_reads_as_its_id_and_nothing_else_does() {
        // The vendored crate finds an id by a binary search in `Id::ALL` (its RAPPEL.md).
        assert!(
            Id::ALL.windows(2).all(|w| w[0].as_ref() < w[1].as_ref()),
            "Id::ALL is sorted"
        );
        for id in Id::ALL {
            assert_eq!(Id::from_str(id.as_ref()), Ok(id));
            assert_eq!(Id::try_from(id.as_ref()), Ok(id));
        }
        let mut regions = 0;
        for code in 1..1000 {
            for region in DATABASE.region(&code).unwrap_or_default() {
                if region != "001" {
                    assert_eq!(
                        Id::from_str(region).map(|id| id.as_ref().to_string()),
                        Ok(region.to_string())
                    );
                    regions += 1;
                }
            }
        }
        assert!(regions > 240, "{regions}");
        for text in ["", "S", "sn", "Sn", "SNN", "SN ", "001", "ZZ", "AA", "ZX"] {
            assert!(Id::from_str(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn senegalese_numbers_in_every_usual_spelling() {
        for raw in [
            "77 123 45 67",
            "771234567",
            "+221 77 123 45 67",
            "00221771234567",
            " +221771234567 ",
        ] {
            assert_eq!(normalize_e164(raw, sn()).as_deref(), Ok("+221771234567"), "{raw}");
        }
    }

    #[test]
    fn punctuation_and_plus_signs_beyond_ascii() {
        // Copied from a word processor or a phone's contacts: no-break spaces, non-breaking
        // hyphens, a full-width plus, brackets, dots and slashes.
        for raw in [
            "+221\u{00A0}77\u{00A0}123\u{00A0}45\u{00A0}67",
            "77\u{2011}123\u{2011}45\u{2011}67",
            "\u{FF0B}221 77 123 45 67",
            "(+221) 77.123.45.67",
            "77/123-45-67",
            "77\u{3000}123\u{3000}45\u{3000}67",
        ] {
            assert_eq!(normalize_e164(raw, sn()).as_deref(), Ok("+221771234567"), "{raw:?}");
        }
        assert!(normalize_e164("sept sept", sn()).is_err());
    }

    #[test]
    fn a_normalised_number_normalises_to_itself() {
        // Found by fuzzing: read from GB this gave +252174567, which from the US was invalid.
        let gb = DefaultRegion::from_calling_code("+44").unwrap();
        let e164 = normalize_e164("00252174567", gb).unwrap();
        for code in ["+221", "+33", "+1", "+44", "+225", "+91"] {
            let region = DefaultRegion::from_calling_code(code).unwrap();
            assert_eq!(
                normalize_e164(&e164, region).as_deref(),
                Ok(e164.as_str()),
                "from {code}"
            );
        }
    }

    #[test]
    fn threads_checking_numbers_at_once_agree_with_one_thread() {
        // The phone metadata's expressions are shared by every thread (vendor/regex-cache).
        let raws = [
            "77 123 45 67",
            "+33 6 12 34 56 78",
            "00221 33 821 00 00",
            "12",
            "76-555-12-34",
            "+1 202 456 1414",
        ];
        let alone: Vec<_> = raws.iter().map(|r| normalize_e164(r, sn())).collect();
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..200)
                            .map(|i| normalize_e164(raws[i % raws.len()], sn()))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for thread in threads {
                let results = thread.join().expect("no panic");
                for (i, result) in results.iter().enumerate() {
                    assert_eq!(result, &alone[i % raws.len()], "{}", raws[i % raws.len()]);
                }
            }
        });
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        assert_eq!(normalize_e164("+33 6 12 34 56 78", sn()).as_deref(), Ok("+33612345678"));
    }

    #[test]
    fn invalid_and_garbage_are_refused() {
        assert_eq!(normalize_e164("", sn()), Err(PhoneError::Empty));
        assert!(matches!(
            normalize_e164("12", sn()),
            Err(PhoneError::Invalid(_) | PhoneError::Unparseable(_))
        ));
        assert!(matches!(normalize_e164("abc", sn()), Err(PhoneError::Unparseable(_))));
        assert!(matches!(
            normalize_e164("77 123", sn()),
            Err(PhoneError::Invalid(_) | PhoneError::Unparseable(_))
        ));
    }

    #[test]
    fn the_quick_table_agrees_with_the_metadata() {
        for (code, region) in COMMON {
            let main = DATABASE.region(code).unwrap()[0].to_string();
            assert_eq!(main, region.as_ref(), "+{code}");
        }
    }

    #[test]
    fn calling_codes() {
        assert!(DefaultRegion::from_calling_code("221").is_ok());
        assert!(DefaultRegion::from_calling_code("00221").is_ok());
        assert!(DefaultRegion::from_calling_code("+999").is_err());
        assert!(DefaultRegion::from_calling_code("senegal").is_err());
    }

    /// The vendored `phonenumber` reads whether a text can be a phone number in one pass
    /// (`vendor/phonenumber/RAPPEL.md`); debug builds assert on every call that its parser
    /// combinators agree. Every text of up to four of these pieces is asked.
    #[test]
    fn viable_numbers_are_read_as_the_parser_reads_them() {
        let pieces = [
            "1", "23", "+", "\u{FF0B}", "-", " ", "(", "*", "x", "Z", "\u{2011}", "\u{3000}", "@", ".", "é", "0",
        ];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
            texts.sort();
            texts.dedup();
        }
        assert!(texts.len() > 50_000, "{}", texts.len());
        let viable = texts.iter().filter(|t| phonenumber::is_viable(t.as_str())).count();
        // Both answers occur, so the assertion compares both ways.
        assert!(
            viable > 1_000 && viable < texts.len() - 1_000,
            "{viable} of {}",
            texts.len()
        );
    }
}
