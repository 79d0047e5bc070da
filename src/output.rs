//! How commands print for people (tables, message blocks) and for scripts (JSON lines).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rappel_core::engine::MessageReport;
use rappel_core::money::{format_minor, parse_currency};
use serde::Serialize;
use std::io::Write;

/// Prints one JSON object on its own line to stdout.
pub fn json_line<T: Serialize>(value: &T) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    if serde_json::to_writer(&mut out, value).is_ok() {
        let _ = writeln!(out);
    }
}

/// Lines for stdout, written in blocks of `capacity` bytes and when flushed.
pub struct Batched {
    buffer: Vec<u8>,
    capacity: usize,
}

impl Batched {
    /// A writer that flushes when `capacity` bytes are waiting.
    pub fn new(capacity: usize) -> Self {
        Self {
            buffer: Vec::with_capacity(capacity.max(256)),
            capacity,
        }
    }

    /// One line of text.
    pub fn line(&mut self, text: &str) {
        self.buffer.extend_from_slice(text.as_bytes());
        self.buffer.push(b'\n');
        self.maybe_flush();
    }

    /// One JSON object on its own line. Written by sonic-rs, whose SIMD string escaping takes
    /// a third of the instructions of serde_json's byte-by-byte loop (`preview` and `tick`
    /// write one line per message); the bytes are serde_json's (tested below).
    pub fn json_line<T: Serialize>(&mut self, value: &T) {
        if sonic_rs::to_writer(&mut self.buffer, value).is_ok() {
            self.buffer.push(b'\n');
        }
        self.maybe_flush();
    }

    fn maybe_flush(&mut self) {
        if self.buffer.len() >= self.capacity {
            self.flush();
        }
    }

    /// Writes what is waiting. A closed pipe (`| head`) is not worth a panic.
    pub fn flush(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&self.buffer).and_then(|()| out.flush());
        self.buffer.clear();
    }
}

/// `2 500 XOF` in the configured locale.
pub fn money(minor: i64, currency: &str, locale: &str) -> String {
    match parse_currency(currency) {
        Some(c) => format_minor(minor, c, locale),
        None => format!("{minor} {currency}"),
    }
}

/// An instant in the configured zone, to the minute.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A message as a block of text: a header line, then the subject and body.
pub fn message_block(m: &MessageReport, locale: &str) -> String {
    let mut out = format!(
        "── {} ({}) → {} · {} · reminder {} · {} ──\n",
        m.name,
        m.debtor_id,
        if m.to.is_empty() { "?" } else { &m.to },
        m.channel,
        m.reminder,
        money(m.total_minor, &m.currency, locale)
    );
    if let (Some(encoding), Some(segments)) = (&m.encoding, m.segments) {
        let cost = match (&m.estimated_cost, &m.cost_currency) {
            (Some(c), Some(cur)) => format!(" · about {c} {cur}"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "({encoding}, {segments} segment{}{cost})\n",
            if segments == 1 { "" } else { "s" }
        ));
    }
    if let Some(subject) = &m.subject {
        out.push_str(&format!("Subject: {subject}\n\n"));
    }
    out.push_str(&m.body);
    out.push('\n');
    out
}

/// A message as one line: status, client, address, total, and the error if any.
pub fn message_line(m: &MessageReport, locale: &str) -> String {
    let mut line = format!(
        "{:<8} {} {} → {} · {} · reminder {}",
        m.status,
        m.debtor_id,
        m.name,
        m.to,
        money(m.total_minor, &m.currency, locale),
        m.reminder
    );
    if let Some(segments) = m.segments {
        line.push_str(&format!(" · {segments} seg"));
    }
    if let Some(e) = &m.error {
        line.push_str(&format!(" · {e}"));
    }
    line
}

/// Left-aligned columns separated by two spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: Vec<&str>| {
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_row(header.to_vec());
    for row in rows {
        push_row(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Line {
        text: String,
        none: Option<String>,
        some: Option<String>,
        count: i64,
        kind: rappel_core::debt::ItemKind,
        items: Vec<Item>,
    }

    #[derive(Serialize)]
    struct Item {
        reference: String,
        remaining_minor: i64,
    }

    fn line(text: &str, count: i64) -> Line {
        Line {
            text: text.to_string(),
            none: None,
            some: Some(text.chars().rev().collect()),
            count,
            kind: rappel_core::debt::ItemKind::Manual,
            items: vec![Item {
                reference: text.chars().take(3).collect(),
                remaining_minor: -count,
            }],
        }
    }

    /// What the batched writer holds after `lines` (a capacity it never reaches).
    fn batched(lines: &[Line]) -> Vec<u8> {
        let mut out = super::Batched::new(1 << 20);
        for l in lines {
            out.json_line(l);
        }
        std::mem::take(&mut out.buffer)
    }

    fn serde_json_lines(lines: &[Line]) -> Vec<u8> {
        let mut expected = Vec::new();
        for l in lines {
            serde_json::to_writer(&mut expected, l).unwrap();
            expected.push(b'\n');
        }
        expected
    }

    #[test]
    fn json_lines_are_serde_jsons_bytes_for_every_character_that_needs_escaping() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        let lines: Vec<Line> = [
            every_ascii.as_str(),
            "Bonjour Fa Guité,\n\nFactures en retard:\n - Facture \"F-1\" \\ 2 500 FCFA\r\t\u{7f}\u{1f}",
            "😀 emoji, 𝄞 clef, \u{2028} and \u{2029} separators, ’ quote",
            "",
        ]
        .iter()
        .chain(&[every_ascii.repeat(3).as_str()])
        .enumerate()
        .map(|(i, text)| line(text, i as i64 * 1_000_000_007))
        .collect();
        assert_eq!(batched(&lines), serde_json_lines(&lines));
    }

    proptest! {
        #[test]
        fn json_lines_are_serde_jsons_bytes(texts in proptest::collection::vec(any::<String>(), 1..4), count: i64) {
            let lines: Vec<Line> = texts.iter().map(|t| line(t, count)).collect();
            prop_assert_eq!(batched(&lines), serde_json_lines(&lines));
        }
    }

    #[test]
    fn tables_align_columns() {
        let t = super::table(
            &["ID", "NAME"],
            &[vec!["C1".into(), "Awa".into()], vec!["C100".into(), "Fa Guité".into()]],
        );
        assert_eq!(t, "ID    NAME\nC1    Awa\nC100  Fa Guité\n");
    }
}
