//! The default templates, compiled into the binary so that rappel works without the
//! repository's `templates/` folder. A `[templates] dir` replaces or adds to them.
//! Every file under `templates/` is listed here (a test checks it).

/// `(name, source)` pairs; the name is the path under `templates/` without `.hbs`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "en/email/reminder",
        include_str!("../../../templates/en/email/reminder.hbs"),
    ),
    (
        "en/email/reminder-firm",
        include_str!("../../../templates/en/email/reminder-firm.hbs"),
    ),
    (
        "en/email/reminder-firm.subject",
        include_str!("../../../templates/en/email/reminder-firm.subject.hbs"),
    ),
    (
        "en/email/reminder-large",
        include_str!("../../../templates/en/email/reminder-large.hbs"),
    ),
    (
        "en/email/reminder.html",
        include_str!("../../../templates/en/email/reminder.html.hbs"),
    ),
    (
        "en/email/reminder.subject",
        include_str!("../../../templates/en/email/reminder.subject.hbs"),
    ),
    (
        "en/sms/reminder",
        include_str!("../../../templates/en/sms/reminder.hbs"),
    ),
    (
        "en/sms/reminder-firm",
        include_str!("../../../templates/en/sms/reminder-firm.hbs"),
    ),
    (
        "en/sms/reminder-large",
        include_str!("../../../templates/en/sms/reminder-large.hbs"),
    ),
    (
        "en/whatsapp/reminder",
        include_str!("../../../templates/en/whatsapp/reminder.hbs"),
    ),
    (
        "en/whatsapp/reminder-firm",
        include_str!("../../../templates/en/whatsapp/reminder-firm.hbs"),
    ),
    (
        "en/whatsapp/reminder-large",
        include_str!("../../../templates/en/whatsapp/reminder-large.hbs"),
    ),
    (
        "fr/email/reminder",
        include_str!("../../../templates/fr/email/reminder.hbs"),
    ),
    (
        "fr/email/reminder-firm",
        include_str!("../../../templates/fr/email/reminder-firm.hbs"),
    ),
    (
        "fr/email/reminder-firm.subject",
        include_str!("../../../templates/fr/email/reminder-firm.subject.hbs"),
    ),
    (
        "fr/email/reminder-large",
        include_str!("../../../templates/fr/email/reminder-large.hbs"),
    ),
    (
        "fr/email/reminder.html",
        include_str!("../../../templates/fr/email/reminder.html.hbs"),
    ),
    (
        "fr/email/reminder.subject",
        include_str!("../../../templates/fr/email/reminder.subject.hbs"),
    ),
    (
        "fr/sms/reminder",
        include_str!("../../../templates/fr/sms/reminder.hbs"),
    ),
    (
        "fr/sms/reminder-firm",
        include_str!("../../../templates/fr/sms/reminder-firm.hbs"),
    ),
    (
        "fr/sms/reminder-large",
        include_str!("../../../templates/fr/sms/reminder-large.hbs"),
    ),
    (
        "fr/whatsapp/reminder",
        include_str!("../../../templates/fr/whatsapp/reminder.hbs"),
    ),
    (
        "fr/whatsapp/reminder-firm",
        include_str!("../../../templates/fr/whatsapp/reminder-firm.hbs"),
    ),
    (
        "fr/whatsapp/reminder-large",
        include_str!("../../../templates/fr/whatsapp/reminder-large.hbs"),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_file_is_built_in() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
        let mut files = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "hbs") {
                    let name = path.strip_prefix(&root).unwrap().with_extension("");
                    files.push(name.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        files.sort();
        let built_in: Vec<&str> = super::TEMPLATES.iter().map(|(n, _)| *n).collect();
        assert_eq!(files, built_in);
    }
}
