//! Bad rows in a real user's export: each reported once with its line, the others reminded.

use crate::util::{Scratch, outbox_config};

#[test]
fn bad_rows_are_reported_and_the_other_clients_still_get_their_reminder() {
    let rows = "\
C1,Awa,77 123 45 67,,invoice,F-1,2025-11-20,2500,0,XOF
C2,Binta,77 123 45 68,,invoice,F-2,2025-11-21,12,5OO,0,XOF
C3,Coumba,77 123 45 69,,invoice,F-3,2025-11-21,\"12,5OO\",0,XOF
C4,Dieyna,77 123 45 70,,loan,F-4,2025-11-21,1000,0,XOF
,Nobody,77 123 45 71,,invoice,F-5,2025-11-21,1000,0,XOF
C6,Fatou,77 123 45 72,,invoice,F-6,31/11/2025,1000,0,XOF
C7,Gora,77 123 45 73,,invoice,F-7,2025-11-22,3000,0,XOF
C7,Gora,77 123 45 73,,invoice,F-8,2025-11-23,oops,0,XOF
";
    let s = Scratch::new(&outbox_config(""), rows);
    let run = s.run(&["tick", "--now", "2025-12-01T10:00:00Z"]).ok();
    let sent: Vec<String> = s
        .outbox()
        .iter()
        .map(|l| l["debtor_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, ["C1"], "only the client whose rows are all readable is reminded");
    for line in [3, 4, 5, 6, 7, 9] {
        let needle = format!("debts.csv line {line}:");
        assert_eq!(
            run.stderr.matches(&needle).count(),
            1,
            "line {line} reported once:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("amount \"12,5OO\" is not a number"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("6 rows rejected"), "{}", run.stdout);
    assert!(run.stdout.contains("1 unreadable rows"), "C7 held back: {}", run.stdout);
}

#[test]
fn a_missing_file_is_one_clear_error() {
    let s = Scratch::new(&outbox_config(""), "");
    std::fs::remove_file(s.path("debts.csv")).unwrap();
    let run = s.run(&["tick", "--now", "2025-12-01T10:00:00Z"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("debts.csv"), "{}", run.stderr);
    assert!(s.outbox().is_empty());
}
