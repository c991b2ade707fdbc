//! Vietnamese collation for lists of people: a sort key that orders names the way a
//! Vietnamese librarian looks them up.
//!
//! A Vietnamese name is found by its given name, the LAST word ("Nguyễn Văn An" is filed
//! under "An"), then by the rest in order. Letters follow the Vietnamese alphabet
//! (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y, with f j w z at their Latin
//! places for foreign names), and within one word the tone decides last, in the dictionary
//! order ngang, huyền, hỏi, ngã, sắc, nặng: "ma mà mả mã má mạ mác".
//!
//! The key is a plain string compared byte by byte (SQLite's BINARY collation), so a query
//! table can `ORDER BY` it. What this module does not do: it does not fold spelling variants
//! (old and new tone placement give the same key because the tone is per word, but "y"/"i"
//! spellings stay different) and it knows no other language's rules.

use unicode_normalization::UnicodeNormalization;

/// The alphabet in order; the key gives each letter one character from `LETTER_BASE` on.
const ALPHABET: [char; 33] = [
    'a', 'ă', 'â', 'b', 'c', 'd', 'đ', 'e', 'ê', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'ô', 'ơ', 'p', 'q', 'r', 's', 't', 'u', 'ư', 'v', 'w', 'x', 'y', 'z',
];
const LETTER_BASE: u32 = 0x41;
/// Ends a word's letters, before its tone: lower than any letter, so "An" sorts before "Anh".
const END_OF_LETTERS: char = '!';
/// Between words: lower than everything else, so "An" sorts before "An Lê".
const BETWEEN_WORDS: char = ' ';

/// The tone of a combining mark, in dictionary order (ngang = 0 has no mark).
fn tone_rank(mark: char) -> Option<u8> {
    match mark {
        '\u{0300}' => Some(1), // huyền
        '\u{0309}' => Some(2), // hỏi
        '\u{0303}' => Some(3), // ngã
        '\u{0301}' => Some(4), // sắc
        '\u{0323}' => Some(5), // nặng
        _ => None,
    }
}

/// One word's key: its letters, the end mark, then its tone digit.
fn word_key(word: &str, out: &mut String) {
    let mut tone = 0u8;
    let mut letters: Vec<char> = Vec::new();
    for c in word.nfd() {
        if let Some(rank) = tone_rank(c) {
            tone = tone.max(rank);
            continue;
        }
        // Vowel-quality marks change the letter before them: a+breve = ă, o+horn = ơ, …
        let modified = match (letters.last(), c) {
            (Some('a'), '\u{0306}') => Some('ă'),
            (Some('a'), '\u{0302}') => Some('â'),
            (Some('e'), '\u{0302}') => Some('ê'),
            (Some('o'), '\u{0302}') => Some('ô'),
            (Some('o'), '\u{031B}') => Some('ơ'),
            (Some('u'), '\u{031B}') => Some('ư'),
            _ => None,
        };
        if let Some(letter) = modified {
            letters.pop();
            letters.push(letter);
        } else if unicode_normalization::char::is_combining_mark(c) {
            // Other marks (diaeresis, cedilla) do not change the order.
        } else {
            letters.push(match c {
                'ð' => 'đ',
                other => other,
            });
        }
    }
    for letter in letters {
        match ALPHABET.iter().position(|a| *a == letter) {
            Some(n) => out.push(char::from_u32(LETTER_BASE + n as u32).unwrap_or(letter)),
            // Digits keep their place before letters; other scripts sort after, by code point.
            None => out.push(letter),
        }
    }
    out.push(END_OF_LETTERS);
    out.push(char::from(b'0' + tone));
}

/// The sort key of a person's name: given name (last word) first, then the other words.
pub fn name_key(name: &str) -> String {
    let lower: String = name.nfc().collect::<String>().to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && !unicode_normalization::char::is_combining_mark(c))
        .filter(|w| !w.is_empty())
        .collect();
    let mut key = String::with_capacity(name.len() * 2);
    let ordered = words
        .last()
        .into_iter()
        .chain(words.iter().take(words.len().saturating_sub(1)));
    for (n, word) in ordered.enumerate() {
        if n > 0 {
            key.push(BETWEEN_WORDS);
        }
        word_key(word, &mut key);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_order(names: &[&str]) {
        let mut sorted = names.to_vec();
        sorted.sort_by_key(|n| name_key(n));
        assert_eq!(
            sorted,
            names,
            "keys: {:?}",
            names.iter().map(|n| name_key(n)).collect::<Vec<_>>()
        );
        // And from reversed input, to be sure the order does not come from the input.
        let mut reversed: Vec<&str> = names.iter().rev().copied().collect();
        reversed.sort_by_key(|n| name_key(n));
        assert_eq!(reversed, names);
    }

    #[test]
    fn names_are_filed_under_the_given_name_then_the_rest() {
        check_order(&[
            "Nguyễn Văn An",
            "Trần Thị Anh",
            "Lê Bình",
            "Phạm Thị Chi",
            "Hoàng Dũng",
            "Võ Đức",
            "Ngô Em",
        ]);
        // Same given name: the family name decides.
        check_order(&["Lê An", "Nguyễn An", "Nguyễn Văn An", "Trần An"]);
    }

    #[test]
    fn the_vietnamese_alphabet_not_the_code_points() {
        // a ă â, d đ, e ê, o ô ơ, u ư: each marked letter is its own letter after its base.
        check_order(&["Lan", "Lăng", "Lâm", "Lê"]);
        check_order(&["Dung", "Duy", "Đào", "Đông", "Em"]);
        check_order(&["Hoa", "Hồ", "Hơn", "Hùng", "Hưng"]);
        // đ after all of d, not next to it in Unicode nor folded into d.
        check_order(&["Dzung", "Đa"]);
    }

    #[test]
    fn tones_decide_last_in_dictionary_order() {
        check_order(&["Ma", "Mà", "Mả", "Mã", "Má", "Mạ", "Mác", "Mạc", "Mai"]);
        // A word's tone does not outrank a later letter: "Án" before "Anh".
        check_order(&["An", "Án", "Anh", "Ánh"]);
        // Old and new tone placement give the same key.
        assert_eq!(name_key("Hòa"), name_key("Hoà"));
        assert_eq!(name_key("Nguyễn Văn An"), name_key("  nguyễn   văn an "));
        assert_eq!(name_key("Nguye\u{302}\u{303}n An"), name_key("Nguyễn An"));
    }

    #[test]
    fn a_shorter_name_comes_first_and_odd_input_is_harmless() {
        check_order(&["An", "Lê An", "Anh"]);
        assert_eq!(name_key(""), "");
        assert!(!name_key("Ñandú 李").is_empty());
    }
}
