//! Run-time channel plugins end to end: the test builds the webhook plugin and two test
//! plugins (`channels/webhook/examples/`) with cargo, points a config at the built libraries
//! and runs the binary.

use crate::util::{Scratch, outbox_config, repo};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

const ROWS: &str = "\
C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF
C2,Binta,77 123 45 68,,invoice,F-2,2025-11-21,4000,1000,XOF
C3,Coumba,77 123 45 69,,manual,9,2025-11-22,1000,0,XOF
";
const NOW: &str = "2025-12-01T10:00:00Z";

/// The built libraries.
struct Plugins {
    webhook: PathBuf,
    faulty: PathBuf,
    other_abi: PathBuf,
}

/// Builds the plugin libraries once per test process, into the target folder the rappel
/// binary under test lives in (`cargo test` does not build cdylibs by itself).
fn plugins() -> &'static Plugins {
    static BUILT: OnceLock<Plugins> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile_dir = Path::new(env!("CARGO_BIN_EXE_rappel")).parent().unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.current_dir(repo()).args([
            "build",
            "--quiet",
            "-p",
            "rappel-channel-webhook",
            "--lib",
            "--example",
            "rappel_test_faulty",
            "--example",
            "rappel_test_other_abi",
            "--target-dir",
        ]);
        cmd.arg(target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo runs");
        assert!(status.success(), "building the plugins failed");
        let lib = |dir: &Path, name: &str| {
            let path = dir.join(format!(
                "{}{name}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ));
            assert!(path.is_file(), "{} was not built", path.display());
            path
        };
        Plugins {
            webhook: lib(&profile_dir, "rappel_channel_webhook"),
            faulty: lib(&profile_dir.join("examples"), "rappel_test_faulty"),
            other_abi: lib(&profile_dir.join("examples"), "rappel_test_other_abi"),
        }
    })
}

/// A config whose extra channel `hook` is the plugin at `path` with `rest` appended.
fn plugin_scratch(path: &Path, rest: &str) -> Scratch {
    let channel = format!(
        "\n[channels.hook]\nkind = \"plugin\"\npath = '{}'\n{rest}",
        path.display()
    );
    Scratch::new(&outbox_config(&channel), ROWS)
}

/// One request the local server received.
struct Received {
    head: String,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }
}

/// A local HTTP server answering 200 with `{"id":"gw-N"}` and recording every request.
fn start_server() -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sms/send", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            let (head, length) = loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break (String::new(), 0);
                }
                data.extend_from_slice(&buf[..n]);
                if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&data[..end]).into_owned();
                    data.drain(..end + 4);
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    break (head, length);
                }
            };
            while data.len() < length {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            let n = {
                let mut log = log.lock().unwrap();
                log.push(Received { head, body: data });
                log.len()
            };
            let answer = format!("{{\"id\":\"gw-{n}\",\"status\":\"queued\"}}");
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, received)
}

#[test]
fn the_webhook_plugin_posts_each_reminder_signed() {
    let (url, received) = start_server();
    let s = plugin_scratch(
        &plugins().webhook,
        &format!(
            "[channels.hook.options]\nurl = \"{url}\"\nbearer_token = \"tok-123\"\nsecret = \"s3cret\"\ntimeout = \"5s\"\n"
        ),
    );
    // Selected like any other channel, with the legacy variable.
    let run = s
        .run_env(&["tick", "--json", "--now", NOW], &[("DEBT_REMINDER_CHANNEL", "hook")])
        .ok();
    let lines = run.json_lines();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines.iter().all(|l| l["status"] == "sent" && l["channel"] == "hook"),
        "{}",
        run.stdout
    );
    assert!(s.outbox().is_empty(), "the outbox channel was not used");

    let received = received.lock().unwrap();
    assert_eq!(received.len(), 3);
    let mut ids = Vec::new();
    for r in received.iter() {
        assert!(r.head.starts_with("POST /sms/send HTTP/1.1"), "{}", r.head);
        assert_eq!(r.header("authorization"), Some("Bearer tok-123"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let expected = format!("sha256={}", hex(&hmac_sha256(b"s3cret", &r.body)));
        assert_eq!(
            r.header("x-rappel-signature"),
            Some(expected.as_str()),
            "signature over the body"
        );
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["channel"], "hook");
        assert_eq!(
            r.header("idempotency-key").map(str::to_string),
            Some(format!("rappel-{}", body["reminder_id"]))
        );
        ids.push((
            body["debtor_id"].as_str().unwrap().to_string(),
            body["to"].as_str().unwrap().to_string(),
        ));
        if body["debtor_id"] == "C1" {
            let text = body["body"].as_str().unwrap();
            assert!(text.starts_with("Bonjour Awa"), "{text}");
            assert!(text.contains("F-1") && text.contains("2 500 XOF"), "{text}");
        }
    }
    ids.sort();
    assert_eq!(
        ids,
        [
            ("C1", "+221771234567"),
            ("C2", "+221771234568"),
            ("C3", "+221771234569")
        ]
        .map(|(d, t)| (d.to_string(), t.to_string()))
    );
    let gateway_ids: Vec<&str> = lines.iter().filter_map(|l| l["provider_id"].as_str()).collect();
    assert_eq!(gateway_ids.len(), 3, "the gateway's ids are recorded: {}", run.stdout);
    assert!(gateway_ids.iter().all(|id| id.starts_with("gw-")));
}

#[test]
fn a_panic_inside_send_fails_that_reminder_and_the_others_go_out() {
    let s = plugin_scratch(
        &plugins().faulty,
        "[channels.hook.options]\npath = \"sent.jsonl\"\npanic_for = [\"+221771234568\"]\n",
    );
    std::fs::write(
        s.path("rappel.toml"),
        std::fs::read_to_string(s.path("rappel.toml"))
            .unwrap()
            .replace("sent.jsonl", &s.path("sent.jsonl").display().to_string()),
    )
    .unwrap();
    let run = s.run_env(
        &["tick", "--json", "--now", NOW],
        &[("DEBT_REMINDER_CHANNEL", "hook"), ("RAPPEL_LOG", "info")],
    );
    assert_eq!(
        run.code, 1,
        "a failed send, not an abort: {}\n{}",
        run.stdout, run.stderr
    );
    let lines = run.json_lines();
    let of = |id: &str| lines.iter().find(|l| l["debtor_id"] == id).unwrap();
    assert_eq!(of("C2")["status"], "failed");
    let error = of("C2")["error"].as_str().unwrap();
    assert!(
        error.contains("panicked in send: test plugin refuses +221771234568"),
        "{error}"
    );
    assert_eq!(
        (of("C1")["status"].as_str(), of("C3")["status"].as_str()),
        (Some("sent"), Some("sent"))
    );
    let written = std::fs::read_to_string(s.path("sent.jsonl")).unwrap();
    assert_eq!(written.lines().count(), 2, "{written}");
    assert!(
        run.stderr.contains("faulty plugin writes reminder"),
        "plugin logs reach rappel's log: {}",
        run.stderr
    );
    let status = s.run(&["status", "--debtor", "C2", "--now", NOW]).ok().stdout;
    assert!(status.contains("failed"), "the ledger keeps the failure: {status}");
}

/// Runs `validate` and `tick` and returns validate's stderr, asserting both fail as a config
/// error that names the channel.
fn refused(s: &Scratch) -> String {
    let tick = s.run_env(&["tick", "--now", NOW], &[("DEBT_REMINDER_CHANNEL", "hook")]);
    assert_eq!(tick.code, 2, "{}", tick.stderr);
    let run = s.run(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("channels.hook."), "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("channels.hook").count(),
        1,
        "one error: {}",
        run.stderr
    );
    run.stderr
}

#[test]
fn a_plugin_built_for_another_abi_version_is_refused() {
    let path = &plugins().other_abi;
    let stderr = refused(&plugin_scratch(path, ""));
    let expected = format!(
        "channels.hook.path: {} was built for rappel plugin ABI version 2, but this rappel speaks ABI version 1",
        path.canonicalize().unwrap().display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn a_missing_library_is_refused() {
    let s = plugin_scratch(Path::new("plugins/libgone.so"), "");
    let stderr = refused(&s);
    // Relative to the config file's folder, shown as resolved.
    assert!(
        stderr.contains("channels.hook.path: plugins/libgone.so: no such file (build the plugin, or fix the path)"),
        "{stderr}"
    );
}

#[test]
fn a_file_that_is_not_a_plugin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join(format!("libfake{}", std::env::consts::DLL_SUFFIX));
    std::fs::write(&fake, "#!/bin/sh\necho not a library\n").unwrap();
    let stderr = refused(&plugin_scratch(&fake, ""));
    assert!(stderr.contains("channels.hook.path: "), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{} is not a rappel channel plugin",
            fake.canonicalize().unwrap().display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_real_library_without_the_plugin_functions_is_refused() {
    // The C library this test process runs with: a shared library, but not a plugin.
    let Some(libc) = std::fs::read_to_string("/proc/self/maps").ok().and_then(|maps| {
        maps.lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .find(|p| p.contains("/libc.so") || p.contains("/libc-"))
            .map(PathBuf::from)
    }) else {
        eprintln!("SKIPPED: no /proc/self/maps or no shared libc on this system");
        return;
    };
    let stderr = refused(&plugin_scratch(&libc, ""));
    assert!(
        stderr.contains("is not a rappel channel plugin: it exports no `rappel_plugin_abi_version` function"),
        "{stderr}"
    );
}

#[test]
fn bad_plugin_options_are_refused_with_the_plugins_reason() {
    let path = &plugins().webhook;
    let stderr = refused(&plugin_scratch(path, "[channels.hook.options]\nbearer_token = \"x\"\n"));
    let expected = format!(
        "channels.hook.options: the plugin {} (webhook 0.1.0) refused its options: missing field `url`",
        path.canonicalize().unwrap().display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    let stderr = refused(&plugin_scratch(
        path,
        "[channels.hook.options]\nurl = \"https://sms.example/send\"\n",
    ));
    assert!(stderr.contains("https is not supported"), "{stderr}");
}

/// HMAC-SHA256 over an independent SHA-256, to check the plugin's signature.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let pad = |b: u8| block.map(|k| k ^ b);
    let inner = sha256(&[&pad(0x36)[..], message].concat());
    sha256(&[&pad(0x5c)[..], &inner[..]].concat())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&(data.len() as u64 * 8).to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(chunk[4 * i..4 * i + 4].try_into().unwrap());
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let [a, b, c, d, e, f, g, hh] = v;
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add((e & f) ^ (!e & g))
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let t2 = s0.wrapping_add((a & b) ^ (a & c) ^ (b & c));
            v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
        }
        for (x, y) in h.iter_mut().zip(v) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[test]
fn the_test_sha256_is_right() {
    assert_eq!(
        hex(&sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}
