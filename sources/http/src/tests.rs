//! The source against a local JSON API: pagination, authentication, retries and what a
//! user reads when a page or an item is wrong.

use crate::testing::{FakeApi, Reply, build, chain, rejections, summary};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn item(id: &str, reference: &str, amount: Value) -> Value {
    json!({"debtor_id": id, "name": format!("Client {id}"), "kind": "invoice",
           "reference": reference, "due_date": "2025-11-20", "amount": amount})
}

fn row(id: &str, reference: &str, amount: i64, origin: &str) -> (String, String, i64, i64, String) {
    (id.into(), reference.into(), amount, 0, origin.into())
}

#[tokio::test]
async fn next_links_are_followed_relative_or_absolute_until_there_is_none() {
    let base: Arc<OnceLock<String>> = Arc::default();
    let known = Arc::clone(&base);
    let api = FakeApi::start(move |_, seen| match seen.uri.as_str() {
        "/debts" => Reply::json(json!({
            "items": [item("1", "FAC-0042", json!(2500)), item("2", "FAC-7", json!("127 000"))],
            "next": "/debts?cursor=b"
        })),
        "/debts?cursor=b" => Reply::json(json!({
            "items": [item("3", "17", json!(235000))],
            "next": format!("{}/debts?cursor=c", known.get().unwrap())
        })),
        "/debts?cursor=c" => Reply::json(json!({"items": [item("4", "FAC-9", json!(16000))], "next": null})),
        other => Reply::status(404, "text/plain", &format!("no {other}")),
    })
    .await;
    base.set(api.base.clone()).unwrap();
    let batch = api.load("/debts", "pagination = \"next_link\"").await.unwrap();
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    assert_eq!(
        summary(&batch),
        [
            row("1", "FAC-0042", 2_500, "page 1 item 1"),
            row("2", "FAC-7", 127_000, "page 1 item 2"),
            row("3", "17", 235_000, "page 2 item 1"),
            row("4", "FAC-9", 16_000, "page 3 item 1"),
        ]
    );
    assert_eq!(api.uris(), ["/debts", "/debts?cursor=b", "/debts?cursor=c"]);
    assert_eq!(batch.items[0].name, "Client 1");
}

#[tokio::test]
async fn next_links_that_never_end_or_leave_the_server_are_stopped() {
    let api = FakeApi::start(|n, seen| match seen.uri.as_str() {
        "/loop" => Reply::json(json!({"items": [], "links": {"next": "/loop?again"}})),
        "/loop?again" => Reply::json(json!({"items": [], "links": {"next": "/loop"}})),
        "/away" => Reply::json(json!({"items": [], "links": {"next": "http://198.51.100.7/steal?token=x"}})),
        _ => Reply::json(json!({"items": [], "links": {"next": format!("/endless?n={n}")}})),
    })
    .await;
    let keys = "pagination = \"next_link\"\nnext_pointer = \"/links/next\"";
    let error = api.load("/loop", keys).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "page 2 ({}/loop?again): the next link leads back to page 1 ({}/loop): the API's pages go round in a circle",
            api.base, api.base
        )
    );
    let error = api
        .load("/endless", &format!("{keys}\nmax_pages = 3"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "page 3 ({0}/endless?n=4): stopped after max_pages = 3 pages, and the API still has more \
             ({0}/endless?n=5); raise max_pages if the API really has that many pages",
            api.base
        )
    );
    let error = api.load("/away", keys).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "page 1 ({}/away): the next link goes to another server (http://198.51.100.7/steal?token=***): \
             refused, so that the credentials are not sent there",
            api.base
        )
    );
}

#[tokio::test]
async fn numbered_pages_until_one_is_empty() {
    let api = FakeApi::start(|_, seen| {
        let page = seen.uri.rsplit("p=").next().unwrap_or_default();
        Reply::json(match page {
            "0" => json!([item("1", "A", json!(100)), item("2", "B", json!(200))]),
            "1" => json!([item("3", "C", json!(300))]),
            _ => json!([]),
        })
    })
    .await;
    let keys = "pagination = \"page\"\npage_param = \"p\"\nfirst_page = 0\nitems_pointer = \"\"";
    let batch = api.load("/debts?status=open&p=9", keys).await.unwrap();
    assert_eq!(
        summary(&batch),
        [
            row("1", "A", 100, "page 1 item 1"),
            row("2", "B", 200, "page 1 item 2"),
            row("3", "C", 300, "page 2 item 1"),
        ]
    );
    assert_eq!(
        api.uris(),
        [
            "/debts?status=open&p=0",
            "/debts?status=open&p=1",
            "/debts?status=open&p=2"
        ]
    );

    let api = FakeApi::start(|_, _| Reply::json(json!({"items": [item("1", "A", json!(1))]}))).await;
    let error = api
        .load("/debts", "pagination = \"page\"\nmax_pages = 2")
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "page 2 ({}/debts?page=2): stopped after max_pages = 2 pages",
            api.base
        )),
        "{error}"
    );
    assert_eq!(api.uris(), ["/debts?page=1", "/debts?page=2"]);
}

#[tokio::test]
async fn credentials_are_sent_and_a_refusal_is_explained_without_them() {
    let api = FakeApi::start(|_, seen| match seen.authorization.as_deref() {
        Some("Bearer t0k3n-s3cret" | "Basic Ym91dGlxdWU6cGE1NQ==") => {
            Reply::json(json!({"items": [item("1", "A", json!(5))]}))
        }
        _ => Reply::status(401, "application/json", r#"{"error": "unauthorized"}"#),
    })
    .await;
    let batch = api.load("/debts", "bearer_token = \"t0k3n-s3cret\"").await.unwrap();
    assert_eq!(batch.items.len(), 1);
    let batch = api
        .load("/debts", "username = \"boutique\"\npassword = \"pa55\"")
        .await
        .unwrap();
    assert_eq!(batch.items.len(), 1);

    let error = api.load("/debts", "").await.unwrap_err();
    assert_eq!(
        chain(&error),
        format!(
            "page 1 ({}/debts): HTTP 401 Unauthorized: the server wants credentials: set bearer_token, or username and password",
            api.base
        )
    );
    let error = chain(&api.load("/debts", "bearer_token = \"wrong-s3cret\"").await.unwrap_err());
    assert_eq!(
        error,
        format!(
            "page 1 ({}/debts): HTTP 401 Unauthorized: the server refused bearer_token",
            api.base
        )
    );
    let error = chain(
        &api.load("/debts", "username = \"boutique\"\npassword = \"s3cret\"")
            .await
            .unwrap_err(),
    );
    assert!(
        error.ends_with("the server refused username \"boutique\" with this password"),
        "{error}"
    );
    let auth: Vec<Option<String>> = api.seen().into_iter().map(|s| s.authorization).collect();
    assert_eq!(
        auth,
        [
            Some("Bearer t0k3n-s3cret".to_string()),
            Some("Basic Ym91dGlxdWU6cGE1NQ==".to_string()),
            None,
            Some("Bearer wrong-s3cret".to_string()),
            Some("Basic Ym91dGlxdWU6czNjcmV0".to_string()),
        ]
    );
}

#[tokio::test]
async fn a_503_is_tried_again_and_the_retries_are_bounded() {
    let api = FakeApi::start(|n, _| match n {
        1 => Reply::status(503, "text/html", "<h1>Service Unavailable</h1>"),
        _ => Reply::json(json!({"items": [item("1", "A", json!(2500))]})),
    })
    .await;
    let batch = api.load("/debts", "").await.unwrap();
    assert_eq!(summary(&batch), [row("1", "A", 2_500, "page 1 item 1")]);
    assert_eq!(api.uris().len(), 2);

    let api = FakeApi::start(|_, _| Reply::status(502, "text/plain", "bad gateway")).await;
    let error = api.load("/debts", "retries = 2").await.unwrap_err();
    assert_eq!(
        chain(&error),
        format!("page 1 ({}/debts): HTTP 502 Bad Gateway (after 3 attempts)", api.base)
    );
    assert_eq!(api.uris().len(), 3);
    let error = api.load("/debts", "retries = 0").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("page 1 ({}/debts): HTTP 502 Bad Gateway", api.base)
    );
    assert_eq!(api.uris().len(), 4);

    let api = FakeApi::start(|_, _| Reply::status(404, "text/plain", "no such\n  endpoint")).await;
    let error = api.load("/debts", "").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("page 1 ({}/debts): HTTP 404 Not Found: \"no such endpoint\"", api.base)
    );
    assert_eq!(api.uris().len(), 1, "a 404 is not tried again");
}

#[tokio::test]
async fn a_429_waits_as_long_as_retry_after_says() {
    let api = FakeApi::start(|n, _| match n {
        1 => Reply::status(429, "application/json", "{}").retry_after("1"),
        _ => Reply::json(json!({"items": [item("1", "A", json!(2500))]})),
    })
    .await;
    let started = Instant::now();
    let batch = api.load("/debts", "").await.unwrap();
    let waited = started.elapsed();
    assert_eq!(batch.items.len(), 1);
    assert_eq!(api.uris().len(), 2);
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");

    let api = FakeApi::start(|_, _| Reply::status(429, "application/json", "{}").retry_after("3600")).await;
    let error = api.load("/debts", "").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "page 1 ({}/debts): HTTP 429 Too Many Requests; the server asks to wait 3600s before trying again, \
             more than 60s: the next check will try again",
            api.base
        )
    );
    assert_eq!(api.uris().len(), 1);
}

#[tokio::test]
async fn a_page_that_is_not_what_was_expected_is_named() {
    let api = FakeApi::start(|_, seen| match seen.uri.as_str() {
        "/debts" => Reply::json(json!({"items": [item("1", "A", json!(1))], "next": "/debts?page=2"})),
        "/debts?page=2" => Reply::status(
            200,
            "text/html",
            "<!DOCTYPE html>\n<html><body>Maintenance</body></html>",
        ),
        "/object" => Reply::json(json!({"items": {"a": 1, "b": 2}})),
        "/nested" => Reply::json(json!({"data": [], "next": null})),
        _ => Reply::status(200, "application/json", " "),
    })
    .await;
    let error = api.load("/debts", "pagination = \"next_link\"").await.unwrap_err();
    assert_eq!(
        chain(&error),
        format!(
            "page 2 ({}/debts?page=2): the answer is not JSON: got text/html: \
             \"<!DOCTYPE html> <html><body>Maintenance</body></html>\": expected value at line 1 column 1",
            api.base
        )
    );
    let error = api.load("/object", "").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "page 1 ({}/object): expected an array of items at items_pointer \"/items\", found an object with keys a, b",
            api.base
        )
    );
    let error = api.load("/nested", "").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "page 1 ({}/nested): expected an array of items at items_pointer \"/items\", \
             found nothing there; the page is an object with keys data, next",
            api.base
        )
    );
    let batch = api.load("/nested", "items_pointer = \"/data\"").await.unwrap();
    assert!(batch.items.is_empty());
    let error = api.load("/empty", "").await.unwrap_err();
    assert!(
        error.to_string().ends_with("the answer is not JSON: got an empty body"),
        "{error}"
    );
}

#[tokio::test]
async fn bad_items_are_refused_with_their_page_and_the_others_kept() {
    let api = FakeApi::start(|_, seen| match seen.uri.as_str() {
        "/debts" => Reply::json(json!({
            "items": [item("1", "A", json!(2500)),
                      {"debtor_id": 2, "name": "Fa Guité", "kind": "invoice", "reference": "B", "amount": 10}],
            "next": "/debts?page=2"
        })),
        _ => Reply::json(json!({
            "items": [item("4", "C", json!(100)), item("5", "D", json!("12,5OO")), item("6", "E", json!(12.5))],
            "next": null
        })),
    })
    .await;
    let batch = api.load("/debts", "pagination = \"next_link\"").await.unwrap();
    let some = |id: &str| Some(id.to_string());
    assert_eq!(
        rejections(&batch),
        [
            ("page 1 item 2: due_date is missing".to_string(), some("2")),
            (
                "page 2 item 2: amount \"12,5OO\" is not a number".to_string(),
                some("5")
            ),
            (
                "page 2 item 3: amount 12.5 has decimals but XOF has 0 decimal places".to_string(),
                some("6")
            ),
        ]
    );
    assert_eq!(
        summary(&batch),
        [
            row("1", "A", 2_500, "page 1 item 1"),
            row("4", "C", 100, "page 2 item 1")
        ]
    );
}

#[tokio::test]
async fn fields_are_found_where_the_pointers_say() {
    let api = FakeApi::start(|_, _| {
        Reply::json(json!({"data": {"debts": [{
            "client": {"id": 7, "nom": "Cheikh ibra", "tel": "77 123 45 67"},
            "facture": {"numero": 301, "echeance": "20/11/2025"},
            "total": 16000.0, "regle": "1 000", "devise": "xof"
        }]}}))
    })
    .await;
    let keys = r#"
        items_pointer = "/data/debts"
        date_format = "%d/%m/%Y"
        default_kind = "invoice"
        [source.fields]
        debtor_id = "/client/id"
        name = "/client/nom"
        phone = "/client/tel"
        reference = "/facture/numero"
        due_date = "/facture/echeance"
        amount = "/total"
        paid = "/regle"
        currency = "/devise"
    "#;
    let batch = api.load("/api", keys).await.unwrap();
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    let item = &batch.items[0];
    assert_eq!(
        (
            item.debtor_id.as_str(),
            item.name.as_str(),
            item.phone.as_deref(),
            item.reference.as_str()
        ),
        ("7", "Cheikh ibra", Some("77 123 45 67"), "301")
    );
    assert_eq!(
        (item.due_date.to_string(), item.amount_minor, item.paid_minor),
        ("2025-11-20".into(), 16_000, 1_000)
    );
    assert_eq!(item.remaining_minor(), 15_000);
}

#[tokio::test]
async fn a_server_down_or_silent_gives_a_clear_error() {
    let source = build("url = \"http://user:pa55@127.0.0.1:1/debts?api_key=k3y\"\nretries = 1").unwrap();
    assert_eq!(source.describe(), "http http://127.0.0.1:1/debts?api_key=***");
    let error = chain(&source.load().await.unwrap_err());
    assert!(
        error.starts_with("page 1 (http://127.0.0.1:1/debts?api_key=***): cannot connect (after 2 attempts): "),
        "{error}"
    );
    assert!(!error.contains("pa55") && !error.contains("k3y"), "{error}");

    // Accepted by the kernel, never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let source = build(&format!("url = \"http://127.0.0.1:{port}/debts\"\ntimeout = \"1s\"")).unwrap();
    let started = Instant::now();
    let error = chain(&source.load().await.unwrap_err());
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert_eq!(
        error,
        format!("page 1 (http://127.0.0.1:{port}/debts): no answer within timeout = 1s")
    );
}

#[test]
fn config_errors_name_the_key() {
    let err = |body: &str| build(&format!("url = \"http://h/x\"\n{body}")).err().expect("refused");
    assert_eq!(
        err("bearer_token = \"t\"\nusername = \"u\""),
        "source.bearer_token: set either bearer_token or username and password, not both"
    );
    assert_eq!(err("username = \"u\""), "source.password: is missing: username is set");
    assert_eq!(err("password = \"p\""), "source.username: is missing: password is set");
    assert_eq!(
        err("bearer_token = \"\""),
        "source.bearer_token: is empty (is its ${VARIABLE} set?)"
    );
    assert_eq!(err("retries = 11"), "source.retries: is 11, at most 10");
    assert_eq!(err("max_pages = 0"), "source.max_pages: must be at least 1");
    assert_eq!(
        err("next_pointer = \"/next\""),
        "source.next_pointer: is only used with pagination = \"next_link\""
    );
    assert_eq!(
        err("pagination = \"next_link\"\nfirst_page = 0"),
        "source.first_page: is only used with pagination = \"page\""
    );
    assert!(err("date_format = \"%d/%m\"").starts_with("source.date_format: \"%d/%m\" does not give a whole date"));
}

#[test]
fn build_matches_the_registry() {
    use rappel_core::config::Config;
    use rappel_core::registry::{Registry, SourceFactory};
    let factory: SourceFactory = crate::build;
    let text = "[source]\nkind = \"http\"\nurl = \"https://erp.example.sn/api/debts\"\nbearer_token = \"s3cret\"\n\
                [channels.sms]\nkind = \"console\"\n";
    let config = Config::parse(text, std::path::Path::new("rappel.toml"), &|_| None).unwrap();
    let source = Registry::new()
        .source(crate::KIND, factory)
        .build_source(&config, false)
        .unwrap();
    assert_eq!(source.describe(), "http https://erp.example.sn/api/debts");
}

#[tokio::test]
async fn a_million_item_page_is_refused_with_a_clear_error() {
    let page: Vec<Value> = vec![json!({}); 1_000_000];
    let api = FakeApi::start(move |_, _| Reply::json(json!({ "items": page.clone() }))).await;
    let error = api.load("/debts", "").await.unwrap_err();
    assert_eq!(
        chain(&error),
        format!(
            "page 1 ({}/debts): the page has 1000000 items, more than max_page_items = 100000: is the API paging as \
             configured (pagination)? raise max_page_items if its pages really are that large",
            api.base
        )
    );
    let small =
        FakeApi::start(|_, _| Reply::json(json!({ "items": [item("1", "F1", json!(5)), item("2", "F2", json!(6))] })))
            .await;
    assert_eq!(small.load("/debts", "max_page_items = 2").await.unwrap().items.len(), 2);
    let error = small.load("/debts", "max_page_items = 1").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the page has 2 items, more than max_page_items = 1"),
        "{error}"
    );
}

#[tokio::test]
async fn a_page_larger_than_max_page_bytes_is_refused_by_its_length() {
    let api = FakeApi::start(|_, _| Reply::json(json!({ "items": [item("1", &"F".repeat(2_000), json!(5))] }))).await;
    let error = api.load("/debts", "max_page_bytes = 1024").await.unwrap_err();
    assert_eq!(
        chain(&error),
        format!(
            "page 1 ({}/debts): the answer is larger than max_page_bytes = 1024 bytes: reading stopped \
             (is the API paging as configured? raise max_page_bytes if its pages really are that large)",
            api.base
        )
    );
    assert_eq!(
        api.load("/debts", "max_page_bytes = 4096").await.unwrap().items.len(),
        1
    );
    for key in ["max_page_bytes", "max_page_items"] {
        let error = build(&format!("url = \"http://127.0.0.1:9/\"\n{key} = 0")).err();
        assert_eq!(error, Some(format!("source.{key}: must be at least 1")));
    }
}

/// A server that streams an endless chunked answer (no `Content-Length`) and counts what it
/// managed to send before the client hung up.
#[tokio::test]
async fn an_endless_page_is_read_only_up_to_max_page_bytes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0_u8; 4096];
        let _ = stream.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
        // Up to 1 GiB: far more than any client should accept.
        for _ in 0..16 * 1024 {
            if stream.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
            counter.fetch_add(64 * 1024, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let started = Instant::now();
    let error = build(&format!(
        "url = \"{base}/debts\"\nmax_page_bytes = 1048576\nretries = 0"
    ))
    .unwrap()
    .load()
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "page 1 ({base}/debts): the answer is larger than max_page_bytes = 1048576 bytes: reading stopped \
             (is the API paging as configured? raise max_page_bytes if its pages really are that large)"
        )
    );
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        sent < 64 << 20,
        "the server could send {sent} bytes: the client kept reading"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}
