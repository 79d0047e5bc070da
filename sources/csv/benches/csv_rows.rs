//! Micro-benchmark of the CSV source per row: a 10 000-row export in the default layout
//! (amounts with and without thousands separators, several phone spellings, a few bad
//! rows), read by the source as `tick` reads it. Criterion reports rows per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rappel_core::config::Config;
use rappel_core::registry::BuildContext;
use std::fmt::Write as _;

const ROWS: usize = 10_000;

fn export() -> String {
    let mut text = String::from("debtor_id,name,phone,email,kind,reference,due_date,amount,paid,currency\n");
    let phones = ["77 123 45 67", "+221 76 234 56 78", "00221781112233", "705556677"];
    for i in 0..ROWS {
        let debtor = i / 3 + 1;
        let (kind, reference) = if i % 4 == 3 {
            ("manual", format!("{i}"))
        } else {
            ("invoice", format!("FAC-{i:06}"))
        };
        let amount = if i % 2 == 0 { "127 000" } else { "2500" };
        let amount = if i % 1000 == 999 { "12,5OO" } else { amount };
        let paid = if i % 3 == 0 { "8 000" } else { "0" };
        let email = if i % 5 == 0 { "fa.guite@example.com" } else { "" };
        let _ = writeln!(
            text,
            "{debtor},Fa Guité {debtor},{},{email},{kind},{reference},2025-11-{:02},{amount},{paid},XOF",
            phones[i % phones.len()],
            i % 28 + 1
        );
    }
    text
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn csv_rows(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("debts.csv"), export()).expect("the export is written");
    let text = "[source]\nkind = \"csv\"\npath = \"debts.csv\"\n[channels.sms]\nkind = \"console\"\n";
    let config = Config::parse(text, &dir.path().join("rappel.toml"), &no_env).expect("the config parses");
    let ctx = BuildContext {
        config: &config,
        component: &config.source,
        name: "source",
        stdout_is_data: false,
    };
    let source = rappel_source_csv::build(&ctx).expect("the source builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("csv");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(20);
    group.bench_function("load 10 000 rows (per row: see thrpt)", |b| {
        b.iter(|| {
            let batch = runtime.block_on(source.load()).expect("the file is read");
            assert_eq!(batch.items.len() + batch.rejected.len(), ROWS);
            batch
        })
    });
    group.finish();
}

criterion_group!(benches, csv_rows);
criterion_main!(benches);
