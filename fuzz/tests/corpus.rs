//! Every fuzz target run with plain `cargo test` (stable Rust, no libFuzzer) over its seed
//! corpus (`corpus/<target>/`), the crashes kept as regressions (`regressions/<target>/`),
//! and a fixed list of hostile inputs.

use std::path::Path;

/// The inputs of one folder, sorted by name; none when the folder does not exist.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("a corpus file reads");
            (e.path().display().to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

/// Hostile texts every target also gets, after each option byte of `options`.
fn hostile() -> Vec<Vec<u8>> {
    let long = "é".repeat(10_000);
    let texts: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\0".to_vec(),
        b"{{name}}\0{{#each items}}{{/each}}".to_vec(),
        b"}}{{\0{{{{raw}}}}".to_vec(),
        b"<script>alert(1)</script>\0<b>FAC</b>".to_vec(),
        "\u{202e}Haziza\u{200f} Apple\u{202c}\0\u{2066}FAC\u{2069}".as_bytes().to_vec(),
        long.as_bytes().to_vec(),
        b"${HOME}\0${FUZZ_VAR}".to_vec(),
        b"[engine]\nchannel = \"${FUZZ_VAR}\"\0x\"\n[evil]\nk = 1".to_vec(),
        b"99999999999999999999999999".to_vec(),
        b"9 223 372 036 854 775 807".to_vec(),
        b"1.234,567".to_vec(),
        b"1,234.567".to_vec(),
        b"+221 77 123 45 67".to_vec(),
        b"00221771234567".to_vec(),
        "…………………………………………………………………………………………………………………………………………………………………………………………………………………"
            .as_bytes()
            .to_vec(),
        "€".repeat(200).into_bytes(),
        "😀".repeat(100).into_bytes(),
        b"{\"items\":[{}, null, 1, \"x\", [], {\"debtor_id\":\"1\"}]}".to_vec(),
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".to_vec(),
        b"debtor_id,name,kind,reference,due_date,amount\n1,\"unclosed,invoice,F,2025-01-01,5\n".to_vec(),
        vec![0xff, 0xfe, b'd', 0, b'\n', 0],
        vec![0xef, 0xbb, 0xbf, b'\n', b'\r', 0x81, 0x8d],
    ];
    texts
}

/// Runs `target` on every input; reports each failing input (not only the first).
fn run(name: &str, target: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let options: [u8; 8] = [0, 1, 2, 3, 7, 0x1d, 0x55, 0xff];
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for folder in ["corpus", "regressions"] {
        inputs.extend(files(&root.join(folder).join(name)));
    }
    for (i, text) in hostile().into_iter().enumerate() {
        for opt in options {
            let mut input = vec![opt];
            input.extend_from_slice(&text);
            inputs.push((format!("hostile input {i} with option byte {opt:#04x}"), input));
        }
    }
    let failed: Vec<String> = inputs
        .iter()
        .filter(|(_, bytes)| std::panic::catch_unwind(|| target(bytes)).is_err())
        .map(|(what, _)| what.clone())
        .collect();
    assert!(
        failed.is_empty(),
        "{name} failed on {} of {} inputs: {failed:#?}",
        failed.len(),
        inputs.len()
    );
}

macro_rules! targets {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            run(stringify!($name), rappel_fuzz::$name);
        }
    )*};
}

targets!(
    money,
    phone,
    config,
    sms,
    render,
    csv_file,
    csv_row,
    http_page,
    twilio_response
);

#[test]
fn every_target_is_tested() {
    assert_eq!(rappel_fuzz::TARGETS.len(), 9);
}
