//! Masking of personal addresses for logs: `+2217712…67`, `a…@example.com`.

/// Masks a phone number or an email address for logs above debug level.
pub fn address(addr: &str) -> String {
    if let Some((user, domain)) = addr.split_once('@') {
        let first: String = user.chars().take(1).collect();
        return format!("{first}…@{domain}");
    }
    let chars: Vec<char> = addr.chars().collect();
    if chars.len() <= 6 {
        return "…".to_string();
    }
    let head: String = chars[..chars.len().min(7)].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

/// A connection URL without its password: `postgres://app:***@db:5432/rappel`.
pub fn url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            super::url("postgres://app:s3cret@db:5432/rappel?sslmode=require"),
            "postgres://app:***@db:5432/rappel?sslmode=require"
        );
        assert_eq!(super::url("postgres://db/rappel"), "postgres://db/rappel");
        assert_eq!(super::url("postgres://a:b@c@h/x"), "postgres://a:***@h/x");
    }

    #[test]
    fn masks_phones_and_emails() {
        assert_eq!(super::address("+221771234567"), "+221771…67");
        assert_eq!(super::address("awa@example.com"), "a…@example.com");
        assert_eq!(super::address("123"), "…");
    }
}
