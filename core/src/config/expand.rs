//! `${VAR}` and `${VAR:-default}` in string values, expanded after parsing so that a value
//! can never inject TOML syntax.

use super::ConfigError;

/// Expands every string in `value` in place, collecting one error per unset variable.
pub(super) fn expand_value(
    value: &mut toml::Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<ConfigError>,
) {
    match value {
        toml::Value::String(s) => match expand_str(s, env) {
            Ok(expanded) => *s = expanded,
            Err(message) => errors.push(ConfigError::new(path, message)),
        },
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                expand_value(item, &format!("{path}[{i}]"), env, errors);
            }
        }
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                expand_value(item, &child, env, errors);
            }
        }
        _ => {}
    }
}

/// Expands `${VAR}` and `${VAR:-default}` in one string; `$$` is a literal `$`.
/// An empty variable counts as unset, as in a shell's `:-`.
pub fn expand_str(input: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body
                .find('}')
                .ok_or_else(|| format!("unclosed \"${{\" in \"{input}\""))?;
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (expr, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("\"${{{expr}}}\" is not a variable name"));
            }
            match (env(name).filter(|v| !v.is_empty()), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    return Err(format!(
                        "environment variable {name} is not set (write ${{{name}:-default}} for a default)"
                    ));
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_variables_and_defaults() {
        assert_eq!(expand_str("${TOKEN}", &env).unwrap(), "s3cret");
        assert_eq!(expand_str("a-${TOKEN}-b", &env).unwrap(), "a-s3cret-b");
        assert_eq!(expand_str("${NOPE:-fallback}", &env).unwrap(), "fallback");
        assert_eq!(expand_str("${EMPTY:-x}", &env).unwrap(), "x");
        assert_eq!(expand_str("${TOKEN:-x}", &env).unwrap(), "s3cret");
        assert_eq!(expand_str("cost $5 and $$", &env).unwrap(), "cost $5 and $");
        assert_eq!(expand_str("${NOPE:-}", &env).unwrap(), "");
    }

    #[test]
    fn unset_and_malformed_are_errors() {
        assert!(expand_str("${NOPE}", &env).unwrap_err().contains("NOPE is not set"));
        assert!(expand_str("${TOKEN", &env).unwrap_err().contains("unclosed"));
        assert!(expand_str("${A B}", &env).unwrap_err().contains("not a variable name"));
    }

    #[test]
    fn expansion_never_parses_the_value_as_toml() {
        let env = |_: &str| Some("\"\n[engine]\nenabled = false".to_string());
        assert_eq!(expand_str("${X}", &env).unwrap(), "\"\n[engine]\nenabled = false");
    }
}
