//! The host's start-up errors and config, without a plugin library (the end-to-end tests in
//! `tests/e2e/plugins.rs` build real ones).

use super::*;
use crate::config::Config;
use crate::registry::Registry;

fn build_errors(channel: &str, dir: &std::path::Path) -> Vec<String> {
    let text = format!(
        "[engine]\nchannel = \"hook\"\n[source]\nkind = \"csv\"\npath = \"debts.csv\"\n[channels.hook]\n{channel}"
    );
    let config = Config::parse(&text, &dir.join("rappel.toml"), &|_| None).expect("config parses");
    match Registry::new().channel(KIND, build).build_channels(&config, false) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_config_parses_with_options_as_json() {
    let table: toml::Table = toml::from_str(
        "path = \"libx.so\"\nmedium = \"whatsapp\"\n[options]\nurl = \"http://x\"\nretries = [1, 2.5]\nwhen = 2025-12-01\n",
    )
    .unwrap();
    let component = crate::config::ComponentConfig {
        key: "channels.hook".into(),
        kind: KIND.into(),
        options: table,
    };
    let config: PluginConfig = component.parse().unwrap();
    assert_eq!(config.medium, Some(Medium::Whatsapp));
    assert_eq!(
        to_json(&toml::Value::Table(config.options)),
        serde_json::json!({"url": "http://x", "retries": [1, 2.5], "when": "2025-12-01"})
    );
}

#[test]
fn a_missing_library_is_one_error_naming_the_channel_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let errors = build_errors("kind = \"plugin\"\npath = \"plugins/libnope.so\"\n", dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("channels.hook.path: "), "{}", errors[0]);
    assert!(
        errors[0].contains(&format!(
            "{}: no such file",
            dir.path().join("plugins/libnope.so").display()
        )),
        "{}",
        errors[0]
    );
}

#[test]
fn a_file_that_is_not_a_library_is_not_a_plugin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("libfake.so"), "not a library").unwrap();
    let errors = build_errors("kind = \"plugin\"\npath = \"libfake.so\"\n", dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("channels.hook.path: "), "{}", errors[0]);
    assert!(
        errors[0].contains("libfake.so is not a rappel channel plugin"),
        "{}",
        errors[0]
    );
}

#[test]
fn unknown_keys_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let errors = build_errors("kind = \"plugin\"\npath = \"x.so\"\nurl = \"http://x\"\n", dir.path());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("channels.hook") && errors[0].contains("url"),
        "{}",
        errors[0]
    );
}
