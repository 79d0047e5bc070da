//! SMS segments: whether a text fits GSM-7 or needs UCS-2, how many billable parts it takes,
//! and a transliteration to GSM-7 that never makes a message cost more.
//!
//! GSM-7 (3GPP TS 23.038): 160 septets alone, 153 per part of a multipart message; the
//! extension characters `^ { } \ [ ~ ] | €` and form feed take 2 septets (escape + code)
//! and are never split across parts. UCS-2: 70 UTF-16 units alone, 67 per part; a
//! surrogate pair is never split either.

use serde::Serialize;

/// The GSM-7 default alphabet, without the escape code.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM-7 extension table: each costs an escape septet plus its own.
const GSM_EXTENSION: &str = "\x0c^{}\\[~]|€";

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    /// The 7-bit GSM alphabet.
    #[serde(rename = "GSM-7")]
    Gsm7,
    /// UTF-16 (UCS-2 on older networks).
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    /// `GSM-7` or `UCS-2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "GSM-7",
            Self::Ucs2 => "UCS-2",
        }
    }
}

/// What a text costs as an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    /// GSM-7 if every character is in the GSM-7 tables.
    pub encoding: Encoding,
    /// Billable parts (at least 1, also for an empty text).
    pub segments: u32,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: u32,
    /// The first character outside GSM-7 and its index in characters, if any: the one to
    /// change to make the message cheaper.
    pub first_non_gsm: Option<(usize, char)>,
}

/// Septets `c` takes in GSM-7, or `None` if it is not in GSM-7.
pub fn gsm_septets(c: char) -> Option<u32> {
    SEPTETS.of(c)
}

/// The septets of every character (0: not in GSM-7), built once from the tables above: a
/// table for the characters below U+0400 (Latin and Greek, all but one of GSM-7's) and a
/// list for the rest (`€`).
struct Septets {
    low: [u8; 0x400],
    high: Vec<(char, u8)>,
}

impl Septets {
    fn of(&self, c: char) -> Option<u32> {
        let septets = match self.low.get(c as usize) {
            Some(&n) => n,
            None => self.high.iter().find(|(h, _)| *h == c).map_or(0, |(_, n)| *n),
        };
        (septets > 0).then_some(u32::from(septets))
    }

    /// The septets of `text` and whether a character takes two, or `None` when one is not
    /// in GSM-7. ASCII, nearly all of a message, is read byte by byte from the table, without
    /// decoding characters.
    fn units(&self, text: &str) -> Option<(u32, bool)> {
        let bytes = text.as_bytes();
        // `seen`: bit n set when a character took n septets (bit 0: one is not in GSM-7).
        let (mut units, mut seen, mut at) = (0_u32, 0_u32, 0);
        while let Some(&byte) = bytes.get(at) {
            let n = if byte.is_ascii() {
                at += 1;
                u32::from(self.low[usize::from(byte)])
            } else {
                // `at` is at the start of a character: every step is a whole one.
                let c = text[at..].chars().next()?;
                at += c.len_utf8();
                self.of(c).unwrap_or(0)
            };
            units += n;
            seen |= 1 << n;
        }
        (seen & 1 == 0).then_some((units, seen & 0b100 != 0))
    }
}

static SEPTETS: std::sync::LazyLock<Septets> = std::sync::LazyLock::new(|| {
    let mut table = Septets {
        low: [0; 0x400],
        high: Vec::new(),
    };
    let basic = GSM_BASIC.chars().map(|c| (c, 1));
    for (c, n) in basic.chain(GSM_EXTENSION.chars().map(|c| (c, 2))) {
        match table.low.get_mut(c as usize) {
            Some(slot) => *slot = n,
            None => table.high.push((c, n)),
        }
    }
    table
});

/// Whether every character of `text` is in GSM-7.
pub fn is_gsm7(text: &str) -> bool {
    SEPTETS.units(text).is_some()
}

/// The encoding, units and segments of `text`: a GSM-7 text is read once; at the first
/// character outside GSM-7, the text's UTF-16 units are counted from the start.
///
/// The parts are packed one character at a time only when a character takes two units
/// (a GSM-7 extension, a surrogate pair), since those are never split across parts;
/// otherwise they follow from the units alone.
pub fn analyze(text: &str) -> SegmentInfo {
    let septets = &*SEPTETS;
    let Some((units, escaped)) = septets.units(text) else {
        return analyze_ucs2(text);
    };
    let segments = if escaped {
        packed(text.chars().map(|c| septets.of(c).unwrap_or(1)), 160, 153)
    } else {
        segments_of(units, 160, 153)
    };
    SegmentInfo {
        encoding: Encoding::Gsm7,
        segments,
        units,
        first_non_gsm: None,
    }
}

/// [`analyze`] of a text with a character outside GSM-7.
fn analyze_ucs2(text: &str) -> SegmentInfo {
    let septets = &*SEPTETS;
    let (units, segments) = count(text.chars().map(|c| c.len_utf16() as u32), 70, 67);
    SegmentInfo {
        encoding: Encoding::Ucs2,
        segments,
        units,
        first_non_gsm: text.chars().enumerate().find(|&(_, c)| septets.of(c).is_none()),
    }
}

/// Units and segments of characters costing `costs`, in messages of `single` units alone
/// and `part` per part.
fn count(costs: impl Iterator<Item = u32> + Clone, single: u32, part: u32) -> (u32, u32) {
    let mut units = 0;
    let mut wide = false;
    for cost in costs.clone() {
        units += cost;
        wide |= cost > 1;
    }
    let segments = if wide {
        packed(costs, single, part)
    } else {
        segments_of(units, single, part)
    };
    (units, segments)
}

/// Segments of characters costing `costs`, packed one by one: none is split across parts.
fn packed(costs: impl Iterator<Item = u32>, single: u32, part: u32) -> u32 {
    let mut parts = Parts::new(single, part);
    for cost in costs {
        parts.add(cost);
    }
    parts.segments()
}

/// Segments of `units` characters of one unit each.
fn segments_of(units: u32, single: u32, part: u32) -> u32 {
    if units <= single { 1 } else { units.div_ceil(part) }
}

/// Units of a text and the parts they take when packed in order into parts of `part`
/// units, none split across two parts (`single` when it all fits in one message).
struct Parts {
    single: u32,
    part: u32,
    units: u32,
    parts: u32,
    used: u32,
}

impl Parts {
    fn new(single: u32, part: u32) -> Self {
        Self {
            single,
            part,
            units: 0,
            parts: 1,
            used: 0,
        }
    }

    fn add(&mut self, cost: u32) {
        self.units += cost;
        if self.used + cost > self.part {
            self.parts += 1;
            self.used = 0;
        }
        self.used += cost;
    }

    fn segments(&self) -> u32 {
        if self.units <= self.single { 1 } else { self.parts }
    }
}

/// `text` with every character outside GSM-7 replaced by its closest GSM-7 form (`ê` → `e`,
/// `•` → `-`, `’` → `'`, `…` → `...`, non-breaking spaces → space); characters with no
/// obvious equivalent become `?`. If the result would take more segments than `text` (a
/// text made mostly of `…`), `text` is returned unchanged: transliterating never makes a
/// message cost more.
pub fn transliterate(text: &str) -> String {
    if is_gsm7(text) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let septets = &*SEPTETS;
    for c in text.chars() {
        if septets.of(c).is_some() {
            out.push(c);
        } else {
            out.push_str(replacement(c));
        }
    }
    if analyze(&out).segments > analyze(text).segments {
        text.to_string()
    } else {
        out
    }
}

/// The GSM-7 replacement of a character outside GSM-7.
fn replacement(c: char) -> &'static str {
    match c {
        '•' | '·' | '–' | '—' | '‐' | '‑' | '‒' | '−' => "-",
        '’' | '‘' | '‚' | '′' | '`' | '´' => "'",
        '“' | '”' | '„' | '«' | '»' | '″' => "\"",
        '\u{a0}' | '\u{202f}' | '\u{2009}' | '\u{2007}' | '\u{2002}' | '\u{2003}' | '\u{2008}' | '\t' => " ",
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{ad}' => "",
        '…' => "...",
        'œ' => "oe",
        'Œ' => "OE",
        '×' => "x",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'Ć' | 'Č' | 'Ĉ' | 'Ċ' => "C",
        'â' | 'á' | 'ã' | 'ā' | 'ă' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ā' | 'Ă' | 'Ą' => "A",
        'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'È' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'î' | 'ï' | 'í' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I",
        'ô' | 'ó' | 'õ' | 'ō' | 'ŏ' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ō' | 'Ŏ' | 'Ő' => "O",
        'û' | 'ú' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ý' | 'Ÿ' | 'Ŷ' => "Y",
        'ń' | 'ň' | 'ņ' => "n",
        'Ń' | 'Ň' | 'Ņ' => "N",
        'ś' | 'š' | 'ş' | 'ș' | 'ŝ' => "s",
        'Ś' | 'Š' | 'Ş' | 'Ș' | 'Ŝ' => "S",
        'ţ' | 'ț' | 'ť' => "t",
        'Ţ' | 'Ț' | 'Ť' => "T",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ď' | 'đ' => "d",
        'Ď' | 'Đ' => "D",
        'ğ' | 'ĝ' | 'ġ' | 'ģ' => "g",
        'Ğ' | 'Ĝ' | 'Ġ' | 'Ģ' => "G",
        'ł' | 'ĺ' | 'ľ' | 'ļ' => "l",
        'Ł' | 'Ĺ' | 'Ľ' | 'Ļ' => "L",
        'ř' | 'ŕ' | 'ŗ' => "r",
        'Ř' | 'Ŕ' | 'Ŗ' => "R",
        'ĥ' => "h",
        'Ĥ' => "H",
        'ĵ' => "j",
        'Ĵ' => "J",
        'ķ' => "k",
        'Ķ' => "K",
        'ŵ' => "w",
        'Ŵ' => "W",
        'ð' => "d",
        'Ð' => "D",
        'þ' => "th",
        'Þ' => "TH",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message the users approved (DESIGN.md), with its bullets.
    const APPROVED: &str = "Bonjour Fa Guité,\n\nNous vous informons que certaines créances ont dépassé leur date \
d'échéance :\n\nFactures en retard:\n - Facture FAC-0042 • Échéance: 2025-11-20 • Restant: 2 500 XOF\n\n\
Créances manuelles en retard:\n - Réf 17 • Échéance: 2025-11-02 • Restant: 235 000 XOF\n\n\
Merci de régulariser votre situation dans les meilleurs délais.";

    #[test]
    fn gsm7_single_and_multipart_limits() {
        let info = analyze(&"a".repeat(160));
        assert_eq!((info.encoding, info.segments, info.units), (Encoding::Gsm7, 1, 160));
        assert_eq!(analyze(&"a".repeat(161)).segments, 2);
        assert_eq!(analyze(&"a".repeat(306)).segments, 2);
        assert_eq!(analyze(&"a".repeat(307)).segments, 3);
    }

    #[test]
    fn ucs2_single_and_multipart_limits() {
        let info = analyze(&"ê".repeat(70));
        assert_eq!((info.encoding, info.segments, info.units), (Encoding::Ucs2, 1, 70));
        assert_eq!(analyze(&"ê".repeat(71)).segments, 2);
        assert_eq!(analyze(&"ê".repeat(134)).segments, 2);
        assert_eq!(analyze(&"ê".repeat(135)).segments, 3);
    }

    #[test]
    fn one_non_gsm_character_turns_the_whole_text_ucs2() {
        let text = format!("{}ê", "a".repeat(69));
        let info = analyze(&text);
        assert_eq!(info.encoding, Encoding::Ucs2);
        assert_eq!(info.first_non_gsm, Some((69, 'ê')));
        assert_eq!(info.segments, 1);
        assert_eq!(analyze(&format!("{}ê", "a".repeat(70))).segments, 2);
    }

    #[test]
    fn extension_characters_count_two_septets() {
        let text = format!("{}€", "a".repeat(159));
        let info = analyze(&text);
        assert_eq!((info.encoding, info.units, info.segments), (Encoding::Gsm7, 161, 2));
        assert_eq!(analyze(&format!("{}€", "a".repeat(158))).segments, 1);
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\x0c'] {
            assert_eq!(gsm_septets(c), Some(2), "{c:?}");
        }
    }

    #[test]
    fn an_escape_pair_is_never_split_across_parts() {
        // 152 + 2 + 152 = 306 septets, but the € cannot straddle parts 1 and 2.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(analyze(&text).units, 306);
        assert_eq!(analyze(&text).segments, 3);
    }

    #[test]
    fn surrogate_pairs_count_two_units() {
        let info = analyze("😀");
        assert_eq!((info.encoding, info.units), (Encoding::Ucs2, 2));
        assert_eq!(analyze(&format!("{}😀", "a".repeat(68))).segments, 1);
        assert_eq!(analyze(&format!("{}😀", "a".repeat(69))).segments, 2);
    }

    #[test]
    fn gsm7_holds_these_and_not_those() {
        for c in "éèùìòàÉÇÄÖÑÜäöñüåÅØøÆæß@£$¥¤§¿¡ΔΦΓΛΩΠΨΣΘΞ\n\r".chars() {
            assert!(gsm_septets(c).is_some(), "{c:?} is GSM-7");
        }
        for c in "êâîôûçëï•’«»\u{a0}\u{202f}".chars() {
            assert!(gsm_septets(c).is_none(), "{c:?} is not GSM-7");
        }
    }

    #[test]
    fn empty_text_is_one_segment() {
        assert_eq!(analyze("").segments, 1);
        assert_eq!(analyze("").encoding, Encoding::Gsm7);
    }

    #[test]
    fn the_approved_french_message_needs_transliteration() {
        let info = analyze(APPROVED);
        assert_eq!(info.encoding, Encoding::Ucs2);
        assert_eq!(info.first_non_gsm.map(|(_, c)| c), Some('•'));
        let plain = transliterate(APPROVED);
        assert!(is_gsm7(&plain), "{plain}");
        assert!(plain.contains("FAC-0042 - Échéance: 2025-11-20 - Restant: 2 500 XOF"));
        assert!(analyze(&plain).segments < info.segments);
    }

    #[test]
    fn transliteration_table() {
        assert_eq!(
            transliterate("• ê ë â î ï ô û ç Ç ’ ‘ “ ” « » – — … Ê Â Î Ô Û œ Œ"),
            "- e e a i i o u c Ç ' ' \" \" \" \" - - ... E A I O U oe OE"
        );
        assert_eq!(transliterate("2\u{a0}500\u{202f}XOF\u{2009}!"), "2 500 XOF !");
        assert_eq!(transliterate("Ndèye Fatou Diène"), "Ndèye Fatou Diène");
        assert_eq!(transliterate("Aïssatou Sène, fête"), "Aissatou Sène, fete");
        assert_eq!(transliterate("Łódź"), "Lodz");
        assert_eq!(transliterate("merci 🙏 神"), "merci ? ?");
        assert_eq!(transliterate("déjà payé: 1€ {ok}"), "déjà payé: 1€ {ok}");
    }

    #[test]
    fn transliteration_never_costs_more() {
        let tricky = [
            APPROVED.to_string(),
            "…".repeat(70),
            "…".repeat(23),
            format!("{}…", "a".repeat(158)),
            format!("{}œ", "a".repeat(159)),
            "œ".repeat(70),
            "😀".repeat(35),
            "€".repeat(80),
            format!("ê{}", "€".repeat(69)),
            format!("ê{}", "{".repeat(80)),
            "Ça coûte 2\u{202f}500 XOF • merci".to_string(),
            "«\u{a0}Bonjour\u{a0}»".repeat(12),
            "\u{feff}\u{200b}".repeat(50),
            String::new(),
            "a".repeat(161),
        ];
        for text in tricky {
            let before = analyze(&text).segments;
            let after = analyze(&transliterate(&text)).segments;
            assert!(after <= before, "{text:?}: {before} -> {after}");
        }
        assert_eq!(
            transliterate(&"…".repeat(70)),
            "…".repeat(70),
            "kept when dots would cost more"
        );
    }

    /// `analyze` as it was before it counted segments from the units: packing every
    /// character one by one.
    fn analyze_before(text: &str) -> SegmentInfo {
        let septets = &*SEPTETS;
        let mut gsm = Parts::new(160, 153);
        for (i, c) in text.chars().enumerate() {
            let Some(n) = septets.of(c) else {
                let mut ucs = Parts::new(70, 67);
                for c in text.chars() {
                    ucs.add(c.len_utf16() as u32);
                }
                return SegmentInfo {
                    encoding: Encoding::Ucs2,
                    segments: ucs.segments(),
                    units: ucs.units,
                    first_non_gsm: Some((i, c)),
                };
            };
            gsm.add(n);
        }
        SegmentInfo {
            encoding: Encoding::Gsm7,
            segments: gsm.segments(),
            units: gsm.units,
            first_non_gsm: None,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]
        /// Texts around the limits, with extension characters, accents and emoji.
        #[test]
        fn counts_every_text_as_before(
            text in "[a-z €{é•😀]{0,400}",
            gsm in "[a-z {}^€]{100,480}",
            ascii in "[\\x00-\\x7fé€ñ😀]{0,300}",
        ) {
            proptest::prop_assert_eq!(analyze(&text), analyze_before(&text));
            proptest::prop_assert_eq!(analyze(&gsm), analyze_before(&gsm));
            proptest::prop_assert_eq!(analyze(&ascii), analyze_before(&ascii));
            proptest::prop_assert_eq!(is_gsm7(&ascii), ascii.chars().all(|c| gsm_septets(c).is_some()));
        }
    }
}
