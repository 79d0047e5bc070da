//! The debt book itself: clients with several invoices and manual debts each, in XOF, some
//! paid, some partly paid, some not yet due, and a few rows a spreadsheet user got wrong.

use crate::people::{Person, PhoneQuality, person};
use crate::rng::Rng;
use chrono::{Days, NaiveDate};

/// What kind of book to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// A shop's real book: paid, partly paid, overdue and not-yet-due items, a few missing
    /// or unusable phone numbers, a few unreadable rows.
    Mixed,
    /// Every client owes something overdue and has a valid mobile number, no bad rows: each
    /// client gets exactly one reminder (for send benchmarks).
    Due,
}

/// What the generator needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
    pub debtors: u64,
    pub items: u64,
    pub profile: Profile,
    /// The day the book is read: due dates are placed around it.
    pub today: NaiveDate,
    /// Share of rows written wrongly (CSV only; mixed profile only).
    pub bad_rows: f64,
    pub seed: u64,
}

/// Invoice or manual debt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    Manual,
}

/// A mistake in a row, as people make them in spreadsheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mistake {
    /// `12,5OO`: a letter O typed for a zero.
    AmountTypo,
    /// `31/02/2025`: no such day.
    BadDate,
    /// `avoir`: not a kind rappel knows.
    UnknownKind,
    /// The client column left empty.
    NoDebtor,
}

/// One invoice or manual debt.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: Kind,
    /// `FAC-000042` for invoices, a number for manual debts.
    pub reference: String,
    /// Unique per kind, from 1: the database id.
    pub id: u64,
    pub due_date: NaiveDate,
    /// Whole XOF.
    pub amount: i64,
    /// Payments received, whole XOF each, with their dates.
    pub payments: Vec<(NaiveDate, i64)>,
    pub mistake: Option<Mistake>,
}

impl Item {
    /// The sum of the payments.
    pub fn paid(&self) -> i64 {
        self.payments.iter().map(|(_, a)| a).sum()
    }
}

/// A client and their items.
pub struct Debtor {
    /// From 1: the database id, and the CSV's debtor_id.
    pub id: u64,
    pub person: Person,
    pub items: Vec<Item>,
}

/// Generates the book one debtor at a time (a million items never sit in memory at once).
pub struct Generator {
    plan: Plan,
    rng: Rng,
    /// Items per debtor, decided up front so the total is exact.
    counts: Vec<u8>,
    next_debtor: u64,
    next_invoice: u64,
    next_manual: u64,
}

/// Most clients have a few items; a few have many.
const MAX_ITEMS_PER_DEBTOR: u8 = 24;

impl Generator {
    pub fn new(plan: Plan) -> anyhow::Result<Self> {
        anyhow::ensure!(plan.debtors > 0, "--debtors must be at least 1");
        anyhow::ensure!(
            plan.items >= plan.debtors,
            "--items ({}) must be at least --debtors ({}): every client has an item",
            plan.items,
            plan.debtors
        );
        anyhow::ensure!(
            plan.items <= plan.debtors * u64::from(MAX_ITEMS_PER_DEBTOR),
            "--items is more than {MAX_ITEMS_PER_DEBTOR} per debtor"
        );
        let mut rng = Rng::new(plan.seed);
        let mut counts = vec![1u8; plan.debtors as usize];
        let mut extra = plan.items - plan.debtors;
        while extra > 0 {
            let slot = &mut counts[rng.below(plan.debtors) as usize];
            if *slot < MAX_ITEMS_PER_DEBTOR {
                *slot += 1;
                extra -= 1;
            }
        }
        Ok(Self {
            plan,
            rng,
            counts,
            next_debtor: 0,
            next_invoice: 0,
            next_manual: 0,
        })
    }

    fn item(&mut self, overdue_unpaid: bool) -> Item {
        let rng = &mut self.rng;
        let today = self.plan.today;
        let kind = if rng.chance(0.75) { Kind::Invoice } else { Kind::Manual };
        let (id, reference) = match kind {
            Kind::Invoice => {
                self.next_invoice += 1;
                (self.next_invoice, format!("FAC-{:06}", self.next_invoice))
            }
            Kind::Manual => {
                self.next_manual += 1;
                (self.next_manual, self.next_manual.to_string())
            }
        };
        // Amounts from 500 to 500 000 XOF, small ones more frequent, rounded like prices.
        let raw = (500.0 * 1000f64.powf(rng.unit())) as i64;
        let step = if raw < 10_000 { 100 } else { 500 };
        let amount = (raw / step).max(1) * step;
        let not_yet_due = !overdue_unpaid && rng.chance(0.2);
        let due_date = if not_yet_due {
            today + Days::new(rng.below(46))
        } else {
            today - Days::new(1 + rng.below(180))
        };
        let roll = if overdue_unpaid { rng.unit() * 0.65 } else { rng.unit() };
        let paid = if roll < 0.45 {
            0
        } else if roll < 0.65 {
            // Partial: 10 % to 90 %, rounded to 100 XOF, never the whole amount.
            ((amount as f64 * (0.1 + 0.8 * rng.unit())) as i64 / 100 * 100).clamp(100, (amount - 100).max(100))
        } else {
            amount
        };
        let mut payments = Vec::new();
        if paid > 0 && paid < amount && paid >= 200 && rng.chance(0.5) {
            let first = paid / 200 * 100;
            payments.push((due_date - Days::new(rng.below(10)), first));
            payments.push((due_date + Days::new(rng.below(20)), paid - first));
        } else if paid > 0 {
            payments.push((due_date - Days::new(rng.below(20)), paid));
        }
        let mistake = if self.plan.profile == Profile::Mixed && rng.chance(self.plan.bad_rows) {
            Some(*rng.pick(&[
                Mistake::AmountTypo,
                Mistake::BadDate,
                Mistake::UnknownKind,
                Mistake::NoDebtor,
            ]))
        } else {
            None
        };
        Item {
            kind,
            reference,
            id,
            due_date,
            amount,
            payments,
            mistake,
        }
    }
}

impl Iterator for Generator {
    type Item = Debtor;

    fn next(&mut self) -> Option<Debtor> {
        let count = *self.counts.get(self.next_debtor as usize)?;
        self.next_debtor += 1;
        let id = self.next_debtor;
        let quality = match self.plan.profile {
            Profile::Mixed => PhoneQuality::Realistic,
            Profile::Due => PhoneQuality::Valid,
        };
        let person = person(&mut self.rng, id, quality);
        let due = self.plan.profile == Profile::Due;
        // In the due profile the first item is overdue and unpaid; the others are anything.
        let items = (0..count).map(|i| self.item(due && i == 0)).collect();
        Some(Debtor { id, person, items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(profile: Profile) -> Plan {
        Plan {
            debtors: 1000,
            items: 3333,
            profile,
            today: NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
            bad_rows: 0.01,
            seed: 3,
        }
    }

    #[test]
    fn the_total_is_exact_and_the_statuses_are_mixed() {
        let debtors: Vec<Debtor> = Generator::new(plan(Profile::Mixed)).unwrap().collect();
        let items: Vec<&Item> = debtors.iter().flat_map(|d| &d.items).collect();
        assert_eq!(debtors.len(), 1000);
        assert_eq!(items.len(), 3333);
        let today = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
        assert!(items.iter().any(|i| i.paid() == 0));
        assert!(items.iter().any(|i| i.paid() == i.amount));
        assert!(items.iter().any(|i| i.paid() > 0 && i.paid() < i.amount));
        assert!(items.iter().any(|i| i.due_date >= today));
        assert!(items.iter().any(|i| i.kind == Kind::Manual));
        assert!(items.iter().any(|i| i.mistake.is_some()));
        assert!(items.iter().all(|i| i.amount > 0 && i.paid() <= i.amount));
    }

    #[test]
    fn the_due_profile_gives_every_client_an_overdue_balance() {
        let today = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
        for d in Generator::new(plan(Profile::Due)).unwrap() {
            let first = &d.items[0];
            assert!(first.due_date < today && first.paid() < first.amount);
            assert!(d.items.iter().all(|i| i.mistake.is_none()));
            assert!(!d.person.phone.is_empty());
        }
    }
}
