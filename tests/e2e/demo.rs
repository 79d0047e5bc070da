//! The README's demo: the grouped French reminders of the clients named in the design.

use crate::util::{rappel, repo};

#[test]
fn the_demo_prints_the_grouped_french_reminders() {
    let out = rappel(
        &repo(),
        &[
            "--config",
            "config/demo.toml",
            "preview",
            "--now",
            "2025-12-01T10:00:00Z",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "── Haziza Apple (C001) → +221771234567 · sms · reminder 1 · 2 500 XOF ──",
        " - Facture FAC-0042 - Échéance: 2025-11-20 - Restant: 2 500 XOF",
        "── Fa Guité (C002) → +221762345678 · sms · reminder 1 · 127 000 XOF ──",
        " - Facture FAC-0051 - Échéance: 2025-11-10 - Restant: 92 000 XOF",
        " - Réf 18 - Échéance: 2025-11-15 - Restant: 35 000 XOF",
        "── Grand Ndiaye (C003) → +221781112233 · sms · reminder 1 · 235 000 XOF ──",
        " - Réf 17 - Échéance: 2025-11-02 - Restant: 235 000 XOF",
        "── Cheikh ibra (C004) → +221705556677 · sms · reminder 1 · 16 000 XOF ──",
        "Merci de régulariser votre situation dans les meilleurs délais.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("Awa Diop"), "paid in full");
    assert!(!text.contains("Fatou Ndiaye"), "not yet due");
    assert!(
        text.contains("Restant: 25 000 XOF"),
        "partially paid: the remaining amount"
    );
    assert_eq!(
        text.matches("── ").count(),
        19,
        "19 clients with an overdue balance:\n{text}"
    );
    assert!(
        text.contains("21 clients, 19 with an overdue balance; 19 reminders due (nothing sent or recorded)"),
        "{text}"
    );
}

#[test]
fn the_demo_and_the_reference_config_validate() {
    for config in ["config/demo.toml", "config/rappel.toml"] {
        // The reference reads the Twilio settings from the environment, as users set them.
        let out = rappel(&repo(), &["--config", config, "validate"])
            .env("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
            .env("TWILIO_AUTH_TOKEN", "not-a-real-token")
            .env("TWILIO_FROM", "+15005550006")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{config}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(": ok"));
    }
}
