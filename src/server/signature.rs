//! Twilio's webhook signature: base64(HMAC-SHA1(auth token, URL + every parameter's name
//! and value, names sorted)), sent as `X-Twilio-Signature`.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

fn mac(token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio computes for a POST to `url` with form `params`.
#[cfg(test)]
pub fn sign(token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(token, url, params).finalize().into_bytes())
}

/// Whether `signature` is Twilio's for this request (compared in constant time).
pub fn verify(token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    mac(token, url, params).verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    #[test]
    fn twilio_published_test_vector() {
        assert_eq!(sign("12345", URL, &vector()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(verify("12345", URL, &vector(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    #[test]
    fn tampering_is_refused() {
        let mut tampered = vector();
        tampered[2].1 = "9999".into();
        assert!(
            !verify("12345", URL, &tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            "a changed parameter"
        );
        assert!(
            !verify(
                "12345",
                "https://mycompany.com/other.php",
                &vector(),
                "RSOYDt4T1cUTdK1PDd93/VVr8B8="
            ),
            "another URL"
        );
        assert!(
            !verify("54321", URL, &vector(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            "another token"
        );
        assert!(!verify("12345", URL, &vector(), ""), "no signature");
        assert!(!verify("12345", URL, &vector(), "not base64!"), "garbage");
    }
}
