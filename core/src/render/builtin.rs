//! The default templates, compiled into the binary so that rappel works without the
//! repository's `templates/` folder. A `[templates] dir` replaces or adds to them.

/// `(name, source)` pairs; the name is the path under `templates/` without `.hbs`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "fr/sms/reminder",
        include_str!("../../../templates/fr/sms/reminder.hbs"),
    ),
    (
        "fr/whatsapp/reminder",
        include_str!("../../../templates/fr/whatsapp/reminder.hbs"),
    ),
    (
        "fr/email/reminder",
        include_str!("../../../templates/fr/email/reminder.hbs"),
    ),
    (
        "fr/email/reminder.subject",
        include_str!("../../../templates/fr/email/reminder.subject.hbs"),
    ),
    (
        "en/sms/reminder",
        include_str!("../../../templates/en/sms/reminder.hbs"),
    ),
    (
        "en/whatsapp/reminder",
        include_str!("../../../templates/en/whatsapp/reminder.hbs"),
    ),
    (
        "en/email/reminder",
        include_str!("../../../templates/en/email/reminder.hbs"),
    ),
    (
        "en/email/reminder.subject",
        include_str!("../../../templates/en/email/reminder.subject.hbs"),
    ),
    (
        "fr/email/reminder.html",
        include_str!("../../../templates/fr/email/reminder.html.hbs"),
    ),
    (
        "en/email/reminder.html",
        include_str!("../../../templates/en/email/reminder.html.hbs"),
    ),
];
