//! Search keys for Vietnamese text.
//!
//! The job: turn a title, author, subject or reader name into two keys.
//!
//! * [`fold`] gives the *folded* key, for accent-insensitive matching: every
//!   tone and vowel mark is removed and `đ` becomes `d`, so a query typed
//!   without diacritics ("nguyen du") still finds "Nguyễn Du".
//! * [`toned`] gives the *toned* key, for ranking exact accented forms
//!   first: vowel-quality marks (ă â ê ô ơ ư) and `đ` stay, and the tone is
//!   written once at the end of each word as a digit, so the old and new
//!   tone placements ("hòa"/"hoà", "thuý"/"thúy") give the same key while
//!   "dương", "đương" and "đường" stay distinct.
//!
//! [`has_marks`] says whether a query carries Vietnamese marks at all (then
//! the toned key should be used for ranking), and [`words`] splits a key
//! into its words for building FTS5 queries.
//!
//! Input may arrive in any normalisation form and with combining marks in
//! the odd orders that telex/VNI keyboards produce (base + tone + vowel
//! mark, or a precomposed vowel followed by a separate combining tone); it
//! is normalised to NFC, lowercased and then decomposed internally, so all
//! those spellings give identical keys. Output is NFC.
//!
//! What this module does not do: no tokenising for FTS5 beyond splitting
//! words on anything that is not a letter or digit, no stemming, no
//! stop-words, no transliteration of other scripts (Cyrillic, CJK, … are
//! only lowercased, with combining marks removed in the folded key), and no
//! repair of text in legacy 8-bit Vietnamese encodings (TCVN3, VNI fonts).
//!
//! How a mark is classified (after canonical decomposition):
//! * tone marks: U+0300 grave (huyền, 1), U+0301 acute (sắc, 2), U+0309
//!   hook above (hỏi, 3), U+0303 tilde (ngã, 4), U+0323 dot below (nặng, 5).
//!   In [`toned`] these count as a tone only when they sit on a vowel
//!   (a e i o u y); on any other letter (the tilde of `ñ`) they are kept as
//!   an ordinary mark.
//! * vowel-quality marks: U+0306 breve (ă), U+0302 circumflex (â ê ô),
//!   U+031B horn (ơ ư).
//! * `đ` (U+0111) is its own letter with no decomposition. Its capital
//!   look-alike `Ð` (U+00D0, Icelandic eth), which turns up in Vietnamese
//!   text typed or converted on Latin-1 systems, is read as `Đ`.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization};

/// The five tone marks and their digits (huyền=1, sắc=2, hỏi=3, ngã=4, nặng=5).
fn tone_digit(c: char) -> Option<char> {
    match c {
        '\u{0300}' => Some('1'),
        '\u{0301}' => Some('2'),
        '\u{0309}' => Some('3'),
        '\u{0303}' => Some('4'),
        '\u{0323}' => Some('5'),
        _ => None,
    }
}

/// Vowel-quality marks: breve (ă), circumflex (â ê ô), horn (ơ ư).
fn is_vowel_mark(c: char) -> bool {
    matches!(c, '\u{0306}' | '\u{0302}' | '\u{031B}')
}

/// Bases a Vietnamese tone can sit on (after decomposition and lowercasing).
fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// Invisible format characters that may sit inside a word (soft hyphen from
/// PDFs and web pages, joiners, word joiner, byte-order mark): dropped, so
/// they neither split a word nor end up in a key. Zero-width *space* is not
/// here: it is a word break and becomes a space.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// NFC, with the `Ð` look-alike read as `Đ`, then lowercased (whole-string
/// lowercasing, so Greek final sigma is right). Callers decompose it.
fn lower_nfc(text: &str) -> String {
    // Stored text is nearly always NFC already: checking is several times cheaper than
    // recomposing, and a bulk load of the catalogue folds every title.
    if !text.contains('\u{00D0}')
        && unicode_normalization::is_nfc_quick(text.chars()) == IsNormalized::Yes
    {
        return text.to_lowercase();
    }
    let nfc: String = text
        .nfc()
        .map(|c| if c == '\u{00D0}' { '\u{0110}' } else { c })
        .collect();
    nfc.to_lowercase()
}

/// Push a word separator unless the key is empty or already ends in one.
fn push_space(out: &mut String) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// Accent-insensitive key: NFC-normalise, lowercase, remove every combining mark (all tones and vowel marks: ă â ê ô ơ ư and the five tones), map đ/Đ → d, turn any non-alphanumeric char into a space, collapse runs of spaces, trim. "Nguyễn Du" → "nguyen du"; "Đường" → "duong"; "HOÀ" → "hoa"; "Truyện Kiều (tái bản)" → "truyen kieu tai ban".
pub fn fold(text: &str) -> String {
    let lower = lower_nfc(text);
    let mut out = String::with_capacity(lower.len());
    for c in lower.nfd() {
        if is_combining_mark(c) || is_ignorable(c) {
            continue;
        }
        // Letters with a stroke have no canonical decomposition; fold the
        // Vietnamese one (and a few Latin ones) by hand.
        let c = match c {
            'đ' | 'ð' => 'd',
            'ø' => 'o',
            'ł' => 'l',
            other => other,
        };
        if c.is_alphanumeric() {
            out.push(c);
        } else {
            push_space(&mut out);
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    // Recompose what is left (e.g. Hangul jamo back into syllables); no
    // combining marks remain, so Latin letters stay bare. Plain ASCII, the
    // usual result for Vietnamese, is NFC as it stands.
    if out.is_ascii() {
        return out;
    }
    out.nfc().collect()
}

/// Accent-sensitive key that ignores where the tone mark sits: lowercase NFC, and in each word the tone mark (grave, acute, hook above, tilde, dot below) removed from its vowel and written once at the end of the word as a digit (huyền=1 ` , sắc=2, hỏi=3, ngã=4, nặng=5), keeping vowel-quality marks (ă â ê ô ơ ư) and đ. So "hòa" and "hoà" both → "hoa1"; "thuý" and "thúy" → "thuy2"; "dương" → "dương", "đương" → "đương", "đường" → "đương1" (all three distinct). Non-alphanumerics → space, collapsed, trimmed.
pub fn toned(text: &str) -> String {
    let lower = lower_nfc(text);
    let mut out = String::with_capacity(lower.len() + 8);
    // The letter that following combining marks attach to; `None` at the
    // start, after a separator or after a digit (stray marks are dropped).
    let mut base: Option<char> = None;
    // Tone of the current word: the first tone mark found on a vowel wins.
    let mut tone: Option<char> = None;

    for c in lower.nfd() {
        if is_combining_mark(c) {
            let Some(b) = base else { continue };
            match tone_digit(c) {
                Some(d) if is_vowel(b) => {
                    if tone.is_none() {
                        tone = Some(d);
                    }
                }
                // Vowel-quality marks, and any other mark on a letter
                // (diaeresis, cedilla, the tilde of ñ, …): kept.
                _ => out.push(c),
            }
            continue;
        }
        if is_ignorable(c) {
            continue;
        }
        if c.is_alphanumeric() {
            out.push(c);
            base = if c.is_alphabetic() { Some(c) } else { None };
        } else {
            if let Some(d) = tone.take() {
                out.push(d);
            }
            base = None;
            push_space(&mut out);
        }
    }
    if let Some(d) = tone.take() {
        out.push(d);
    }
    if out.ends_with(' ') {
        out.pop();
    }
    // Recompose: u + horn → ư, e + circumflex → ê, and so on.
    if out.is_ascii() {
        return out;
    }
    out.nfc().collect()
}

/// True when the text carries any Vietnamese mark (tone, vowel quality or đ): an accented query should rank exact forms first.
pub fn has_marks(text: &str) -> bool {
    text.nfd()
        .any(|c| tone_digit(c).is_some() || is_vowel_mark(c) || matches!(c, 'đ' | 'Đ' | '\u{00D0}'))
}

/// The words of a folded or toned key (split on spaces), for building FTS5 queries.
pub fn words(key: &str) -> impl Iterator<Item = &str> {
    key.split_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_fold(input: &str, expected: &str) {
        assert_eq!(fold(input), expected, "fold({input:?})");
    }

    #[track_caller]
    fn check_toned(input: &str, expected: &str) {
        assert_eq!(toned(input), expected, "toned({input:?})");
    }

    #[track_caller]
    fn check_has_marks(input: &str, expected: bool) {
        assert_eq!(has_marks(input), expected, "has_marks({input:?})");
    }

    #[track_caller]
    fn check_words(key: &str, expected: &[&str]) {
        let got: Vec<&str> = words(key).collect();
        assert_eq!(got, expected, "words({key:?})");
    }

    /// Every Vietnamese vowel (bare form first) with the five tones in the
    /// order huyền, sắc, hỏi, ngã, nặng.
    const TONED_VOWELS: &[(&str, [&str; 5])] = &[
        ("a", ["à", "á", "ả", "ã", "ạ"]),
        ("ă", ["ằ", "ắ", "ẳ", "ẵ", "ặ"]),
        ("â", ["ầ", "ấ", "ẩ", "ẫ", "ậ"]),
        ("e", ["è", "é", "ẻ", "ẽ", "ẹ"]),
        ("ê", ["ề", "ế", "ể", "ễ", "ệ"]),
        ("i", ["ì", "í", "ỉ", "ĩ", "ị"]),
        ("o", ["ò", "ó", "ỏ", "õ", "ọ"]),
        ("ô", ["ồ", "ố", "ổ", "ỗ", "ộ"]),
        ("ơ", ["ờ", "ớ", "ở", "ỡ", "ợ"]),
        ("u", ["ù", "ú", "ủ", "ũ", "ụ"]),
        ("ư", ["ừ", "ứ", "ử", "ữ", "ự"]),
        ("y", ["ỳ", "ý", "ỷ", "ỹ", "ỵ"]),
    ];

    /// The bare Latin letter a Vietnamese vowel folds to.
    fn bare(vowel: &str) -> &'static str {
        match vowel {
            "a" | "ă" | "â" => "a",
            "e" | "ê" => "e",
            "i" => "i",
            "o" | "ô" | "ơ" => "o",
            "u" | "ư" => "u",
            _ => "y",
        }
    }

    const DIGITS: [char; 5] = ['1', '2', '3', '4', '5'];

    #[test]
    fn examples_from_the_api() {
        check_fold("Nguyễn Du", "nguyen du");
        check_fold("Đường", "duong");
        check_fold("HOÀ", "hoa");
        check_fold("Truyện Kiều (tái bản)", "truyen kieu tai ban");
        check_toned("hòa", "hoa1");
        check_toned("hoà", "hoa1");
        check_toned("thuý", "thuy2");
        check_toned("thúy", "thuy2");
        check_toned("dương", "dương");
        check_toned("đương", "đương");
        check_toned("đường", "đương1");
    }

    #[test]
    fn every_tone_on_every_vowel_folds_to_the_bare_vowel() {
        for (vowel, tones) in TONED_VOWELS {
            let b = bare(vowel);
            check_fold(vowel, b);
            check_fold(&vowel.to_uppercase(), b);
            for t in tones {
                check_fold(t, b);
                check_fold(&t.to_uppercase(), b);
                check_fold(&t.nfd().collect::<String>(), b);
                check_fold(&t.to_uppercase().nfd().collect::<String>(), b);
            }
        }
    }

    #[test]
    fn every_tone_on_every_vowel_becomes_a_digit_in_toned() {
        for (vowel, tones) in TONED_VOWELS {
            check_toned(vowel, vowel);
            check_toned(&vowel.to_uppercase(), vowel);
            for (t, d) in tones.iter().zip(DIGITS) {
                let expected = format!("{vowel}{d}");
                check_toned(t, &expected);
                check_toned(&t.to_uppercase(), &expected);
                check_toned(&t.nfd().collect::<String>(), &expected);
                // In a word, with the tone on a vowel that is not the last letter.
                check_toned(&format!("b{t}n"), &format!("b{vowel}n{d}"));
            }
        }
    }

    #[test]
    fn has_marks_on_every_toned_and_marked_vowel() {
        for (vowel, tones) in TONED_VOWELS {
            check_has_marks(vowel, vowel.len() > 1);
            for t in tones {
                check_has_marks(t, true);
                check_has_marks(&t.to_uppercase(), true);
                check_has_marks(&t.nfd().collect::<String>(), true);
            }
        }
    }

    #[test]
    fn d_with_stroke() {
        check_fold("đ", "d");
        check_fold("Đ", "d");
        check_fold("ĐẠI HỌC", "dai hoc");
        check_fold("Đà Nẵng", "da nang");
        check_fold("\u{00D0}à Nẵng", "da nang"); // Ð look-alike
        check_toned("đ", "đ");
        check_toned("Đ", "đ");
        check_toned("Đà Nẵng", "đa1 năng4");
        check_toned("\u{00D0}à Nẵng", "đa1 năng4");
        check_toned("d", "d");
        check_has_marks("đi", true);
        check_has_marks("Đi", true);
        check_has_marks("\u{00D0}i", true);
        check_has_marks("di", false);
    }

    #[test]
    fn old_and_new_tone_placement_give_the_same_keys() {
        for (old, new, folded, tone_key) in [
            ("hòa", "hoà", "hoa", "hoa1"),
            ("hóa", "hoá", "hoa", "hoa2"),
            ("thuý", "thúy", "thuy", "thuy2"),
            ("khoẻ", "khỏe", "khoe", "khoe3"),
            ("uỷ", "ủy", "uy", "uy3"),
            ("Hòa Bình", "Hoà Bình", "hoa binh", "hoa1 binh1"),
            ("THUỶ", "THỦY", "thuy", "thuy3"),
            ("loà", "lòa", "loa", "loa1"),
            ("tuỳ", "tùy", "tuy", "tuy1"),
        ] {
            check_fold(old, folded);
            check_fold(new, folded);
            check_toned(old, tone_key);
            check_toned(new, tone_key);
        }
    }

    #[test]
    fn nfd_and_nfc_input_are_equal() {
        for s in [
            "Nguyễn Du",
            "Truyện Kiều",
            "Đường Kách Mệnh",
            "Hồ Chí Minh",
            "Tôn Nữ Thị Ninh",
            "Lược sử loài người",
            "Ứng dụng",
            "ĐỖ QUYÊN",
        ] {
            let nfd: String = s.nfd().collect();
            let nfc: String = s.nfc().collect();
            assert_ne!(nfd, nfc, "test data should differ between forms: {s:?}");
            assert_eq!(fold(&nfd), fold(&nfc), "fold {s:?}");
            assert_eq!(toned(&nfd), toned(&nfc), "toned {s:?}");
            assert_eq!(has_marks(&nfd), has_marks(&nfc), "has_marks {s:?}");
        }
    }

    #[test]
    fn odd_keyboard_sequences_are_equal_to_nfc() {
        // (odd spelling, proper NFC spelling)
        for (odd, proper) in [
            // base + tone + vowel mark (tone typed first)
            ("e\u{0301}\u{0302}", "ế"),
            ("a\u{0300}\u{0306}", "ằ"),
            ("o\u{0309}\u{0302}", "ổ"),
            ("u\u{0303}\u{031B}", "ữ"),
            ("o\u{0323}\u{031B}", "ợ"),
            ("a\u{0323}\u{0302}", "ậ"),
            // precomposed vowel + separate combining tone
            ("ê\u{0301}", "ế"),
            ("ơ\u{0300}", "ờ"),
            ("ư\u{0323}", "ự"),
            ("ă\u{0303}", "ẵ"),
            ("Ô\u{0309}", "Ổ"),
            // precomposed toned vowel + separate vowel mark
            ("é\u{0302}", "ế"),
            ("ò\u{031B}", "ờ"),
            ("ạ\u{0306}", "ặ"),
            // whole words
            ("Nguye\u{0303}\u{0302}n", "Nguyễn"),
            ("đu\u{0300}\u{031B}o\u{031B}ng", "đường"),
            ("tie\u{0301}\u{0302}ng Vie\u{0323}\u{0302}t", "tiếng Việt"),
            ("Ho\u{0300}a", "Hòa"),
            ("Hoa\u{0300}", "Hoà"),
        ] {
            assert_eq!(fold(odd), fold(proper), "fold {odd:?}");
            assert_eq!(toned(odd), toned(proper), "toned {odd:?}");
            assert_eq!(has_marks(odd), has_marks(proper), "has_marks {odd:?}");
        }
        check_toned("e\u{0301}\u{0302}", "ê2");
        check_toned("đu\u{0300}\u{031B}o\u{031B}ng", "đương1");
    }

    #[test]
    fn duong_words_are_distinct_toned_equal_folded() {
        let words = ["dương", "đương", "đường", "Dường", "dưỡng", "dưởng"];
        for w in words {
            check_fold(w, "duong");
        }
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                if a.to_lowercase() != b.to_lowercase() {
                    assert_ne!(toned(a), toned(b), "{a:?} vs {b:?}");
                }
            }
        }
        check_toned("dưỡng", "dương4");
        check_toned("dưởng", "dương3");
        check_toned("Dường", "dương1");
    }

    #[test]
    fn meaning_changing_tones_stay_apart_in_toned() {
        check_toned("thể", "thê3");
        check_toned("thế", "thê2");
        check_toned("the", "the");
        check_fold("thể", "the");
        check_fold("thế", "the");
        check_toned("ma má mà mả mã mạ", "ma ma2 ma1 ma3 ma4 ma5");
        check_fold("ma má mà mả mã mạ", "ma ma ma ma ma ma");
    }

    #[test]
    fn punctuation_and_whitespace() {
        check_fold("", "");
        check_fold("   ", "");
        check_fold("\t\n\r", "");
        check_fold("!?.,;:", "");
        check_fold("  Nguyễn   Du  ", "nguyen du");
        check_fold("Nguyễn\tDu\nTruyện", "nguyen du truyen");
        check_fold("Truyện Kiều (tái bản)", "truyen kieu tai ban");
        check_fold("Truyện Kiều: tái bản, lần 2.", "truyen kieu tai ban lan 2");
        check_fold("“Dế Mèn phiêu lưu ký”", "de men phieu luu ky");
        check_fold("Tô Hoài — Dế Mèn", "to hoai de men");
        check_fold("Hà Nội-Sài Gòn", "ha noi sai gon");
        check_fold("a/b\\c|d", "a b c d");
        check_fold("x\u{00A0}y\u{3000}z", "x y z"); // no-break and ideographic spaces
        check_fold("x\u{200B}y", "x y"); // zero-width space breaks words
        check_fold("Nguy\u{00AD}ễn", "nguyen"); // soft hyphen does not
        check_fold("\u{FEFF}Nguyễn", "nguyen");
        check_fold("O'Brien", "o brien");
        check_fold("ISBN 978-604-1-00000-0", "isbn 978 604 1 00000 0");
        check_toned("", "");
        check_toned("  ", "");
        check_toned("...", "");
        check_toned("  Hòa,   Bình!  ", "hoa1 binh1");
        check_toned("Truyện Kiều (tái bản)", "truyên5 kiêu1 tai2 ban3");
        check_toned("Hà Nội-Sài Gòn", "ha1 nôi5 sai1 gon1");
        check_toned("Nguy\u{00AD}ễn", "nguyên4");
    }

    #[test]
    fn digits_are_kept() {
        check_fold("lớp 3", "lop 3");
        check_fold("Toán 12", "toan 12");
        check_fold("2024", "2024");
        check_fold("Tập 1/2", "tap 1 2");
        check_fold("٣ ۳", "٣ ۳"); // other digit scripts kept as-is
        check_toned("lớp 3", "lơp2 3");
        check_toned("Toán 12", "toan2 12");
        check_toned("2024", "2024");
    }

    #[test]
    fn other_latin_letters_fold_to_base() {
        check_fold("café", "cafe");
        check_fold("Müller", "muller");
        check_fold("España", "espana");
        check_fold("Garçon", "garcon");
        check_fold("Ångström", "angstrom");
        check_fold("Øresund", "oresund");
        check_fold("Łódź", "lodz");
        check_fold("naïve", "naive");
        // In toned, a tilde on a non-vowel is not a tone: ñ stays ñ.
        check_toned("España", "españa");
        check_toned("Müller", "müller");
        check_toned("café", "cafe2");
    }

    #[test]
    fn other_scripts_are_lowercased_and_kept() {
        check_fold("Москва", "москва");
        check_fold("ЁЛКА", "елка"); // Ё = Е + diaeresis: the mark goes
        check_fold("東京 大学", "東京 大学");
        check_fold("한국어", "한국어");
        check_fold("ΟΔΟΣ", "οδος");
        check_toned("Москва", "москва");
        check_toned("ЁЛКА", "ёлка");
        check_toned("東京", "東京");
        check_toned("한국어", "한국어");
        check_toned("ΟΔΟΣ", "οδος");
        check_has_marks("Москва", false);
        check_has_marks("東京", false);
    }

    #[test]
    fn has_marks_cases() {
        check_has_marks("", false);
        check_has_marks("nguyen du", false);
        check_has_marks("NGUYEN DU 123", false);
        check_has_marks("Nguyễn Du", true);
        check_has_marks("ăn", true); // vowel mark only
        check_has_marks("ơn", true);
        check_has_marks("hoa\u{0300}", true); // decomposed tone
        check_has_marks("u\u{031B}", true); // decomposed horn
        check_has_marks("café", true);
        check_has_marks("Müller", false); // diaeresis is not Vietnamese
    }

    #[test]
    fn words_of_keys() {
        check_words("", &[]);
        check_words("nguyen du", &["nguyen", "du"]);
        check_words("hoa1 binh1", &["hoa1", "binh1"]);
        check_words("  a  b ", &["a", "b"]);
        check_words(
            &fold("Truyện Kiều (tái bản)"),
            &["truyen", "kieu", "tai", "ban"],
        );
        check_words(&toned("Đường Kách Mệnh"), &["đương1", "kach2", "mênh5"]);
    }

    #[test]
    fn only_combining_marks_do_not_panic() {
        let marks = "\u{0300}\u{0301}\u{0309}\u{0303}\u{0323}\u{0306}\u{0302}\u{031B}\u{0308}";
        check_fold(marks, "");
        check_toned(marks, "");
        check_has_marks(marks, true);
        check_fold(" \u{0301} ", "");
        check_toned(" \u{0301} ", "");
        check_toned("a \u{0301}b", "a b"); // stray mark after a space is dropped
        check_toned("3\u{0301}", "3"); // mark on a digit is dropped
        check_fold("\u{0301}a", "a");
        let many = "\u{0301}".repeat(10_000);
        check_fold(&many, "");
        check_toned(&many, "");
    }

    #[test]
    fn long_input_finishes() {
        let long = "Nguyễn Du — Truyện Kiều; ".repeat(400); // 10,000 chars
        assert_eq!(long.chars().count(), 10_000);
        let f = fold(&long);
        assert_eq!(words(&f).count(), 1600);
        let t = toned(&long);
        assert_eq!(words(&t).count(), 1600);
        assert!(t.starts_with("nguyên4 du truyên5 kiêu1 nguyên4"));
        let one_word = "ệ".repeat(10_000);
        assert_eq!(fold(&one_word), "e".repeat(10_000));
        assert_eq!(toned(&one_word), format!("{}5", "ê".repeat(10_000)));
    }

    #[test]
    fn several_tones_in_one_word_keep_the_first() {
        // Words run together without a space: one word, one tone digit.
        check_toned("hòabình", "hoabinh1");
        check_fold("hòabình", "hoabinh");
    }
}
