//! Message rules, experiments, payment attribution: `simulate` and `stats` as users run them.

use crate::util::{Scratch, outbox_config, rappel, repo};

#[test]
fn simulate_the_demo_for_twelve_days_with_two_payments() {
    let dir = tempfile::tempdir().unwrap();
    let payments = dir.path().join("payments.csv");
    // Fa Guité pays everything on day 4; Grand Ndiaye pays everything on day 7.
    std::fs::write(
        &payments,
        "date,debtor_id,amount\n2025-12-05,C002,127 000\n2025-12-08,C003,235000\n",
    )
    .unwrap();
    let out = rappel(
        &repo(),
        &[
            "-c",
            "config/demo.toml",
            "simulate",
            "--days",
            "12",
            "--from",
            "2025-12-01",
            "--json",
        ],
    )
    .arg("--payments")
    .arg(&payments)
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let days_of = |id: &str| -> Vec<i64> {
        events
            .iter()
            .filter(|e| e["debtor_id"] == id && e["event"] == "reminder")
            .map(|e| e["day"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(days_of("C001"), [0, 3, 6, 9], "still owing: every 3 days");
    assert_eq!(days_of("C002"), [0, 3], "paid on day 4");
    assert_eq!(days_of("C003"), [0, 3, 6], "paid on day 7");
    assert!(days_of("C005").is_empty(), "paid before the start");
    let reminder_days: std::collections::BTreeSet<i64> = events
        .iter()
        .filter(|e| e["event"] == "reminder")
        .map(|e| e["day"].as_i64().unwrap())
        .collect();
    assert_eq!(reminder_days.into_iter().collect::<Vec<_>>(), [0, 3, 6, 9]);
    let paid: Vec<(&str, i64)> = events
        .iter()
        .filter(|e| e["event"] == "paid")
        .map(|e| (e["debtor_id"].as_str().unwrap(), e["day"].as_i64().unwrap()))
        .collect();
    assert_eq!(paid, [("C002", 4), ("C003", 7)]);
    // Third reminders and later use the firmer message.
    let third = events
        .iter()
        .find(|e| e["debtor_id"] == "C001" && e["reminder"] == 3)
        .unwrap();
    assert_eq!(third["message"], "reminder-firm");
}

#[test]
fn stats_report_payers_amounts_and_rates_by_variant() {
    let experiment = r#"
[[messages]]
experiment = "tone"

[experiments.tone]
variants = [
  { name = "a", weight = 50, template = "reminder" },
  { name = "b", weight = 50, template = "reminder-firm" },
]
"#;
    let rows = |paid: [u32; 4]| {
        format!(
            "C001,Awa,77 123 45 61,,invoice,F-1,2025-11-20,10000,{},XOF\n\
             C002,Binta,77 123 45 62,,invoice,F-2,2025-11-20,20000,{},XOF\n\
             C003,Coumba,77 123 45 63,,invoice,F-3,2025-11-20,30000,{},XOF\n\
             C004,Dieyna,77 123 45 64,,invoice,F-4,2025-11-20,40000,{},XOF\n",
            paid[0], paid[1], paid[2], paid[3]
        )
    };
    let s = Scratch::new(&(outbox_config("") + experiment), &rows([0; 4]));
    s.run(&["tick", "--now", "2025-12-01T10:00:00Z"]).ok();
    // Day 2: Awa pays in full, Coumba pays 10 000 of 30 000.
    s.write_csv(&rows([10_000, 0, 10_000, 0]));
    s.run(&["tick", "--now", "2025-12-03T10:00:00Z"]).ok();
    // Day 4: Binta pays in full; her last reminder before that was day 0 (within the 7-day
    // attribution window). The check also reminds C003 and C004 again (3 days passed).
    s.write_csv(&rows([10_000, 20_000, 10_000, 0]));
    s.run(&["tick", "--now", "2025-12-05T10:00:00Z"]).ok();

    let variants: std::collections::BTreeMap<String, String> = s
        .outbox()
        .iter()
        .map(|l| {
            (
                l["debtor_id"].as_str().unwrap().to_string(),
                l["body"].as_str().unwrap().to_string(),
            )
        })
        .map(|(id, body)| {
            (
                id,
                if body.contains("Malgré nos précédents rappels") {
                    "b".into()
                } else {
                    "a".into()
                },
            )
        })
        .collect();
    let lines = s.run(&["stats", "--json"]).ok().json_lines();
    let group = |v: &str| {
        lines
            .iter()
            .find(|l| l["kind"] == "group" && l["variant"] == v)
            .cloned()
    };
    // The numbers by hand, from which variant each client got.
    let clients = |v: &str| variants.values().filter(|x| *x == v).count();
    let in_variant = |id: &str, v: &str| variants[id] == v;
    for v in ["a", "b"] {
        let Some(g) = group(v) else {
            assert_eq!(clients(v), 0, "variant {v} has clients but no stats");
            continue;
        };
        let full = ["C001", "C002"].iter().filter(|id| in_variant(id, v)).count();
        let part = usize::from(in_variant("C003", v));
        let recovered: i64 = [("C001", 10_000), ("C002", 20_000), ("C003", 10_000)]
            .iter()
            .filter(|(id, _)| in_variant(id, v))
            .map(|(_, a)| a)
            .sum();
        let owed: i64 = [("C001", 10_000), ("C002", 20_000), ("C003", 30_000), ("C004", 40_000)]
            .iter()
            .filter(|(id, _)| in_variant(id, v))
            .map(|(_, a)| a)
            .sum();
        assert_eq!(g["clients_reminded"], clients(v), "{v}");
        assert_eq!(g["paid_in_full"], full, "{v}");
        assert_eq!(g["paid_in_part"], part, "{v}");
        assert_eq!(g["recovered_minor"], recovered, "{v}");
        assert_eq!(g["owed_minor"], owed, "{v}");
        assert!((g["recovery_rate"].as_f64().unwrap() - recovered as f64 / owed as f64).abs() < 1e-9);
    }
    // Across both variants: Awa and Binta paid in full, Coumba 10 000 of 30 000.
    let groups: Vec<&serde_json::Value> = lines.iter().filter(|l| l["kind"] == "group").collect();
    let sum = |k: &str| groups.iter().map(|g| g[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(
        (sum("paid_in_full"), sum("paid_in_part"), sum("recovered_minor")),
        (2, 1, 40_000)
    );
    assert_eq!(
        (sum("clients_reminded"), sum("reminders_sent")),
        (4, 4 + 2),
        "C003 and C004 reminded again on day 4"
    );
    let comparison = lines.iter().find(|l| l["kind"] == "comparison");
    if clients("a") > 0 && clients("b") > 0 {
        assert!(
            comparison.unwrap()["verdict"]
                .as_str()
                .unwrap()
                .starts_with("not enough data yet")
        );
    }
    let table = s.run(&["stats"]).ok().stdout;
    assert!(table.starts_with("MESSAGE"), "{table}");
}
