//! The source against a real PostgreSQL (`RAPPEL_TEST_DATABASE_URL`), each test in a schema
//! of its own: what a shop owner would see from their own billing database.

use crate::testing::{TestSchema, build, chain, rejections};
use rappel_core::debt::{group_by_debtor, sort_by_client};
use rappel_core::{DebtItems, ItemKind};
use std::time::{Duration, Instant};

/// Three clients of a shop, as in the design examples: Haziza Apple owes 2 500 XOF on a
/// partly paid invoice; Fa Guité 127 000 XOF on an invoice and a partly repaid manual debt;
/// Grand Ndiaye 235 000 XOF as manual debt 17, and nothing on an invoice paid in full.
const SHOP: &str = "
    INSERT INTO clients (id, name, phone, email) VALUES
        (1, 'Haziza Apple', '77 123 45 67', NULL),
        (2, 'Fa Guité', '+221781112233', 'fa@example.sn'),
        (3, 'Grand Ndiaye', '770000001', NULL);
    INSERT INTO invoices (id, client_id, number, due_date, amount) VALUES
        (1, 1, 'FAC-0042', '2025-11-20', 10000),
        (2, 2, 'FAC-0043', '2025-10-01', 100000),
        (3, 3, 'FAC-0001', '2025-01-15', 40000);
    INSERT INTO invoice_payments (invoice_id, paid_on, amount) VALUES
        (1, '2025-11-01', 5000), (1, '2025-11-10', 2500), (3, '2025-01-10', 40000);
    INSERT INTO manual_debts (id, client_id, reference, due_date, amount) VALUES
        (5, 2, 'Crédit tissu', '2025-09-15', 50000),
        (17, 3, NULL, '2025-11-02', 235000);
    INSERT INTO debt_repayments (debt_id, paid_on, amount) VALUES
        (5, '2025-10-01', 20000), (5, '2025-10-15', 3000);
";

type Summary<'a> = (&'a str, &'a str, ItemKind, &'a str, String, i64, i64, &'a str);

fn summary(items: &DebtItems) -> Vec<Summary<'_>> {
    items
        .iter()
        .map(|i| {
            (
                i.debtor_id.as_str(),
                i.name.as_str(),
                i.kind,
                i.reference.as_str(),
                i.due_date.to_string(),
                i.amount_minor,
                i.paid_minor,
                i.origin.as_str(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_example_schema_gives_each_item_with_what_is_left_to_pay() {
    let Some(db) = TestSchema::new().await else { return };
    db.example().await;
    db.exec(SHOP).await;
    let batch = db.load("").await.unwrap();
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    // The default query streams rows unsorted; the check sorts clients and their items.
    assert!(batch.sort_by_client);
    let mut origins: Vec<&str> = batch.items.iter().map(|i| i.origin.as_str()).collect();
    origins.sort_unstable();
    assert_eq!(
        origins,
        [
            "query row 1",
            "query row 2",
            "query row 3",
            "query row 4",
            "query row 5"
        ]
    );
    assert!(batch.items.iter().all(|i| i.currency == iso_currency::Currency::XOF));

    let (mut debtors, errors) = group_by_debtor(batch.items);
    assert!(errors.is_empty());
    sort_by_client(&mut debtors);
    use ItemKind::{Invoice, Manual};
    let items: Vec<_> = debtors
        .iter()
        .flat_map(|d| {
            d.items.iter().map(|i| {
                let due = i.due_date.to_string();
                (
                    d.id.as_str(),
                    d.name.as_str(),
                    i.kind,
                    i.reference.as_str(),
                    due,
                    i.amount_minor,
                    i.paid_minor,
                )
            })
        })
        .collect();
    assert_eq!(
        items,
        [
            (
                "1",
                "Haziza Apple",
                Invoice,
                "FAC-0042",
                "2025-11-20".into(),
                10_000,
                7_500
            ),
            (
                "2",
                "Fa Guité",
                Manual,
                "Crédit tissu",
                "2025-09-15".into(),
                50_000,
                23_000
            ),
            ("2", "Fa Guité", Invoice, "FAC-0043", "2025-10-01".into(), 100_000, 0),
            (
                "3",
                "Grand Ndiaye",
                Invoice,
                "FAC-0001",
                "2025-01-15".into(),
                40_000,
                40_000
            ),
            ("3", "Grand Ndiaye", Manual, "17", "2025-11-02".into(), 235_000, 0),
        ]
    );
    assert_eq!(debtors[0].phone.as_deref(), Some("77 123 45 67"));
    assert_eq!(debtors[0].email, None);
    assert_eq!(debtors[1].email.as_deref(), Some("fa@example.sn"));
    let balances: Vec<(&str, i64)> = debtors.iter().map(|d| (d.id.as_str(), d.balance_minor())).collect();
    assert_eq!(balances, [("1", 2_500), ("2", 127_000), ("3", 235_000)]);

    // The view of the schema file runs the same query; a query of one's own keeps its order.
    let view = db.load("query = \"SELECT * FROM rappel_items\"").await.unwrap();
    assert_eq!(view.items.len(), 5);
    assert!(!view.sort_by_client);
}

#[tokio::test]
async fn a_query_of_its_own_with_its_own_column_names_and_types() {
    let Some(db) = TestSchema::new().await else { return };
    db.exec(
        "CREATE TABLE dettes (client INTEGER, nom VARCHAR(80), tel TEXT, ref INTEGER, echeance TEXT,
                              montant NUMERIC(14, 2), verse NUMERIC(14, 2), devise CHAR(3));
         INSERT INTO dettes VALUES
             (7, 'Cheikh ibra', '771234567', 301, '2025-11-20', 10000.00, NULL, NULL),
             (7, 'Cheikh ibra', '771234567', 302, '2025-11-21', 6000, 0, 'XOF'),
             (8, 'Awa Diop', NULL, 303, '2025-12-01', 1234.50, 34.5, 'EUR');",
    )
    .await;
    let keys = r#"
        query = """
            SELECT client, nom, tel, 'facture' AS type, ref, echeance, montant, verse, devise
              FROM dettes ORDER BY ref;
        """
        [source.columns]
        debtor_id = "client"
        name = "Nom"
        phone = "tel"
        kind = "type"
        reference = "ref"
        due_date = "echeance"
        amount = "montant"
        paid = "verse"
        currency = "devise"
    "#;
    let batch = db.load(keys).await.unwrap();
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    type Got<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, String, i64, i64, &'a str);
    let got: Vec<Got<'_>> = batch
        .items
        .iter()
        .map(|i| {
            (
                i.debtor_id.as_str(),
                i.name.as_str(),
                i.phone.as_deref(),
                i.reference.as_str(),
                i.due_date.to_string(),
                i.amount_minor,
                i.paid_minor,
                i.currency.code(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "7",
                "Cheikh ibra",
                Some("771234567"),
                "301",
                "2025-11-20".into(),
                10_000,
                0,
                "XOF"
            ),
            (
                "7",
                "Cheikh ibra",
                Some("771234567"),
                "302",
                "2025-11-21".into(),
                6_000,
                0,
                "XOF"
            ),
            ("8", "Awa Diop", None, "303", "2025-12-01".into(), 123_450, 3_450, "EUR"),
        ]
    );
    assert!(batch.items.iter().all(|i| i.kind == ItemKind::Invoice));
}

#[tokio::test]
async fn a_clients_query_gives_each_client_its_details_once_and_reports_clients_it_does_not_list() {
    let Some(db) = TestSchema::new().await else { return };
    db.exec(
        "CREATE TABLE gens (code TEXT, nom TEXT, tel TEXT, courriel TEXT);
         INSERT INTO gens VALUES
             ('A', 'Awa Diop', '771234567', NULL),
             ('A', '', NULL, 'awa@example.sn'),
             ('B', 'Modou Fall', '781112233', NULL),
             (NULL, 'Sans code', '700000000', NULL),
             ('C', 'Sans dette', '760000000', NULL);
         CREATE TABLE dettes (code TEXT, ref TEXT, echeance DATE, montant BIGINT);
         INSERT INTO dettes VALUES
             ('A', 'F-1', '2025-10-01', 1000), ('B', 'F-2', '2025-10-02', 2000),
             ('A', 'F-3', '2025-10-03', 3000), ('Z', 'F-4', '2025-10-04', 4000);",
    )
    .await;
    let keys = r#"
        query = "SELECT code, 'invoice' AS kind, ref AS reference, echeance AS due_date, montant AS amount FROM dettes ORDER BY ref"
        clients_query = "SELECT code, nom, tel AS phone, courriel AS email FROM gens"
        [source.columns]
        debtor_id = "code"
        name = "nom"
    "#;
    let batch = db.load(keys).await.unwrap();
    // The user's query keeps its order; the clients' row numbers are their own.
    assert!(!batch.sort_by_client);
    assert_eq!(
        rejections(&batch),
        [
            ("clients query row 4: code is NULL".to_string(), None),
            (
                "query row 4: client \"Z\" is not in the clients query".to_string(),
                Some("Z".to_string())
            ),
        ]
    );
    let (debtors, errors) = group_by_debtor(batch.items);
    assert!(errors.is_empty());
    type Got<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, Vec<&'a str>);
    let got: Vec<Got<'_>> = debtors
        .iter()
        .map(|d| {
            let refs = d.items.iter().map(|i| i.reference.as_str()).collect();
            (
                d.id.as_str(),
                d.name.as_str(),
                d.phone.as_deref(),
                d.email.as_deref(),
                refs,
            )
        })
        .collect();
    // A client listed twice keeps the first non-empty value of each detail; a client not
    // listed keeps its items, without details, and its rejected row holds it back.
    assert_eq!(
        got,
        [
            (
                "A",
                "Awa Diop",
                Some("771234567"),
                Some("awa@example.sn"),
                vec!["F-1", "F-3"]
            ),
            ("B", "Modou Fall", Some("781112233"), None, vec!["F-2"]),
            ("Z", "", None, None, vec!["F-4"]),
        ]
    );
    // The details are given once, to the client's first item.
    let second = debtors[0].items.iter().find(|i| i.reference == "F-3").unwrap();
    assert_eq!((second.name.as_str(), second.phone.as_deref()), ("", None));

    // A clients query that finds nobody (a wrong table, schema or rights) is one error, not
    // a rejected row per client.
    let error = db
        .load(&keys.replace("FROM gens", "FROM gens WHERE false"))
        .await
        .unwrap_err();
    let server = db.server();
    assert_eq!(
        error.to_string(),
        format!(
            "{server}: the clients query returned no client but the query 4 items: check its tables, \
             search_path and the role's rights"
        )
    );

    // Each query's missing columns are named, both at once.
    let error = db
        .load(
            "query = \"SELECT code, ref AS reference FROM dettes\"\n\
             clients_query = \"SELECT code FROM gens\"\n[source.columns]\ndebtor_id = \"code\"",
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{server}: the query returns no column \"kind\", \"due_date\", \"amount\"; it must return code, kind, \
             reference, due_date, amount (found: code, reference); the clients query returns no column \"name\"; \
             it must return code, name (found: code)"
        )
    );
    let error = db
        .load(
            "query = \"SELECT code AS debtor_id, 'invoice' AS kind, ref AS reference, echeance AS due_date, \
             montant AS amount FROM dettes\"\nclients_query = \"SELECT * FROM clients_inconnus\"",
        )
        .await
        .unwrap_err();
    assert_eq!(
        chain(&error),
        format!(
            "{server}: the clients query is refused: relation \"clients_inconnus\" does not exist (SQLSTATE 42P01)"
        )
    );
}

#[tokio::test]
async fn a_query_without_a_required_column_says_which_and_what_it_found() {
    let Some(db) = TestSchema::new().await else { return };
    db.example().await;
    let error = db
        .load("query = \"SELECT id AS debtor_id, name, phone FROM clients\"")
        .await
        .unwrap_err();
    let server = db.server();
    assert_eq!(
        error.to_string(),
        format!(
            "{server}: the query returns no column \"kind\", \"reference\", \"due_date\", \"amount\"; \
             it must return debtor_id, name, kind, reference, due_date, amount (found: debtor_id, name, phone)"
        )
    );

    let error = db
        .load(
            "query = \"SELECT client_id AS client, number AS name, 'invoice' AS kind, number AS reference, due_date, amount::float8 AS amount FROM invoices\"\n\
             [source.columns]\ndebtor_id = \"client\"\namount = \"amount\"\nname = \"nom\"",
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{server}: the query returns no column \"nom\" (name); it must return client, nom, kind, reference, \
             due_date, amount (found: client, name, kind, reference, due_date, amount); column \"amount\" is double \
             precision, expected bigint, integer or numeric (cast it in the query: amount::numeric)"
        )
    );

    let error = db.load("query = \"SELECT * FROM factures\"").await.unwrap_err();
    assert_eq!(
        chain(&error),
        format!("{server}: the query is refused: relation \"factures\" does not exist (SQLSTATE 42P01)")
    );
}

#[tokio::test]
async fn bad_rows_are_refused_one_by_one_and_the_good_ones_kept() {
    let Some(db) = TestSchema::new().await else { return };
    db.exec(
        "CREATE TABLE items (n INT, debtor_id TEXT, name TEXT, kind TEXT, reference TEXT, due_date TEXT,
                             amount NUMERIC, paid TEXT, currency TEXT);
         INSERT INTO items VALUES
             (1, '1', 'Haziza Apple', 'invoice', 'FAC-0042', '2025-11-20', 2500, NULL, NULL),
             (2, '4', 'Cheikh ibra', 'loan', 'FAC-9', '2025-11-20', 16000, NULL, NULL),
             (3, '5', 'Awa', 'manual', 'R1', '2025-02-30', 12.5, '12,5OO', 'FCFA'),
             (4, NULL, 'Nobody', 'invoice', '', '2025-11-20', NULL, NULL, NULL),
             (5, '6', 'Moussa', 'manual', 'R2', '2025-11-20', -5, '', NULL),
             (6, '7', 'Fatou', 'MANUELLE', 'R3', '2025-11-20', 3000, '1 000', 'xof');",
    )
    .await;
    let batch = db.load("query = \"SELECT * FROM items ORDER BY n\"").await.unwrap();
    let some = |id: &str| Some(id.to_string());
    assert_eq!(
        rejections(&batch),
        [
            (
                "query row 2: kind \"loan\" is not \"invoice\" or \"manual\"".to_string(),
                some("4")
            ),
            (
                "query row 3: due_date \"2025-02-30\" is not a date (expected YYYY-MM-DD); \
                 currency \"FCFA\" is not an ISO 4217 currency code such as \"XOF\""
                    .to_string(),
                some("5")
            ),
            (
                "query row 4: debtor_id is NULL; reference is empty; amount is NULL".to_string(),
                None
            ),
            ("query row 5: amount -5 is negative".to_string(), some("6")),
        ]
    );
    assert_eq!(
        summary(&batch.items),
        [
            (
                "1",
                "Haziza Apple",
                ItemKind::Invoice,
                "FAC-0042",
                "2025-11-20".into(),
                2_500,
                0,
                "query row 1"
            ),
            (
                "7",
                "Fatou",
                ItemKind::Manual,
                "R3",
                "2025-11-20".into(),
                3_000,
                1_000,
                "query row 6"
            ),
        ]
    );

    let batch = db
        .load("query = \"SELECT * FROM items WHERE n = 3\"\ncurrency = \"XOF\"")
        .await
        .unwrap();
    assert_eq!(batch.rejected[0].origin, "query row 1");
    db.exec("UPDATE items SET currency = NULL, due_date = '2025-03-01' WHERE n = 3")
        .await;
    let batch = db.load("query = \"SELECT * FROM items WHERE n = 3\"").await.unwrap();
    assert_eq!(
        rejections(&batch),
        [(
            "query row 1: amount 12.5 has decimals but XOF has 0 decimal places; paid \"12,5OO\" is not a number"
                .to_string(),
            some("5")
        )]
    );
}

#[tokio::test]
async fn connection_errors_name_the_server_and_never_the_password() {
    let Some(db) = TestSchema::new().await else { return };
    let base = crate::DatabaseUrl::parse(db.base()).unwrap();
    let database = base.server().rsplit('/').next().unwrap_or_default().to_string();

    let source = build("url = \"postgres://postgres:s3cret@127.0.0.1:1/test\"").unwrap();
    assert_eq!(source.describe(), "postgres postgres://postgres:***@127.0.0.1:1/test");
    let error = chain(&source.load().await.unwrap_err());
    assert!(
        error.starts_with("cannot connect to PostgreSQL at 127.0.0.1:1/test: "),
        "{error}"
    );
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");

    let host = base.server().split('/').next().unwrap_or_default().to_string();
    let url = format!("postgres://nobody_rappel:s3cret@{host}/{database}");
    let error = chain(&build(&format!("url = \"{url}\"")).unwrap().load().await.unwrap_err());
    assert!(
        error.starts_with(&format!("cannot connect to PostgreSQL at {host}/{database}: ")),
        "{error}"
    );
    assert!(error.contains("nobody_rappel"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_given_up_after_connect_timeout() {
    // A listener that accepts connections (in the kernel's backlog) and never speaks.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let source = build(&format!(
        "url = \"postgres://rappel:s3cret@127.0.0.1:{port}/boutique\"\nconnect_timeout = \"1s\""
    ))
    .unwrap();
    let started = Instant::now();
    let error = chain(&source.load().await.unwrap_err());
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(
        error,
        format!("cannot connect to PostgreSQL at 127.0.0.1:{port}/boutique: no answer within connect_timeout = 1s")
    );
}

#[tokio::test]
async fn a_query_longer_than_statement_timeout_is_cancelled() {
    let Some(db) = TestSchema::new().await else { return };
    let query = "SELECT pg_sleep(5) AS slept, '1' AS debtor_id, 'A' AS name, 'invoice' AS kind, \
                 'F1' AS reference, DATE '2025-11-20' AS due_date, 10 AS amount";
    let started = Instant::now();
    let error = db
        .load(&format!("query = \"{query}\"\nstatement_timeout = \"1s\""))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let server = db.server();
    assert_eq!(
        chain(&error),
        format!(
            "{server}: the query failed after 0 rows (it ran longer than statement_timeout = 1s): \
             canceling statement due to statement timeout (SQLSTATE 57014)"
        )
    );
}

#[tokio::test]
async fn sslmode_in_the_url_is_honoured() {
    let Some(db) = TestSchema::new().await else { return };
    let query = "SELECT (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())::text AS debtor_id, 'A' AS name, \
                 'invoice' AS kind, 'F1' AS reference, DATE '2025-11-20' AS due_date, 10 AS amount";
    let tls = |mode: &str| {
        let url = format!("{}&sslmode={mode}", db.url());
        let source = build(&format!("url = \"{url}\"\nquery = \"{query}\"")).unwrap();
        async move { source.load().await.map(|b| b.items[0].debtor_id.clone()) }
    };
    assert_eq!(tls("disable").await.unwrap(), "false");
    match tls("require").await {
        Ok(ssl) => assert_eq!(ssl, "true"),
        // A server without TLS refuses, and says so.
        Err(e) => assert!(chain(&e).contains("TLS"), "{}", chain(&e)),
    }
}
