//! Which message a reminder uses: ordered rules on amount, stage, days overdue, channel and
//! locale (first match wins), and A/B experiments whose variant is sticky per debtor.

use serde::{Deserialize, Deserializer, de};
use std::collections::BTreeMap;

/// `[[messages]]`: one rule. Every condition given must hold; the first rule that matches
/// decides the template (or the experiment).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MessageRule {
    /// The overdue balance is at least this, in major units (XOF, euros).
    pub min_amount: Option<u64>,
    /// The overdue balance is below this, in major units.
    pub max_amount: Option<u64>,
    /// The reminder's number in its cycle: `"1"`, `"2"`, `"3+"` (3rd and later), `"2-4"`.
    #[serde(default, deserialize_with = "stage")]
    pub stage: Option<Stage>,
    /// The oldest overdue item is at least this many days past due.
    pub min_days_overdue: Option<u32>,
    /// The oldest overdue item is fewer than this many days past due.
    pub max_days_overdue: Option<u32>,
    /// Only on this channel (`[channels.NAME]`).
    pub channel: Option<String>,
    /// Only in this locale.
    pub locale: Option<String>,
    /// The template (`templates/<locale>/<medium>/<template>.hbs`). Required unless
    /// `experiment` is given.
    pub template: Option<String>,
    /// An `[experiments.NAME]` whose variant picks the template.
    pub experiment: Option<String>,
}

/// A range of reminder numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// First number included.
    pub from: u32,
    /// Last number included (`None`: and all later).
    pub to: Option<u32>,
}

impl Stage {
    /// Parses `"1"`, `"3+"`, `"2-4"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let bad = || format!("\"{text}\" is not a stage (expected e.g. \"1\", \"3+\" or \"2-4\")");
        let num = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(bad);
        if let Some(from) = t.strip_suffix('+') {
            Ok(Self {
                from: num(from)?,
                to: None,
            })
        } else if let Some((a, b)) = t.split_once('-') {
            let (from, to) = (num(a)?, num(b)?);
            if to < from {
                return Err(bad());
            }
            Ok(Self { from, to: Some(to) })
        } else {
            let n = num(t)?;
            Ok(Self { from: n, to: Some(n) })
        }
    }

    fn contains(&self, n: u32) -> bool {
        n >= self.from && self.to.is_none_or(|to| n <= to)
    }
}

fn stage<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Stage>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u32),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Number(n) => n.to_string(),
        Raw::Text(t) => t,
    };
    Stage::parse(&text).map(Some).map_err(de::Error::custom)
}

/// `[experiments.NAME]`: variants and their weights.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// The variants, e.g. `[{ name = "a", weight = 50, template = "reminder" }, …]`.
    pub variants: Vec<Variant>,
}

/// One arm of an experiment.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Its name, stored on each reminder (`a`, `firm`).
    pub name: String,
    /// Its share of debtors, relative to the other weights.
    pub weight: u32,
    /// The template it sends.
    pub template: String,
}

/// What a reminder says: its template and, in an experiment, the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The template name (`reminder-firm`).
    pub template: String,
    /// The experiment, if any.
    pub experiment: Option<String>,
    /// The variant, if any.
    pub variant: Option<String>,
}

/// The facts a rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The client's id, for sticky variants.
    pub debtor_id: &'a str,
    /// Overdue balance in major units.
    pub amount: u64,
    /// The reminder's number in its cycle.
    pub stage: u32,
    /// Days past due of the oldest overdue item.
    pub days_overdue: u32,
    /// The channel's name.
    pub channel: &'a str,
    /// The locale.
    pub locale: &'a str,
}

/// The rules and experiments of a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    /// Ordered rules.
    pub rules: Vec<MessageRule>,
    /// Experiments by name.
    pub experiments: BTreeMap<String, Experiment>,
}

/// The default template.
pub const DEFAULT_TEMPLATE: &str = "reminder";

impl Default for Strategy {
    /// A gentle first reminder, a firmer one from the third, and a distinct tone from
    /// 500 000 (XOF) owed.
    fn default() -> Self {
        Self {
            rules: vec![
                MessageRule {
                    min_amount: Some(500_000),
                    template: Some("reminder-large".into()),
                    ..Default::default()
                },
                MessageRule {
                    stage: Some(Stage { from: 3, to: None }),
                    template: Some("reminder-firm".into()),
                    ..Default::default()
                },
            ],
            experiments: BTreeMap::new(),
        }
    }
}

impl Strategy {
    /// Problems: rules without a template or experiment, unknown experiments, experiments
    /// without variants or weight. Each names its key.
    pub fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("messages[{i}]");
            match (&rule.template, &rule.experiment) {
                (None, None) => out.push((at, "needs `template` or `experiment`".into())),
                (Some(_), Some(_)) => out.push((at, "give `template` or `experiment`, not both".into())),
                (_, Some(e)) if !self.experiments.contains_key(e) => {
                    out.push((format!("{at}.experiment"), format!("no [experiments.{e}] table")));
                }
                _ => {}
            }
        }
        for (name, e) in &self.experiments {
            if e.variants.is_empty() || e.variants.iter().all(|v| v.weight == 0) {
                out.push((
                    format!("experiments.{name}.variants"),
                    "needs at least one variant with a weight".into(),
                ));
            }
        }
        out
    }

    /// Every template a reminder may use, for checks at start-up.
    pub fn templates(&self) -> Vec<String> {
        let mut names = vec![DEFAULT_TEMPLATE.to_string()];
        names.extend(self.rules.iter().filter_map(|r| r.template.clone()));
        names.extend(
            self.experiments
                .values()
                .flat_map(|e| e.variants.iter().map(|v| v.template.clone())),
        );
        names.sort();
        names.dedup();
        names
    }

    /// The message for these facts: the first matching rule, else the default template.
    pub fn choose(&self, facts: Facts<'_>) -> Choice {
        let Some(rule) = self.rules.iter().find(|r| matches(r, facts)) else {
            return Choice {
                template: DEFAULT_TEMPLATE.into(),
                experiment: None,
                variant: None,
            };
        };
        if let Some(name) = &rule.experiment
            && let Some(variant) = self
                .experiments
                .get(name)
                .and_then(|e| assign(facts.debtor_id, name, &e.variants))
        {
            return Choice {
                template: variant.template.clone(),
                experiment: Some(name.clone()),
                variant: Some(variant.name.clone()),
            };
        }
        Choice {
            template: rule.template.clone().unwrap_or_else(|| DEFAULT_TEMPLATE.into()),
            experiment: None,
            variant: None,
        }
    }
}

fn matches(r: &MessageRule, f: Facts<'_>) -> bool {
    r.min_amount.is_none_or(|m| f.amount >= m)
        && r.max_amount.is_none_or(|m| f.amount < m)
        && r.stage.is_none_or(|s| s.contains(f.stage))
        && r.min_days_overdue.is_none_or(|d| f.days_overdue >= d)
        && r.max_days_overdue.is_none_or(|d| f.days_overdue < d)
        && r.channel.as_deref().is_none_or(|c| c == f.channel)
        && r.locale.as_deref().is_none_or(|l| l == f.locale)
}

/// The variant of `debtor` in `experiment`: a hash of both (FNV-1a, stable across runs,
/// processes and versions) placed on the cumulative weights.
pub fn assign<'v>(debtor: &str, experiment: &str, variants: &'v [Variant]) -> Option<&'v Variant> {
    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
    if total == 0 {
        return None;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in experiment.bytes().chain([0]).chain(debtor.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // Mix the high bits down: FNV's low bits are weak for short keys.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    let mut point = hash % total;
    variants.iter().find(|v| {
        if point < u64::from(v.weight) {
            true
        } else {
            point -= u64::from(v.weight);
            false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(amount: u64, stage: u32) -> Facts<'static> {
        Facts {
            debtor_id: "C1",
            amount,
            stage,
            days_overdue: 10,
            channel: "sms",
            locale: "fr",
        }
    }

    #[test]
    fn stages() {
        assert_eq!(Stage::parse("3+").unwrap(), Stage { from: 3, to: None });
        assert_eq!(Stage::parse("2-4").unwrap(), Stage { from: 2, to: Some(4) });
        assert_eq!(Stage::parse("1").unwrap(), Stage { from: 1, to: Some(1) });
        assert!(Stage::parse("0").is_err() && Stage::parse("4-2").is_err() && Stage::parse("x").is_err());
    }

    #[test]
    fn defaults_gentle_firm_and_large() {
        let s = Strategy::default();
        assert_eq!(s.choose(facts(2_500, 1)).template, "reminder");
        assert_eq!(s.choose(facts(2_500, 2)).template, "reminder");
        assert_eq!(s.choose(facts(2_500, 3)).template, "reminder-firm");
        assert_eq!(s.choose(facts(2_500, 7)).template, "reminder-firm");
        assert_eq!(
            s.choose(facts(500_000, 1)).template,
            "reminder-large",
            "bands: inclusive lower bound"
        );
        assert_eq!(s.choose(facts(499_999, 1)).template, "reminder");
        assert_eq!(
            s.choose(facts(600_000, 3)).template,
            "reminder-large",
            "first match wins"
        );
    }

    #[test]
    fn every_condition_must_hold() {
        let rule = MessageRule {
            min_amount: Some(10_000),
            max_amount: Some(100_000),
            stage: Some(Stage { from: 2, to: Some(2) }),
            min_days_overdue: Some(5),
            max_days_overdue: Some(30),
            channel: Some("sms".into()),
            locale: Some("fr".into()),
            template: Some("t".into()),
            experiment: None,
        };
        let s = Strategy {
            rules: vec![rule],
            experiments: BTreeMap::new(),
        };
        let ok = Facts {
            debtor_id: "C1",
            amount: 10_000,
            stage: 2,
            days_overdue: 5,
            channel: "sms",
            locale: "fr",
        };
        assert_eq!(s.choose(ok).template, "t");
        for f in [
            Facts { amount: 9_999, ..ok },
            Facts { amount: 100_000, ..ok },
            Facts { stage: 3, ..ok },
            Facts { days_overdue: 4, ..ok },
            Facts { days_overdue: 30, ..ok },
            Facts { channel: "email", ..ok },
            Facts { locale: "en", ..ok },
        ] {
            assert_eq!(s.choose(f).template, "reminder", "{f:?}");
        }
    }

    fn experiment(weights: &[(&str, u32)]) -> Strategy {
        let variants = weights
            .iter()
            .map(|(n, w)| Variant {
                name: n.to_string(),
                weight: *w,
                template: format!("t-{n}"),
            })
            .collect();
        Strategy {
            rules: vec![MessageRule {
                experiment: Some("tone".into()),
                ..Default::default()
            }],
            experiments: [("tone".to_string(), Experiment { variants })].into(),
        }
    }

    #[test]
    fn variants_are_sticky_and_split_by_weight() {
        let s = experiment(&[("a", 50), ("b", 50)]);
        let first = s.choose(facts(1, 1));
        assert_eq!(first.experiment.as_deref(), Some("tone"));
        for stage in 2..6 {
            assert_eq!(s.choose(facts(1, stage)), first, "the same variant all cycle long");
        }
        for (weights, want) in [
            (&[("a", 50), ("b", 50)][..], [0.5, 0.5]),
            (&[("a", 80), ("b", 20)][..], [0.8, 0.2]),
        ] {
            let s = experiment(weights);
            let n = 10_000;
            let a = (0..n)
                .filter(|i| {
                    let id = format!("C{i}");
                    s.choose(Facts {
                        debtor_id: &id,
                        ..facts(1, 1)
                    })
                    .variant
                    .as_deref()
                        == Some("a")
                })
                .count() as f64
                / f64::from(n);
            assert!((a - want[0]).abs() <= 0.02, "{a} vs {}", want[0]);
        }
    }

    #[test]
    fn assignment_is_reproducible() {
        let variants = vec![
            Variant {
                name: "a".into(),
                weight: 1,
                template: "x".into(),
            },
            Variant {
                name: "b".into(),
                weight: 1,
                template: "y".into(),
            },
        ];
        // Fixed values: a change of hash would reshuffle running experiments.
        let names: Vec<&str> = ["C001", "C002", "C003", "C004"]
            .iter()
            .map(|d| assign(d, "tone", &variants).unwrap().name.as_str())
            .collect();
        assert_eq!(names, ["b", "b", "a", "a"]);
    }

    #[test]
    fn checks_name_the_key() {
        let mut s = experiment(&[("a", 0)]);
        s.rules.push(MessageRule::default());
        s.rules.push(MessageRule {
            experiment: Some("nope".into()),
            ..Default::default()
        });
        let problems = s.check();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["messages[1]", "messages[2].experiment", "experiments.tone.variants"]
        );
    }
}
