//! The fake Twilio as a standalone process, for the benchmarks (`scripts/bench`), and the
//! bare HTTP client that measures how fast that server can go at all.
//!
//! `fake-twilio serve` starts the fake on a free port of 127.0.0.1 and prints one JSON line
//! `{"base_url", "account_sid", "auth_token"}`. It then reads commands on stdin, one a line,
//! and answers each with one JSON line: `stats` (messages created, requests, and the time
//! between the first and the last message created), `reset` (forget the records). It stops
//! at the end of stdin.
//!
//! `fake-twilio blast --base-url URL --account-sid AC… --auth-token T --from +221… --messages
//! FILE [--concurrency 4] [--count N] [--client sockets|reqwest]` sends the messages of FILE
//! (`rappel preview --json` lines: `to` and `body`), cycled up to `--count`, as Twilio create
//! requests over `--concurrency` keep-alive HTTP/1.1 connections, and prints `{"count",
//! "created", "seconds", "per_second"}`. `sockets` (the default) writes HTTP by hand, with no
//! library above the socket; `reqwest` sends the same requests through reqwest, the
//! common Rust HTTP client (rappel's Twilio channel speaks through hyper's pooled client,
//! which reqwest wraps).

use base64::Engine as _;
use std::collections::HashMap;
use std::io::BufRead as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") | None => serve(),
        Some("blast") => blast(&args[1..]),
        Some(other) => Err(format!("unknown command {other:?}: expected `serve` or `blast`")),
    };
    if let Err(e) = result {
        eprintln!("fake-twilio: {e}");
        std::process::exit(2);
    }
}

fn serve() -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start tokio: {e}"))?;
    let twilio = runtime.block_on(rappel_twilio_fake::FakeTwilio::start());
    println!(
        "{}",
        serde_json::json!({
            "base_url": twilio.base_url(),
            "account_sid": twilio.account_sid(),
            "auth_token": twilio.auth_token(),
        })
    );
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("reading stdin: {e}"))?;
        let answer = match line.trim() {
            "stats" => {
                let created = twilio.created();
                let first = created.iter().map(|m| m.date_created).min();
                let last = created.iter().map(|m| m.date_created).max();
                let span = match (first, last) {
                    (Some(a), Some(b)) => (b - a).as_seconds_f64(),
                    _ => 0.0,
                };
                serde_json::json!({
                    "created": created.len(),
                    "requests": twilio.requests().len(),
                    "span_seconds": span,
                })
            }
            "reset" => {
                twilio.reset_records();
                serde_json::json!({ "ok": true })
            }
            "" => continue,
            other => serde_json::json!({ "error": format!("unknown command {other:?}") }),
        };
        println!("{answer}");
    }
    drop(twilio);
    Ok(())
}

/// `--name value` pairs.
fn options(args: &[String]) -> Result<HashMap<&str, &str>, String> {
    let mut map = HashMap::new();
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let key = name
            .strip_prefix("--")
            .ok_or_else(|| format!("expected --option, got {name:?}"))?;
        let value = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
        map.insert(key, value.as_str());
    }
    Ok(map)
}

/// `application/x-www-form-urlencoded`, as browsers and reqwest write it.
fn form_encode(out: &mut String, text: &str) {
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
}

fn blast(args: &[String]) -> Result<(), String> {
    let opts = options(args)?;
    let get = |k: &str| opts.get(k).copied().ok_or_else(|| format!("--{k} is required"));
    let base = get("base-url")?;
    let addr = base
        .strip_prefix("http://")
        .ok_or("--base-url must be http://127.0.0.1:PORT")?
        .trim_end_matches('/')
        .to_string();
    let sid = get("account-sid")?;
    let token = get("auth-token")?;
    let from = get("from")?;
    let concurrency: usize = opts
        .get("concurrency")
        .unwrap_or(&"4")
        .parse()
        .map_err(|_| "--concurrency")?;
    let client = match opts.get("client").copied().unwrap_or("sockets") {
        "sockets" => Client::Sockets,
        "reqwest" => Client::Reqwest,
        other => return Err(format!("--client {other:?}: expected sockets or reqwest")),
    };
    let text = std::fs::read_to_string(get("messages")?).map_err(|e| format!("--messages: {e}"))?;
    let messages: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| Some((v["to"].as_str()?.to_string(), v["body"].as_str()?.to_string())))
        .collect();
    if messages.is_empty() {
        return Err("--messages holds no {\"to\", \"body\"} lines".into());
    }
    let count: usize = match opts.get("count") {
        Some(n) => n.parse().map_err(|_| "--count")?,
        None => messages.len(),
    };
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{token}"));
    // The requests are prepared before the clock starts: only the exchange is measured.
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..count)
            .map(|i| {
                let (to, body) = &messages[i % messages.len()];
                let mut form = String::from("To=");
                form_encode(&mut form, to);
                form.push_str("&From=");
                form_encode(&mut form, from);
                form.push_str("&Body=");
                form_encode(&mut form, body);
                format!(
                    "POST /2010-04-01/Accounts/{sid}/Messages.json HTTP/1.1\r\nhost: {addr}\r\n\
                     authorization: Basic {auth}\r\naccept: */*\r\n\
                     content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{form}",
                    form.len()
                )
                .into_bytes()
            })
            .collect(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let created: usize = runtime.block_on(async {
        let tasks: Vec<_> = match client {
            Client::Sockets => (0..concurrency.max(1))
                .map(|_| tokio::spawn(connection(addr.clone(), requests.clone(), next.clone())))
                .collect(),
            Client::Reqwest => {
                let http = reqwest::Client::new();
                (0..concurrency.max(1))
                    .map(|_| {
                        tokio::spawn(reqwest_connection(
                            http.clone(),
                            base.to_string(),
                            requests.clone(),
                            next.clone(),
                        ))
                    })
                    .collect()
            }
        };
        let mut total = 0;
        for task in tasks {
            total += task.await.map_err(|e| e.to_string())??;
        }
        Ok::<usize, String>(total)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "count": count,
            "created": created,
            "seconds": seconds,
            "per_second": count as f64 / seconds,
        })
    );
    Ok(())
}

/// How `blast` sends: HTTP/1.1 written by hand on the socket, or reqwest (the HTTP client
/// rappel's Twilio channel uses), with the same prepared requests.
#[derive(Clone, Copy)]
enum Client {
    Sockets,
    Reqwest,
}

/// Like [`connection`], through reqwest: the request line and body of each prepared request.
async fn reqwest_connection(
    http: reqwest::Client,
    base: String,
    requests: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicUsize>,
) -> Result<usize, String> {
    let mut created = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.get(i) else {
            return Ok(created);
        };
        let text = std::str::from_utf8(request).map_err(|e| e.to_string())?;
        let (head, body) = text.split_once("\r\n\r\n").ok_or("a prepared request without a body")?;
        let path = head.split(' ').nth(1).ok_or("a prepared request without a path")?;
        let auth = head
            .lines()
            .find_map(|l| l.strip_prefix("authorization: "))
            .ok_or("a prepared request without authorization")?;
        let answer = http
            .post(format!("{base}{path}"))
            .header("authorization", auth)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        answer.bytes().await.map_err(|e| e.to_string())?;
        if status.as_u16() == 201 {
            created += 1;
        }
    }
}

/// One keep-alive connection sending requests until none are left; returns how many got 201.
async fn connection(addr: String, requests: Arc<Vec<Vec<u8>>>, next: Arc<AtomicUsize>) -> Result<usize, String> {
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(4096);
    let mut created = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.get(i) else {
            return Ok(created);
        };
        stream.write_all(request).await.map_err(|e| e.to_string())?;
        buf.clear();
        // Headers, then exactly content-length bytes of body.
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            read_more(&mut stream, &mut buf).await?;
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or("answer without content-length")?;
        while buf.len() < head_end + length {
            read_more(&mut stream, &mut buf).await?;
        }
        if head.starts_with("http/1.1 201") {
            created += 1;
        }
    }
}

async fn read_more(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("the server closed the connection".into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}
