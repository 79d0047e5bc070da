//! `rappel-datagen`: writes a realistic debt book of any size — N clients with several
//! invoices and manual debts each, in XOF, Senegalese phone numbers in every usual spelling,
//! paid, partly paid, overdue and not-yet-due items, a few bad rows — as the CSV the `csv`
//! source reads, or as SQL for `config/examples/postgres/schema.sql`. The same seed gives
//! the same book.
//!
//! ```sh
//! cargo run --release -p rappel-datagen -- --debtors 300000 --items 1000000 -o book.csv
//! cargo run --release -p rappel-datagen -- --debtors 1000 --items 3000 --format sql -o book.sql
//! psql "$URL" -f config/examples/postgres/schema.sql && psql "$URL" -f book.sql
//! ```

mod book;
mod csv_out;
mod people;
mod rng;
mod sql_out;

use anyhow::Context as _;
use book::{Generator, Plan, Profile};
use chrono::NaiveDate;
use clap::Parser;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Writes a realistic debt book for tests and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "rappel-datagen", version)]
struct Args {
    /// Number of clients.
    #[arg(long, default_value_t = 1000)]
    debtors: u64,
    /// Number of items (invoices + manual debts), at least one per client; spread unevenly
    /// (most clients have 1–5, a few many more).
    #[arg(long, default_value_t = 3000)]
    items: u64,
    /// `mixed`: a real shop's book. `due`: every client has an overdue balance and a valid
    /// mobile number, no bad rows (one reminder per client, for send benchmarks).
    #[arg(long, value_enum, default_value_t = Profile::Mixed)]
    profile: Profile,
    /// The day the book will be read (`--now` of rappel): due dates fall up to 180 days
    /// before it and 45 days after.
    #[arg(long, default_value = "2025-12-01")]
    today: NaiveDate,
    /// Share of CSV rows written wrongly (amount typo, impossible date, unknown kind, no
    /// client id), in the mixed profile. SQL leaves them out.
    #[arg(long, default_value_t = 0.001)]
    bad_rows: f64,
    /// Seed of the random generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// `csv` (rappel's default header) or `sql` (COPY blocks for the example Postgres schema).
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Output file; `-` is standard output.
    #[arg(short, long, default_value = "-")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Csv,
    Sql,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.bad_rows),
        "--bad-rows must be between 0 and 1"
    );
    let generator = Generator::new(Plan {
        debtors: args.debtors,
        items: args.items,
        profile: args.profile,
        today: args.today,
        bad_rows: args.bad_rows,
        seed: args.seed,
    })?;
    let out: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?)
    };
    let out = BufWriter::with_capacity(1 << 20, out);
    match args.format {
        Format::Csv => {
            let (rows, bad) = csv_out::write(out, generator)?;
            eprintln!("rappel-datagen: {} clients, {rows} rows ({bad} bad)", args.debtors);
        }
        Format::Sql => {
            let items = sql_out::write(out, generator)?;
            eprintln!("rappel-datagen: {} clients, {items} items (SQL)", args.debtors);
        }
    }
    Ok(())
}
