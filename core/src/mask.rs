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

#[cfg(test)]
mod tests {
    #[test]
    fn masks_phones_and_emails() {
        assert_eq!(super::address("+221771234567"), "+221771…67");
        assert_eq!(super::address("awa@example.com"), "a…@example.com");
        assert_eq!(super::address("123"), "…");
    }
}
