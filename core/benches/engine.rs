//! Micro-benchmarks of the engine's per-message steps: phone normalisation, money formatting,
//! rendering the default French SMS, SMS segment counting, one rule decision. Numbers only:
//! no assertion on time (`cargo bench -p rappel-core`; CI runs each once with
//! `cargo test --benches`).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iso_currency::Currency;
use rappel_core::config::RulesConfig;
use rappel_core::phone::{DefaultRegion, normalize_e164};
use rappel_core::render::{ReminderData, Renderer};
use rappel_core::rules::{Balance, CycleHistory, History, Outcome, decide};
use rappel_core::{DebtItem, Debtor, ItemKind, Medium, money, sms};
use std::hint::black_box;

fn item(kind: ItemKind, reference: &str, due: &str, amount: i64, paid: i64) -> DebtItem {
    DebtItem {
        debtor_id: "C002".into(),
        name: "Fa Guité".into(),
        phone: Some("+221 76 234 56 78".into()),
        email: None,
        kind,
        reference: reference.into(),
        due_date: due.parse().expect("a date"),
        amount_minor: amount,
        paid_minor: paid,
        currency: Currency::XOF,
        origin: "bench line 1".into(),
    }
}

/// Fa Guité from the demo: an invoice and a manual debt, 127 000 XOF overdue.
fn debtor() -> Debtor {
    let items = vec![
        item(ItemKind::Invoice, "FAC-0051", "2025-11-10", 100_000, 8_000),
        item(ItemKind::Manual, "18", "2025-11-15", 35_000, 0),
    ];
    Debtor {
        id: "C002".into(),
        name: "Fa Guité".into(),
        phone: Some("+221 76 234 56 78".into()),
        email: None,
        currency: Currency::XOF,
        items,
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 12, 1).expect("a date")
}

fn phone(c: &mut Criterion) {
    let region = DefaultRegion::from_calling_code("+221").expect("+221 is Senegal");
    let spellings = ["77 123 45 67", "771234567", "+221 77 123 45 67", "00221771234567"];
    // The first call loads phonenumber's metadata; keep it out of the measurement.
    normalize_e164(spellings[0], region).expect("valid");
    let mut group = c.benchmark_group("phone");
    group.throughput(Throughput::Elements(spellings.len() as u64));
    group.bench_function("normalize_e164 x4 spellings", |b| {
        b.iter(|| {
            for raw in spellings {
                black_box(normalize_e164(black_box(raw), region).ok());
            }
        })
    });
    group.finish();
}

fn money_format(c: &mut Criterion) {
    c.bench_function("money/format_minor fr 127 000 XOF", |b| {
        b.iter(|| money::format_minor(black_box(127_000), Currency::XOF, black_box("fr")))
    });
}

fn render(c: &mut Criterion) {
    let renderer = Renderer::new("fr", None).expect("the built-in templates compile");
    let debtor = debtor();
    let overdue: Vec<&DebtItem> = debtor.overdue_items(today(), 0).collect();
    let data = ReminderData::new(&debtor, &overdue, today(), 1, "fr");
    let mut group = c.benchmark_group("render");
    group.bench_function("fr sms reminder (data ready)", |b| {
        b.iter(|| {
            renderer
                .render_reminder(Medium::Sms, black_box(&data))
                .expect("renders")
        })
    });
    group.bench_function("fr sms reminder (with ReminderData::new)", |b| {
        b.iter(|| {
            let overdue: Vec<&DebtItem> = debtor.overdue_items(today(), 0).collect();
            let data = ReminderData::new(black_box(&debtor), &overdue, today(), 1, "fr");
            renderer.render_reminder(Medium::Sms, &data).expect("renders")
        })
    });
    group.finish();
}

fn segments(c: &mut Criterion) {
    let renderer = Renderer::new("fr", None).expect("the built-in templates compile");
    let debtor = debtor();
    let overdue: Vec<&DebtItem> = debtor.overdue_items(today(), 0).collect();
    let data = ReminderData::new(&debtor, &overdue, today(), 1, "fr");
    let body = renderer.render_reminder(Medium::Sms, &data).expect("renders").body;
    let whatsapp = renderer.render_reminder(Medium::Whatsapp, &data).expect("renders").body;
    let mut group = c.benchmark_group("sms");
    group.bench_function("analyze fr sms (GSM-7)", |b| b.iter(|| sms::analyze(black_box(&body))));
    group.bench_function("analyze fr whatsapp text (UCS-2)", |b| {
        b.iter(|| sms::analyze(black_box(&whatsapp)))
    });
    group.bench_function("transliterate fr whatsapp text", |b| {
        b.iter(|| sms::transliterate(black_box(&whatsapp)))
    });
    group.finish();
}

fn rule(c: &mut Criterion) {
    let rules = RulesConfig::default();
    let now: DateTime<Utc> = "2025-12-01T10:00:00Z".parse().expect("an instant");
    let local = NaiveTime::from_hms_opt(10, 0, 0).expect("a time");
    let balance = Balance {
        overdue_minor: 127_000,
        min_minor: 0,
        has_address: true,
    };
    let fresh = History::default();
    let waiting = History {
        open_cycle: Some(CycleHistory {
            number: 1,
            sent: 1,
            last_sent_at: Some(now - chrono::Duration::days(1)),
            last_seq: 1,
            last_outcome: Some(Outcome::Sent),
        }),
        last_cycle: 1,
        ..History::default()
    };
    let mut group = c.benchmark_group("rules");
    group.bench_function("decide first reminder", |b| {
        b.iter(|| decide(black_box(balance), black_box(&fresh), &rules, now, local))
    });
    group.bench_function("decide open cycle not yet due", |b| {
        b.iter(|| decide(black_box(balance), black_box(&waiting), &rules, now, local))
    });
    group.finish();
}

criterion_group!(benches, phone, money_format, render, segments, rule);
criterion_main!(benches);
