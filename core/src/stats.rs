//! `rappel stats`: what each message and experiment variant achieved. Payments come from
//! drops of the overdue balance between checks, each attributed to the client's last
//! reminder sent within `[rules] attribution_days` before it.

use crate::ledger::{Payment, SentReminder};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Below this many clients per variant, no verdict is given.
pub const MIN_SAMPLE: usize = 30;

/// The results of one message (and variant).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupStats {
    /// The message (`reminder-firm`).
    pub message: String,
    /// The experiment, if any.
    pub experiment: Option<String>,
    /// The variant, if any.
    pub variant: Option<String>,
    /// Distinct clients reminded.
    pub clients_reminded: usize,
    /// Reminders sent.
    pub reminders_sent: usize,
    /// Clients who paid in full after a reminder of this group.
    pub paid_in_full: usize,
    /// Clients who paid part (and not in full).
    pub paid_in_part: usize,
    /// Amount recovered, minor units.
    pub recovered_minor: i64,
    /// Amount owed when first reminded by this group, minor units.
    pub owed_minor: i64,
    /// Currency of the amounts.
    pub currency: String,
    /// `recovered / owed`, 0..1.
    pub recovery_rate: f64,
    /// `paid_in_full / clients_reminded`, 0..1.
    pub full_payment_rate: f64,
    /// Median days from reminder to payment.
    pub median_days_to_payment: Option<f64>,
    /// SMS segments.
    pub segments: i64,
    /// Estimated cost, decimal.
    pub estimated_cost: String,
    /// Its currency.
    pub cost_currency: Option<String>,
    /// Estimated cost per 1 000 units recovered (major units of `currency`), decimal.
    pub cost_per_1000_recovered: Option<String>,
}

/// Two variants of one experiment compared on full-payment rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The experiment.
    pub experiment: String,
    /// First variant.
    pub a: String,
    /// Second variant.
    pub b: String,
    /// `rate(a) - rate(b)`.
    pub difference: f64,
    /// Two-proportion z statistic.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// In plain words.
    pub verdict: String,
}

/// Statistics per message/variant, and comparisons between variants.
pub fn compute(
    reminders: &[SentReminder],
    payments: &[Payment],
    experiment: Option<&str>,
) -> (Vec<GroupStats>, Vec<Comparison>) {
    let by_id: HashMap<i64, &SentReminder> = reminders.iter().map(|r| (r.id, r)).collect();
    type Key = (String, Option<String>, Option<String>);
    let key = |r: &SentReminder| -> Key { (r.message.clone(), r.experiment.clone(), r.variant.clone()) };
    let mut groups: BTreeMap<Key, Vec<&SentReminder>> = BTreeMap::new();
    for r in reminders
        .iter()
        .filter(|r| experiment.is_none_or(|e| r.experiment.as_deref() == Some(e)))
    {
        groups.entry(key(r)).or_default().push(r);
    }
    let mut out = Vec::new();
    for ((message, experiment, variant), sent) in &groups {
        let mut first: BTreeMap<&str, &SentReminder> = BTreeMap::new();
        for r in sent {
            first.entry(r.debtor_id.as_str()).or_insert(r);
        }
        let attributed: Vec<(&Payment, &SentReminder)> = payments
            .iter()
            .filter_map(|p| p.reminder_id.and_then(|id| by_id.get(&id)).map(|r| (p, *r)))
            .filter(|(_, r)| key(r) == (message.clone(), experiment.clone(), variant.clone()))
            .collect();
        let full: BTreeSet<&str> = attributed
            .iter()
            .filter(|(p, _)| p.full)
            .map(|(p, _)| p.debtor_id.as_str())
            .collect();
        let part: BTreeSet<&str> = attributed
            .iter()
            .map(|(p, _)| p.debtor_id.as_str())
            .filter(|d| !full.contains(d))
            .collect();
        let recovered: i64 = attributed.iter().map(|(p, _)| p.amount_minor).sum();
        let owed: i64 = first.values().map(|r| r.total_minor).sum();
        let mut days: Vec<f64> = attributed
            .iter()
            .map(|(p, r)| (p.at - r.at).num_seconds() as f64 / 86_400.0)
            .collect();
        days.sort_by(f64::total_cmp);
        let median = match days.len() {
            0 => None,
            n if n % 2 == 1 => Some(days[n / 2]),
            n => Some((days[n / 2 - 1] + days[n / 2]) / 2.0),
        };
        let cost: i64 = sent.iter().map(|r| r.cost_micros).sum();
        let currency = sent.first().map(|r| r.currency.clone()).unwrap_or_default();
        let scale = crate::money::parse_currency(&currency).map_or(1, |c| 10_i64.pow(crate::money::exponent(c)));
        let cost_per_1000 = (recovered > 0 && cost > 0).then(|| {
            // micros × 1000 × scale / recovered_minor = cost per 1 000 major units.
            crate::money::format_micros((i128::from(cost) * 1000 * i128::from(scale) / i128::from(recovered)) as i64)
        });
        let clients = first.len();
        out.push(GroupStats {
            message: message.clone(),
            experiment: experiment.clone(),
            variant: variant.clone(),
            clients_reminded: clients,
            reminders_sent: sent.len(),
            paid_in_full: full.len(),
            paid_in_part: part.len(),
            recovered_minor: recovered,
            owed_minor: owed,
            currency,
            recovery_rate: if owed > 0 { recovered as f64 / owed as f64 } else { 0.0 },
            full_payment_rate: if clients > 0 {
                full.len() as f64 / clients as f64
            } else {
                0.0
            },
            median_days_to_payment: median,
            segments: sent.iter().map(|r| r.segments).sum(),
            estimated_cost: crate::money::format_micros(cost),
            cost_currency: sent.iter().find_map(|r| r.cost_currency.clone()),
            cost_per_1000_recovered: cost_per_1000,
        });
    }
    let mut comparisons = Vec::new();
    let experiments: BTreeSet<&String> = out.iter().filter_map(|g| g.experiment.as_ref()).collect();
    for name in experiments {
        let arms: Vec<&GroupStats> = out.iter().filter(|g| g.experiment.as_ref() == Some(name)).collect();
        for (i, a) in arms.iter().enumerate() {
            for b in &arms[i + 1..] {
                comparisons.push(compare(name, a, b));
            }
        }
    }
    (out, comparisons)
}

fn compare(experiment: &str, a: &GroupStats, b: &GroupStats) -> Comparison {
    let (na, nb) = (a.clients_reminded, b.clients_reminded);
    let (z, p) = two_proportion_z(a.paid_in_full, na, b.paid_in_full, nb);
    let (va, vb) = (
        a.variant.clone().unwrap_or_default(),
        b.variant.clone().unwrap_or_default(),
    );
    let verdict = if na.min(nb) < MIN_SAMPLE {
        format!("not enough data yet (at least {MIN_SAMPLE} clients per variant; {va}: {na}, {vb}: {nb})")
    } else if p < 0.05 {
        let better = if a.full_payment_rate > b.full_payment_rate {
            &va
        } else {
            &vb
        };
        format!("variant {better} gets more clients to pay in full (p = {p:.3})")
    } else {
        format!("no clear difference yet (p = {p:.3})")
    };
    Comparison {
        experiment: experiment.to_string(),
        a: va,
        b: vb,
        difference: a.full_payment_rate - b.full_payment_rate,
        z,
        p_value: p,
        verdict,
    }
}

/// The two-proportion z-test with a pooled proportion: `(z, two-sided p)`.
pub fn two_proportion_z(x1: usize, n1: usize, x2: usize, n2: usize) -> (f64, f64) {
    if n1 == 0 || n2 == 0 {
        return (0.0, 1.0);
    }
    let (x1, n1, x2, n2) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    let pooled = (x1 + x2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return (0.0, 1.0);
    }
    let z = (x1 / n1 - x2 / n2) / se;
    (z, 2.0 * (1.0 - normal_cdf(z.abs())))
}

/// Φ(x), from the complementary error function.
fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// erfc with relative error below 1.2e-7 everywhere (Numerical Recipes' `erfcc`).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    #[test]
    fn z_test_matches_a_textbook_example() {
        // Two-proportion z-test: 45/100 vs 30/100, pooled p = 0.375:
        // z = 0.15 / sqrt(0.375 * 0.625 * 0.02) = 2.1909, two-sided p = 0.02846.
        let (z, p) = two_proportion_z(45, 100, 30, 100);
        assert!((z - 2.1909).abs() < 1e-3, "{z}");
        assert!((p - 0.02846).abs() < 1e-4, "{p}");
        let (z, p) = two_proportion_z(30, 100, 30, 100);
        assert!(z == 0.0 && (p - 1.0).abs() < 1e-6, "{z} {p}");
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn sent(id: i64, debtor: &str, variant: &str, total: i64, when: &str) -> SentReminder {
        SentReminder {
            id,
            debtor_id: debtor.into(),
            message: "reminder".into(),
            experiment: Some("tone".into()),
            variant: Some(variant.into()),
            total_minor: total,
            currency: "XOF".into(),
            segments: 2,
            cost_micros: 15_000,
            cost_currency: Some("USD".into()),
            at: at(when),
        }
    }

    #[test]
    fn groups_count_payers_amounts_and_days() {
        let reminders = vec![
            sent(1, "A", "a", 10_000, "2025-12-01T00:00:00Z"),
            sent(2, "B", "a", 20_000, "2025-12-01T00:00:00Z"),
            sent(3, "C", "b", 5_000, "2025-12-01T00:00:00Z"),
            sent(4, "B", "a", 20_000, "2025-12-04T00:00:00Z"),
        ];
        let pay = |d: &str, amount, full, when: &str, r| Payment {
            debtor_id: d.into(),
            amount_minor: amount,
            currency: "XOF".into(),
            full,
            at: at(when),
            reminder_id: Some(r),
        };
        let payments = vec![
            pay("A", 10_000, true, "2025-12-02T00:00:00Z", 1),
            pay("B", 5_000, false, "2025-12-06T00:00:00Z", 4),
        ];
        let (groups, comparisons) = compute(&reminders, &payments, None);
        let a = groups.iter().find(|g| g.variant.as_deref() == Some("a")).unwrap();
        assert_eq!(
            (a.clients_reminded, a.reminders_sent, a.paid_in_full, a.paid_in_part),
            (2, 3, 1, 1)
        );
        assert_eq!((a.recovered_minor, a.owed_minor), (15_000, 30_000));
        assert_eq!(a.recovery_rate, 0.5);
        assert_eq!(a.median_days_to_payment, Some(1.5));
        assert_eq!((a.segments, a.estimated_cost.as_str()), (6, "0.045"));
        // 0.045 USD for 15 000 XOF: 0.003 USD per 1 000 XOF.
        assert_eq!(a.cost_per_1000_recovered.as_deref(), Some("0.003"));
        let b = groups.iter().find(|g| g.variant.as_deref() == Some("b")).unwrap();
        assert_eq!((b.paid_in_full, b.recovered_minor), (0, 0));
        assert_eq!(comparisons.len(), 1);
        assert!(
            comparisons[0].verdict.starts_with("not enough data yet"),
            "{}",
            comparisons[0].verdict
        );
    }
}
