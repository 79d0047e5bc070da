//! Every request the channels send, checked against Twilio's official OpenAPI description
//! (`shared/twilio/twilio_api_v2010.json`): form fields of CreateMessage, query parameters
//! of ListMessage.

mod common;

use common::*;
use rappel_core::Channel;
use rappel_twilio_fake::{FakeTwilio, Fault, Recorded};
use serde_json::Value;

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/twilio/twilio_api_v2010.json"
);
const MESSAGES: &str = "/2010-04-01/Accounts/{AccountSid}/Messages.json";

/// The spec, or `None` (after a loud notice) when it is missing outside CI.
fn load_spec() -> Option<Value> {
    match std::fs::read_to_string(SPEC) {
        Ok(text) => Some(serde_json::from_str(&text).expect("the Twilio spec is valid JSON")),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("the Twilio OpenAPI spec is missing at {SPEC} ({e}): CI must check requests against it");
            }
            eprintln!("\n**** SKIPPED: Twilio OpenAPI spec not found at {SPEC} ({e}) ****\n");
            None
        }
    }
}

/// Follows a local `$ref` such as `#/components/schemas/message_enum_risk_check`.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(pointer) => spec
            .pointer(pointer.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {pointer}")),
        None => schema,
    }
}

/// Checks `value` against the simple pattern shape Twilio uses for SIDs:
/// `^XX[0-9a-fA-F]{32}$`. Returns `None` for other patterns (not checked).
fn sid_pattern_matches(pattern: &str, value: &str) -> Option<bool> {
    let rest = pattern.strip_prefix('^')?.strip_suffix('$')?;
    let (prefix, class) = rest.split_once("[0-9a-fA-F]{")?;
    let count: usize = class.strip_suffix('}')?.parse().ok()?;
    Some(
        value.len() == prefix.len() + count
            && value.starts_with(prefix)
            && value[prefix.len()..].chars().all(|c| c.is_ascii_hexdigit()),
    )
}

/// Every problem of one value against its schema.
fn check_value(spec: &Value, name: &str, schema: &Value, value: &str, problems: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.iter().any(|a| a.as_str() == Some(value))
    {
        problems.push(format!("{name} = {value:?} is not one of {allowed:?}"));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
        && sid_pattern_matches(pattern, value) == Some(false)
    {
        problems.push(format!("{name} = {value:?} does not match {pattern}"));
    }
    let len = value.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        problems.push(format!("{name} is shorter than {min}"));
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        problems.push(format!("{name} is longer than {max}"));
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") if !matches!(value, "true" | "false") => problems.push(format!("{name} is not a boolean")),
        Some("integer") if value.parse::<i64>().is_err() => problems.push(format!("{name} is not an integer")),
        _ => {}
    }
    if schema.get("format").and_then(Value::as_str) == Some("uri")
        && !(value.starts_with("https://") || value.starts_with("http://"))
    {
        problems.push(format!("{name} = {value:?} is not a URI"));
    }
}

/// Problems of one CreateMessage form against the spec.
fn check_create(spec: &Value, request: &Recorded) -> Vec<String> {
    let operation = &spec["paths"][MESSAGES]["post"];
    assert_eq!(operation["operationId"], "CreateMessage");
    let schema = resolve(
        spec,
        &operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"],
    );
    let properties = schema["properties"].as_object().expect("CreateMessage has properties");
    let mut problems = Vec::new();
    for (name, value) in &request.form {
        match properties.get(name) {
            Some(property) => check_value(spec, name, property, value, &mut problems),
            None => problems.push(format!("{name} is not a CreateMessage parameter")),
        }
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap();
        if request.field(required).is_none() {
            problems.push(format!("required {required} is missing"));
        }
    }
    problems
}

/// Problems of one ListMessage query against the spec.
fn check_list(spec: &Value, request: &Recorded) -> Vec<String> {
    let operation = &spec["paths"][MESSAGES]["get"];
    assert_eq!(operation["operationId"], "ListMessage");
    let parameters: Vec<&Value> = operation["parameters"]
        .as_array()
        .expect("ListMessage has parameters")
        .iter()
        .map(|p| resolve(spec, p))
        .collect();
    let mut problems = Vec::new();
    for (name, value) in &request.query {
        match parameters
            .iter()
            .find(|p| p["in"] == "query" && p["name"] == name.as_str())
        {
            Some(parameter) => check_value(spec, name, &parameter["schema"], value, &mut problems),
            None => problems.push(format!("{name} is not a ListMessage query parameter")),
        }
    }
    problems
}

#[tokio::test]
async fn every_request_matches_twilios_openapi_spec() {
    let Some(spec) = load_spec() else { return };
    let twilio = FakeTwilio::start().await;
    let since = chrono::Utc::now();
    let channels = [
        sms(&twilio, ""),
        sms(
            &twilio,
            "transliterate = true\nstatus_callback = \"https://shop.example/status\"",
        ),
        sms(
            &twilio,
            "messaging_service_sid = \"MG0123456789abcdef0123456789abcdef\"\nstatus_callback = \"https://shop.example/s\"",
        ),
        whatsapp(&twilio, ""),
        whatsapp(
            &twilio,
            "content_sid = \"HX0123456789abcdef0123456789abcdef\"\ncontent_variables = { \"1\" = \"body\", \"2\" = \"date\" }",
        ),
    ];
    for channel in &channels {
        channel.send(&message(AWA, APPROVED)).await.unwrap();
        channel.find_sent(&message(AWA, APPROVED), since).await.unwrap();
    }
    // A send that ends in an ambiguous failure sends the same fields.
    twilio.set_fault(Fault::CreateThenDrop);
    let _ = channels[0].send(&message(MODOU, "Bonjour")).await;

    let requests = twilio.requests();
    assert_eq!(requests.len(), 2 * channels.len() + 1);
    let mut problems = Vec::new();
    for request in &requests {
        let found = match request.method.as_str() {
            "POST" => check_create(&spec, request),
            _ => check_list(&spec, request),
        };
        problems.extend(
            found
                .into_iter()
                .map(|p| format!("{} {:?}: {p}", request.method, request.form)),
        );
    }
    assert!(
        problems.is_empty(),
        "requests outside Twilio's spec:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_spec_checker_catches_mistakes() {
    let Some(spec) = load_spec() else { return };
    let request = |form: &[(&str, &str)]| Recorded {
        method: "POST".into(),
        path: String::new(),
        query: Vec::new(),
        form: form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        auth_user: None,
    };
    assert!(check_create(&spec, &request(&[("To", AWA), ("Body", "x"), ("From", FROM)])).is_empty());
    let bad = check_create(
        &spec,
        &request(&[
            ("Body", "x"),
            ("from", FROM),
            ("MessagingServiceSid", "MG123"),
            ("RiskCheck", "sometimes"),
        ]),
    );
    assert_eq!(bad.len(), 5, "{bad:#?}");
}
