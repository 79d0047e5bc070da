//! The book as the CSV a shop exports: rappel's default header, amounts written with or
//! without a thousands separator, the few unreadable rows as people type them.

use crate::book::{Debtor, Kind, Mistake};
use std::io::Write;

/// rappel's default CSV header.
pub const HEADER: [&str; 10] = [
    "debtor_id",
    "name",
    "phone",
    "email",
    "kind",
    "reference",
    "due_date",
    "amount",
    "paid",
    "currency",
];

/// `2 500` half of the time (as typed in a French spreadsheet), `2500` otherwise; decided by
/// the amount itself so the file is the same for the same seed.
fn amount_text(amount: i64, spaced: bool) -> String {
    let digits = amount.to_string();
    if !spaced {
        return digits;
    }
    let mut out = String::with_capacity(digits.len() + 4);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Writes the header, then one row per item, returning (rows, bad rows).
pub fn write(out: impl Write, debtors: impl Iterator<Item = Debtor>) -> anyhow::Result<(u64, u64)> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    let (mut rows, mut bad) = (0u64, 0u64);
    for d in debtors {
        let id = d.id.to_string();
        for item in &d.items {
            let spaced = item.id % 2 == 0;
            let mut amount = amount_text(item.amount, spaced);
            let mut due = item.due_date.format("%Y-%m-%d").to_string();
            let mut kind = match item.kind {
                Kind::Invoice => "invoice",
                Kind::Manual => "manual",
            };
            let mut debtor = id.as_str();
            match item.mistake {
                None => {}
                Some(Mistake::AmountTypo) => amount = amount.replace('0', "O"),
                Some(Mistake::BadDate) => due = format!("31/02/{}", item.due_date.format("%Y")),
                Some(Mistake::UnknownKind) => kind = "avoir",
                Some(Mistake::NoDebtor) => debtor = "",
            }
            bad += u64::from(item.mistake.is_some());
            let currency = if item.id % 5 == 0 { "" } else { "XOF" };
            w.write_record([
                debtor,
                &d.person.name,
                &d.person.phone,
                &d.person.email,
                kind,
                &item.reference,
                &due,
                &amount,
                &amount_text(item.paid(), spaced),
                currency,
            ])?;
            rows += 1;
        }
    }
    w.flush()?;
    Ok((rows, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_with_a_space() {
        assert_eq!(amount_text(235_000, true), "235 000");
        assert_eq!(amount_text(2_500, true), "2 500");
        assert_eq!(amount_text(500, true), "500");
        assert_eq!(amount_text(1_234_500, false), "1234500");
    }
}
