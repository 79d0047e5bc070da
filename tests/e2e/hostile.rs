//! Hostile input end to end: debtor data that looks like template syntax, HTML or control
//! characters stays text; a CSV with garbage rows still reminds every valid client and
//! reports each bad row once; oversized inputs (a 2 GB CSV line, a million-item HTTP page)
//! are refused with a clear error instead of being read into memory.

use crate::util::{Scratch, outbox_config};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

const NOW: &str = "2025-12-01T10:00:00Z";

/// A CSV field: quoted, with inner quotes doubled.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[test]
fn debtor_values_stay_text_and_are_never_rendered_as_templates() {
    let names = [
        "{{name}} {{#each items}}BOOM{{/each}} {{{debtor_id}}}",
        "}}{{ {{> partial}} {{!-- comment --}}",
        "<script>alert('x')</script> & <b>Awa</b>",
        "\u{202e}Haziza\u{200f} Apple\u{202c} \u{2066}ع\u{2069}",
        "Nul\0Byte",
    ];
    let long = format!("{}Ndiaye", "Ndiaye ".repeat(1_428)); // 10 002 characters
    let mut rows = String::new();
    for (i, name) in names.iter().chain([&long.as_str()]).enumerate() {
        let reference = format!("{{{{reference}}}}-{i}");
        rows.push_str(&format!(
            "H{i},{},77 123 45 6{i},,invoice,{},2025-11-20,2500,0,XOF\n",
            quoted(name),
            quoted(&reference)
        ));
    }
    let s = Scratch::new(&outbox_config(""), &rows);
    let preview = s.run(&["preview", "--json", "--now", NOW]).ok();
    s.run(&["tick", "--now", NOW]).ok();
    let outbox = s.outbox();
    assert_eq!(outbox.len(), names.len() + 1, "every client reminded once");
    for (i, name) in names.iter().chain([&long.as_str()]).enumerate() {
        let id = format!("H{i}");
        let sent = outbox.iter().find(|m| m["debtor_id"] == id.as_str()).expect("reminded");
        let body = sent["body"].as_str().unwrap();
        assert!(
            body.contains(name.trim_end()),
            "{id}: the name is not in the body as written:\n{body}"
        );
        assert!(
            body.contains(&format!("{{{{reference}}}}-{i}")),
            "{id}: the reference was rendered:\n{body}"
        );
        assert_eq!(
            body.matches("BOOM").count(),
            name.matches("BOOM").count(),
            "{id}: a name was run as a template:\n{body}"
        );
        let shown = preview
            .json_lines()
            .into_iter()
            .find(|l| l["debtor_id"] == id.as_str())
            .unwrap();
        assert_eq!(shown["name"], *name);
    }
}

#[test]
fn a_csv_with_five_percent_garbage_reminds_every_valid_client_and_reports_each_bad_row_once() {
    let mut rows = String::new();
    let mut bad_lines = Vec::new();
    let garbage = [
        "G{n},Bad Amount,77 000 00 00,,invoice,F-{n},2025-11-20,12x5,0,XOF",
        "G{n},Bad Date,77 000 00 00,,invoice,F-{n},2025-02-30,100,0,XOF",
        "G{n},Short,invoice",
        "G{n},Long,77 000 00 00,,invoice,F-{n},2025-11-20,100,0,XOF,extra,fields",
        "G{n},Bad Kind,77 000 00 00,,loan,F-{n},2025-11-20,100,0,XOF",
        ",No Id,77 000 00 00,,invoice,F-{n},2025-11-20,100,0,XOF",
        "G{n},Bad Currency,77 000 00 00,,invoice,F-{n},2025-11-20,100,0,FCFA",
        "G{n},Negative,77 000 00 00,,invoice,F-{n},2025-11-20,-100,0,XOF",
    ];
    let mut line = 1; // the header
    for n in 0..400 {
        line += 1;
        if n % 20 == 7 {
            rows.push_str(&garbage[(n / 20) % garbage.len()].replace("{n}", &n.to_string()));
            bad_lines.push(line);
        } else {
            rows.push_str(&format!(
                "V{n},Client {n},77{:07},,invoice,F-{n},2025-11-20,{},0,XOF",
                1_000_000 + n,
                1000 + n
            ));
        }
        rows.push('\n');
    }
    assert_eq!(bad_lines.len(), 20, "5 % of 400 rows");
    let s = Scratch::new(&outbox_config(""), &rows);
    let run = s.run(&["tick", "--now", NOW]).ok();
    let mut sent: Vec<String> = s
        .outbox()
        .iter()
        .map(|l| l["debtor_id"].as_str().unwrap().to_string())
        .collect();
    sent.sort();
    let mut valid: Vec<String> = (0..400).filter(|n| n % 20 != 7).map(|n| format!("V{n}")).collect();
    valid.sort();
    assert_eq!(sent, valid, "every valid client reminded once");
    for line in bad_lines {
        let needle = format!("debts.csv line {line}:");
        assert_eq!(
            run.stderr.matches(&needle).count(),
            1,
            "line {line} reported once:\n{}",
            run.stderr
        );
    }
    assert!(run.stdout.contains("20 rows rejected"), "{}", run.stdout);
}

#[test]
fn a_2_gb_csv_line_is_refused_with_a_clear_error_without_reading_it() {
    let s = Scratch::new(
        &outbox_config(""),
        "C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF\n",
    );
    // A sparse 2 GiB file: the rows, then one line of NUL bytes to the end; no disk used.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(s.path("debts.csv"))
        .unwrap();
    file.set_len(2 << 30).unwrap();
    drop(file);
    let started = Instant::now();
    let run = s.run(&["tick", "--now", NOW]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("debts.csv line 3: longer than max_line_bytes = 1048576 bytes: reading stopped"),
        "{}",
        run.stderr
    );
    assert!(s.outbox().is_empty(), "nothing is sent from a refused file");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

/// An API whose one page lists a million (empty) items.
fn million_item_api() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut body = String::from("{\"items\":[");
    body.push_str(&vec!["{}"; 1_000_000].join(","));
    body.push_str("]}");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body.as_bytes());
        }
    });
    url
}

#[test]
fn a_million_item_http_page_is_refused_with_a_clear_error() {
    let url = million_item_api();
    let config = outbox_config("").replace(
        "kind = \"csv\"\npath = \"debts.csv\"",
        &format!("kind = \"http\"\nurl = \"{url}/debts\"\nretries = 0"),
    );
    let s = Scratch::new(&config, "");
    let run = s.run(&["tick", "--now", NOW]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the page has 1000000 items, more than max_page_items = 100000"),
        "{}",
        run.stderr
    );
    // With a smaller byte bound the page is not even read to its end.
    let config = config.replace("retries = 0", "retries = 0\nmax_page_bytes = 65536");
    let s = Scratch::new(&config, "");
    let run = s.run(&["tick", "--now", NOW]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the answer is larger than max_page_bytes = 65536 bytes"),
        "{}",
        run.stderr
    );
}
