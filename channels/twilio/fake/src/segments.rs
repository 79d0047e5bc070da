//! A simple segment count for the fake's answers: GSM-7 (160 / 153 per part, extension
//! characters count 2) or UCS-2 (70 / 67 UTF-16 units). The channel's own calculator is the
//! authoritative one; this only makes `num_segments` plausible.

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION: &str = "\x0c^{}\\[~]|€";

/// Segments Twilio would bill for `body` (at least 1).
pub fn num_segments(body: &str) -> u32 {
    let mut septets = 0u32;
    let mut gsm = true;
    for c in body.chars() {
        if GSM_BASIC.contains(c) {
            septets += 1;
        } else if GSM_EXTENSION.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (units, single, part) = if gsm {
        (septets, 160, 153)
    } else {
        (body.encode_utf16().count() as u32, 70, 67)
    };
    if units <= single { 1 } else { units.div_ceil(part) }
}

#[cfg(test)]
mod tests {
    use super::num_segments;

    #[test]
    fn counts() {
        assert_eq!(num_segments("Bonjour"), 1);
        assert_eq!(num_segments(&"a".repeat(160)), 1);
        assert_eq!(num_segments(&"a".repeat(161)), 2);
        assert_eq!(num_segments(&"ê".repeat(70)), 1);
        assert_eq!(num_segments(&"ê".repeat(71)), 2);
        assert_eq!(num_segments(&format!("{}€", "a".repeat(159))), 2);
    }
}
