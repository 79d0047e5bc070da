//! Clients as a Senegalese shop writes them down: names, phone numbers in every usual
//! spelling (and a few that are not numbers at all), sometimes an email address.

use crate::rng::Rng;

const FIRST: &[&str] = &[
    "Awa",
    "Fatou",
    "Aminata",
    "Mariama",
    "Khady",
    "Ndeye",
    "Coumba",
    "Astou",
    "Rokhaya",
    "Aïssatou",
    "Adama",
    "Bineta",
    "Dieynaba",
    "Fama",
    "Maimouna",
    "Seynabou",
    "Yacine",
    "Oumy",
    "Sokhna",
    "Haziza",
    "Moussa",
    "Ousmane",
    "Ibrahima",
    "Abdoulaye",
    "Modou",
    "Serigne",
    "Babacar",
    "Pape",
    "Mamadou",
    "Cheikh",
    "Lamine",
    "Alioune",
    "Omar",
    "Souleymane",
    "Malick",
    "Boubacar",
    "Assane",
    "Demba",
    "Samba",
    "El Hadji",
    "Fa",
];

const LAST: &[&str] = &[
    "Diop", "Ndiaye", "Fall", "Sarr", "Ba", "Gueye", "Cissé", "Diallo", "Sow", "Faye", "Mbaye", "Thiam", "Niang",
    "Seck", "Kane", "Diouf", "Diagne", "Sy", "Dieng", "Mbodj", "Touré", "Camara", "Ndour", "Wade", "Sène", "Gaye",
    "Lo", "Guèye", "Badji", "Sagna", "Guité", "Apple", "ibra",
];

/// Mobile prefixes in use in Senegal (Orange, Free, Expresso).
const MOBILE_PREFIXES: &[&str] = &["77", "78", "76", "70"];

/// A client's contact details as written in the book.
pub struct Person {
    pub name: String,
    /// As written: `77 123 45 67`, `771234567`, `+221…`, `00221…`, empty, or garbage.
    pub phone: String,
    pub email: String,
}

/// How a person was written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneQuality {
    /// A valid mobile number, in any usual spelling.
    Valid,
    /// Mostly valid, a few empty or unusable numbers (a realistic book).
    Realistic,
}

/// A new client. `id` makes emails unique.
pub fn person(rng: &mut Rng, id: u64, quality: PhoneQuality) -> Person {
    let first = *rng.pick(FIRST);
    let last = *rng.pick(LAST);
    let name = format!("{first} {last}");
    let phone = match quality {
        PhoneQuality::Valid => valid_phone(rng),
        PhoneQuality::Realistic => {
            let roll = rng.unit();
            if roll < 0.03 {
                String::new()
            } else if roll < 0.045 {
                rng.pick(&["77 123", "n/a", "0000", "33 82"]).to_string()
            } else {
                valid_phone(rng)
            }
        }
    };
    let email = if rng.chance(0.2) {
        let local: String = format!("{first}.{last}{id}")
            .to_lowercase()
            .chars()
            .map(|c| match c {
                'é' | 'è' => 'e',
                'ï' => 'i',
                ' ' => '-',
                c => c,
            })
            .collect();
        format!("{local}@example.sn")
    } else {
        String::new()
    };
    Person { name, phone, email }
}

/// A valid Senegalese mobile number in one of the spellings people use.
pub fn valid_phone(rng: &mut Rng) -> String {
    let prefix = *rng.pick(MOBILE_PREFIXES);
    let n = rng.below(10_000_000);
    let digits = format!("{prefix}{n:07}");
    let spaced = format!(
        "{} {} {} {}",
        &digits[0..2],
        &digits[2..5],
        &digits[5..7],
        &digits[7..9]
    );
    match rng.below(100) {
        0..35 => spaced,
        35..60 => digits,
        60..75 => format!("+221{digits}"),
        75..85 => format!("+221 {spaced}"),
        _ => format!("00221{digits}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_phones_have_nine_national_digits() {
        let mut rng = Rng::new(1);
        for _ in 0..500 {
            let phone = valid_phone(&mut rng);
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            let national = digits.trim_start_matches("00221").trim_start_matches("221");
            assert_eq!(national.len(), 9, "{phone}");
            assert!(MOBILE_PREFIXES.contains(&&national[..2]), "{phone}");
        }
    }
}
