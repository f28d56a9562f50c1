//! Text normalisation and tokenisation: undoing what spammers do to dodge word lists, so that
//! `FR33`, `ｆｒｅｅ`, `f r e e`, `frееее` (with Cyrillic `е`) and `free` all reach the model as
//! the same word, and so that Arabic-script text is compared letter by letter rather than
//! by the codepoints a keyboard layout happened to produce.
//!
//! Per character (after Unicode NFKC, which folds full-width, mathematical and presentation
//! forms, Arabic presentation forms included):
//! - zero-width characters, soft hyphens, tatweel (`ـ`) and combining marks (accents, Arabic
//!   harakat, "Zalgo" stacks) are dropped, and accented Latin letters lose their accent;
//! - the zero-width non-joiner survives *between two Arabic-script letters*: in Persian it
//!   is spelling (`می‌خواهم`), not obfuscation; everywhere else it is dropped;
//! - Arabic and Persian letter variants unify (`ي`/`ى` → `ی`, `ك` → `ک`), and Arabic-Indic
//!   and Persian digits fold to ASCII;
//! - letters are lower-cased, and a letter repeated more than twice keeps two (`freeeee`).
//!
//! Per token: in a token mixing ASCII letters with digits or with Cyrillic/Greek look-alike
//! letters, the digits (`v1agra`) and look-alikes (`раураl`) become the letters they imitate.
//! Across tokens: three or more single letters in a row (`f r e e`, `s.u.b`) are joined.
//!
//! Tokens are runs of letters and digits. Scripts written without spaces between words
//! (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar) are marked [`Token::spaceless`] so the
//! feature extractor cuts them into character n-grams instead of one sentence-long "word".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::decompose_canonical;

/// A normalised token: a span of [`Tokens::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    /// From a script written without spaces between words.
    pub spaceless: bool,
}

/// The normalised tokens of some text. Tokens sit in `text` in order, separated by exactly
/// one space, so any run of consecutive tokens is itself a span of `text` (which is how word
/// pairs are named without allocating).
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    pub text: String,
    pub tokens: Vec<Token>,
}

impl Tokens {
    pub fn get(&self, token: Token) -> &str {
        &self.text[token.start..token.end]
    }
}

/// Builds [`Tokens`] from pieces of prose fed one at a time (the parts of a comment between
/// its links), then joins spaced-out letters in [`TokenBuilder::finish`].
#[derive(Default)]
pub struct TokenBuilder {
    /// Normalised tokens, each followed by one space while building.
    raw: Tokens,
    /// Characters pending in the current token, normalised.
    current: String,
    current_spaceless: bool,
    /// A zero-width non-joiner seen after an Arabic-script letter, kept only if another
    /// such letter follows.
    pending_joiner: bool,
    /// The last character of `current` and how many times in a row it occurred.
    last: Option<char>,
    repeats: u8,
    /// How many of the last tokens are single letters, and whether three in a row ever
    /// were: only then has [`TokenBuilder::finish`] spaced-out letters to join.
    single_letters: usize,
    spaced_letters: bool,
}

/// A run of [word bytes](is_word_byte) of ASCII prose for
/// [`TokenBuilder::push_ascii_word`], with what a pass over it found. The feature extractor
/// counts these while it finds the run; [`AsciiWord::of`] looks for itself.
#[derive(Clone, Copy)]
pub struct AsciiWord<'w> {
    pub text: &'w str,
    pub capitals: bool,
    pub digits: bool,
    pub apostrophes: bool,
}

impl<'w> AsciiWord<'w> {
    /// A run of word bytes, looked over.
    pub fn of(text: &'w str) -> AsciiWord<'w> {
        let has = |class: fn(&u8) -> bool| text.as_bytes().iter().any(class);
        AsciiWord {
            text,
            capitals: has(u8::is_ascii_uppercase),
            digits: has(u8::is_ascii_digit),
            apostrophes: has(|&b| b == b'\''),
        }
    }
}

/// How far a [`TokenBuilder`] had got, to go back to.
pub struct TokensMark {
    text: usize,
    tokens: usize,
    single_letters: usize,
    spaced_letters: bool,
}

impl TokenBuilder {
    /// A builder sized for about `bytes` of prose, so that building rarely reallocates,
    /// with `spare` bytes more in the text for the caller to append to it afterwards.
    pub fn with_capacity(bytes: usize, spare: usize) -> TokenBuilder {
        TokenBuilder {
            raw: Tokens {
                text: String::with_capacity(bytes + 1 + spare),
                tokens: Vec::with_capacity(bytes / 4 + 1),
            },
            // `current` is only used for non-ASCII prose; it allocates when first needed.
            ..TokenBuilder::default()
        }
    }

    /// Normalises and tokenises one piece of prose. Tokens never span two calls.
    pub fn push(&mut self, prose: &str) {
        if prose.is_ascii() {
            self.push_ascii(prose);
            return;
        }
        for c in prose.nfkc() {
            self.fold(c);
        }
        self.end_token();
    }

    /// [`TokenBuilder::push`] for ASCII prose, most of what comments are made of. It gives
    /// the same tokens as the general path ([`TokenBuilder::fold`], a unit test checks it)
    /// but works on bytes and writes each token straight into the output: NFKC is the
    /// identity on ASCII, no look-alike or mark can occur, and a token ends with its piece.
    /// callgrind counts a third fewer instructions for tokenising the corpora than through
    /// the general path.
    fn push_ascii(&mut self, prose: &str) {
        for word in prose.split(|c: char| !c.is_ascii() || !is_word_byte(c as u8)) {
            self.push_ascii_word(AsciiWord::of(word));
        }
    }

    /// Reads a whole run of [word bytes](is_word_byte) of ASCII prose as one token, for a
    /// caller that finds the runs anyway (the feature extractor's one pass). Letters are
    /// lower-cased, a letter's third repeat in a row is dropped, apostrophes are skipped
    /// (`don't` is one word), and l33t digits become the letters they stand for (the same
    /// rule as for any other token; both sides are one byte). A run of apostrophes alone
    /// is no token.
    ///
    /// A word without an apostrophe or a byte three times in a row, most of them, is
    /// copied whole and lower-cased in place if it has capitals; only the others are
    /// written byte by byte, and only words with digits are read for l33t. Reading words
    /// this way rather than a byte at a time took 5% fewer instructions a classification
    /// (callgrind over the corpora).
    pub fn push_ascii_word(&mut self, word: AsciiWord) {
        debug_assert!(word.text.bytes().all(is_word_byte) && self.current.is_empty());
        let start = self.raw.text.len();
        if word.text.is_empty() {
            return;
        }
        if word.apostrophes || has_a_triple(word.text.as_bytes()) {
            let (mut last, mut repeats) = (None, 0u8);
            for b in word
                .text
                .bytes()
                .filter(|&b| b != b'\'')
                .map(|b| b.to_ascii_lowercase())
            {
                if last == Some(b) {
                    if repeats >= 2 && b.is_ascii_alphabetic() {
                        continue;
                    }
                    repeats = repeats.saturating_add(1);
                } else {
                    (last, repeats) = (Some(b), 1);
                }
                self.raw.text.push(char::from(b));
            }
            if self.raw.text.len() == start {
                return;
            }
        } else {
            self.raw.text.push_str(word.text);
            if word.capitals {
                self.raw.text[start..].make_ascii_lowercase();
            }
        }
        if word.digits
            && let Some(mapped) = unleet(&self.raw.text[start..])
        {
            self.raw.text.truncate(start);
            self.raw.text.push_str(&mapped);
        }
        // An ASCII token is one letter only if it is one byte long, so it need not be decoded
        // as `is_single_letter` does. Settling that here, with `record` inlined, took 3.3%
        // fewer instructions a classification (cachegrind over the corpora).
        let end = self.raw.text.len();
        let single = end - start == 1 && self.raw.text.as_bytes()[start].is_ascii_alphabetic();
        self.record(
            Token {
                start,
                end,
                spaceless: false,
            },
            single,
        );
    }

    /// Where the tokens are now, for [`TokenBuilder::back_to`].
    pub fn mark(&self) -> TokensMark {
        TokensMark {
            text: self.raw.text.len(),
            tokens: self.raw.tokens.len(),
            single_letters: self.single_letters,
            spaced_letters: self.spaced_letters,
        }
    }

    /// Forgets the tokens pushed since `mark` (taken between pieces): what was read as
    /// prose turned out to be a link.
    pub fn back_to(&mut self, mark: TokensMark) {
        self.raw.text.truncate(mark.text);
        self.raw.tokens.truncate(mark.tokens);
        self.single_letters = mark.single_letters;
        self.spaced_letters = mark.spaced_letters;
    }

    /// Records a token written at the end of the text, and the separator after it; `single`
    /// says whether it is one letter ([`is_single_letter`]).
    #[inline]
    fn record(&mut self, token: Token, single: bool) {
        self.single_letters = if single { self.single_letters + 1 } else { 0 };
        self.spaced_letters |= self.single_letters >= 3;
        self.raw.tokens.push(token);
        self.raw.text.push(' ');
    }

    /// The finished tokens.
    pub fn finish(mut self) -> Tokens {
        self.end_token();
        if self.spaced_letters {
            return join_spaced_letters(&self.raw);
        }
        // Nothing to join: drop the trailing separator and keep the buffer.
        let end = self.raw.tokens.last().map_or(0, |t| t.end);
        self.raw.text.truncate(end);
        self.raw
    }

    fn fold(&mut self, c: char) {
        if c.is_ascii() {
            // The common case, without the Unicode tables.
            match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' => {
                    if self.current_spaceless && !self.current.is_empty() {
                        self.end_token();
                    }
                    self.current_spaceless = false;
                    self.pending_joiner = false;
                    self.push_collapsing(c.to_ascii_lowercase());
                }
                '\'' => {}
                _ => self.end_token(),
            }
            return;
        }
        match c {
            // Zero-width space, joiner, word joiner, invisible operators, BOM, soft hyphen,
            // Mongolian vowel separator, tatweel: invisible padding between letters.
            '\u{200B}'
            | '\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
            | '\u{00AD}'
            | '\u{180E}'
            | '\u{0640}' => {}
            // Apostrophes are inside words: `don't` is one word, not `don` and `t`.
            '\'' | '\u{2019}' => {}
            '\u{200C}' => {
                self.pending_joiner = self.last.is_some_and(is_arabic);
            }
            _ if is_dropped_mark(c) => {}
            _ => {
                let c = fold_letter(c);
                if c.is_alphanumeric() {
                    let spaceless = is_spaceless(c);
                    if spaceless != self.current_spaceless && !self.current.is_empty() {
                        self.end_token();
                    }
                    self.current_spaceless = spaceless;
                    if std::mem::take(&mut self.pending_joiner) && is_arabic(c) {
                        self.current.push('\u{200C}');
                        self.last = Some('\u{200C}');
                        self.repeats = 1;
                    }
                    for lower in c.to_lowercase() {
                        self.push_collapsing(lower);
                    }
                } else {
                    self.end_token();
                }
            }
        }
    }

    /// Appends a character unless it would be the third identical letter in a row. Digits
    /// are exempt: `100000` is a different amount from `100`.
    fn push_collapsing(&mut self, c: char) {
        if self.last == Some(c) {
            if self.repeats >= 2 && c.is_alphabetic() {
                return;
            }
            self.repeats = self.repeats.saturating_add(1);
        } else {
            self.last = Some(c);
            self.repeats = 1;
        }
        self.current.push(c);
    }

    fn end_token(&mut self) {
        self.pending_joiner = false;
        if self.current.is_empty() {
            return;
        }
        let start = self.raw.text.len();
        deobfuscate_into(&self.current, &mut self.raw.text);
        let single = is_single_letter(&self.raw.text[start..], self.current_spaceless);
        self.record(
            Token {
                start,
                end: self.raw.text.len(),
                spaceless: self.current_spaceless,
            },
            single,
        );
        self.current.clear();
        self.last = None;
        self.repeats = 0;
    }
}

/// Writes `token` to `out`, mapping l33t digits and look-alike letters to the Latin letters
/// they imitate when the token mixes them with ASCII letters. A token without ASCII letters
/// (`2024`, `сосна`) is left as it is, so real numbers and real Cyrillic words survive.
fn deobfuscate_into(token: &str, out: &mut String) {
    if token.bytes().all(|b| b.is_ascii_lowercase()) {
        out.push_str(token);
        return;
    }
    let letters = token.chars().filter(char::is_ascii_alphabetic).count();
    let lookalikes = token.chars().any(|c| lookalike(c).is_some());
    let unleeted = unleet(token);
    if unleeted.is_none() && !(lookalikes && letters > 0) {
        out.push_str(token);
        return;
    }
    for c in unleeted.as_deref().unwrap_or(token).chars() {
        out.push(lookalike(c).unwrap_or(c));
    }
}

/// The token with its l33t digits mapped back to letters, or `None` when no digit stands for
/// one. Only a word that starts with an ASCII letter and has at least as many ASCII letters
/// as digits can be l33t, and each run of digits is judged on its own: it stands for
/// letters when every digit of it has a letter reading and a letter follows it (`v1agra`,
/// `c0m`, `h4x0r`), or when it ends the word as a doubled `0` or `3` (`fr33`, `xx00`). Any
/// other run is a number and stays: `win10`, `win11`, `mp3`, `euro2004`, the year of
/// `v1agra2024`, the `19` of `covid19vaccine`; so do `4u`, `b4`, `10am` and `h264`.
fn unleet(token: &str) -> Option<String> {
    if !token.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let letters = token.chars().filter(char::is_ascii_alphabetic).count();
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if digits == 0 || letters < 2 || letters < digits {
        return None;
    }
    let chars: Vec<char> = token.chars().collect();
    let mut out = String::with_capacity(token.len());
    let (mut folded, mut i) = (false, 0);
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        let run = &chars[start..i];
        let before_a_letter = chars.get(i).is_some_and(|c| c.is_alphabetic());
        let doubled_at_the_end =
            i == chars.len() && run.len() == 2 && run[0] == run[1] && matches!(run[0], '0' | '3');
        let fold = (before_a_letter || doubled_at_the_end)
            && run.iter().all(|&c| leet_letter(c).is_some());
        folded |= fold;
        out.extend(
            run.iter()
                .map(|&c| leet_letter(c).filter(|_| fold).unwrap_or(c)),
        );
    }
    folded.then_some(out)
}

fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        _ => return None,
    })
}

/// Lower-case Cyrillic and Greek letters drawn like a Latin letter.
fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' => 'e',
        'һ' => 'h',
        'і' | 'ι' => 'i',
        'ј' => 'j',
        'κ' => 'k',
        'ո' => 'n',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'ԝ' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        _ => return None,
    })
}

/// Three or more single-letter tokens in a row become one token: `f r e e` → `free`.
/// Spaceless scripts are exempt, since one character there is an ordinary token.
fn join_spaced_letters(raw: &Tokens) -> Tokens {
    let single = |t: &Token| is_single_letter(raw.get(*t), t.spaceless);
    let mut out = Tokens {
        text: String::with_capacity(raw.text.len()),
        tokens: Vec::with_capacity(raw.tokens.len()),
    };
    let mut i = 0;
    while i < raw.tokens.len() {
        let run = raw.tokens[i..].iter().take_while(|t| single(t)).count();
        let take = if run >= 3 { run } else { 1 };
        if !out.text.is_empty() {
            out.text.push(' ');
        }
        let start = out.text.len();
        for t in &raw.tokens[i..i + take] {
            out.text.push_str(raw.get(*t));
        }
        out.tokens.push(Token {
            start,
            end: out.text.len(),
            spaceless: raw.tokens[i].spaceless,
        });
        i += take;
    }
    out
}

/// Whether an ASCII byte belongs in a word: a letter, a digit, or an apostrophe, which
/// words keep inside them and drop. Any other byte ends the word.
pub const fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'\''
}

/// Whether a run of word bytes has one byte three times in a row, whatever its case: a
/// letter to collapse (or digits, which stay).
fn has_a_triple(word: &[u8]) -> bool {
    let (mut last, mut run) = (0, 0);
    for &b in word {
        // Folds ASCII letters' case and leaves digits and the apostrophe as they are.
        let b = b | 0x20;
        run = if b == last { run + 1 } else { 1 };
        if run == 3 {
            return true;
        }
        last = b;
    }
    false
}

/// Whether a token is one letter, of a script written with spaces: what `f r e e` is made
/// of. Most tokens are settled by their length: no character is longer than four bytes, and
/// a one-byte token is an ASCII letter or digit.
fn is_single_letter(token: &str, spaceless: bool) -> bool {
    match token.len() {
        1 => token.as_bytes()[0].is_ascii_alphabetic(),
        2..=4 => {
            let mut chars = token.chars();
            !spaceless && chars.next().is_some_and(char::is_alphabetic) && chars.next().is_none()
        }
        _ => false,
    }
}

/// Letter-level folding: accented Latin letters to their base letter, Arabic variants to
/// the Persian forms, Arabic-Indic and Persian digits to ASCII.
fn fold_letter(c: char) -> char {
    match c {
        'ي' | 'ى' => 'ی',
        'ك' => 'ک',
        '٠'..='٩' => digit(c as u32 - '٠' as u32),
        '۰'..='۹' => digit(c as u32 - '۰' as u32),
        'À'..='ɏ' | 'Ḁ'..='ỿ' => {
            let mut base = None;
            decompose_canonical(c, |d| {
                base.get_or_insert(d);
            });
            base.filter(char::is_ascii_alphabetic).unwrap_or(c)
        }
        _ => c,
    }
}

fn digit(value: u32) -> char {
    char::from_digit(value, 10).expect("a digit's offset is below 10")
}

/// Combining marks that decorate a letter without changing which word it spells: Latin
/// diacritics, Cyrillic and Hebrew marks, Arabic harakat and Quranic annotation signs, and
/// the combining blocks "Zalgo" text stacks. Indic vowel signs are *not* here: they are
/// letters of their words.
fn is_dropped_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05C7}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06ED}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}')
}

/// Scripts written without spaces between words.
fn is_spaceless(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'     // Thai, Lao
        | '\u{1000}'..='\u{109F}'   // Myanmar
        | '\u{1780}'..='\u{17FF}'   // Khmer
        | '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}') // CJK extensions B–F, compatibility supplement
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn words(pieces: &[&str]) -> Vec<String> {
        let mut builder = TokenBuilder::default();
        for piece in pieces {
            builder.push(piece);
        }
        let tokens = builder.finish();
        tokens
            .tokens
            .iter()
            .map(|t| tokens.get(*t).to_string())
            .collect()
    }

    #[test]
    fn obfuscated_spellings_fold_to_the_plain_word() {
        for spelling in [
            "free",
            "FREE",
            "Fr33",
            "ｆｒｅｅ",
            "𝐟𝐫𝐞𝐞",
            "frееее", // Cyrillic е
            "f\u{200B}r\u{200D}e\u{FEFF}e",
            "f\u{0336}r\u{0336}e\u{0336}e\u{0336}",
            "fréé",
            "f r e e",
            "f.r.e.e",
            "F-R-E-E",
        ] {
            assert_eq!(words(&[spelling]), ["free"], "{spelling:?}");
        }
        assert_eq!(words(&["v1agra", "раураl"]), ["viagra", "paypal"]);
        assert_eq!(
            words(&["fr33 h0t c00l h4x0r xx00 v1agra2024"]),
            ["free", "hot", "cool", "haxor", "xxoo", "viagra2024"]
        );
    }

    #[test]
    fn real_numbers_words_and_short_letters_survive() {
        assert_eq!(
            words(&["Call 09061701461 now, 2 of 4u: 10am £1000 h264 сосна"]),
            [
                "call",
                "09061701461",
                "now",
                "2",
                "of",
                "4u",
                "10am",
                "1000",
                "h264",
                "сосна"
            ]
        );
        // A word that ends in a number names a version, a year or a model, not l33t.
        assert_eq!(
            words(&["win10 win11 covid19 covid19vaccine mp3 euro2004 windows7 i18n"]),
            [
                "win10",
                "win11",
                "covid19",
                "covid19vaccine",
                "mp3",
                "euro2004",
                "windows7",
                "i18n"
            ]
        );
        // Two single letters are not spaced-out obfuscation.
        assert_eq!(words(&["a b test"]), ["a", "b", "test"]);
        assert_eq!(words(&["cool", "oooo"]), ["cool", "oo"]);
    }

    #[test]
    fn persian_and_arabic_letters_unify() {
        // Arabic yeh and kaf vs Persian yeh and keheh; tatweel, harakat and Persian digits.
        assert_eq!(words(&["كتاب علي"]), words(&["کتاب علی"]));
        assert_eq!(words(&["كـــتاب"]), ["کتاب"]);
        assert_eq!(words(&["کِتَابٌ"]), ["کتاب"]);
        assert_eq!(words(&["۱۲۳ ١٢٣"]), ["123", "123"]);
        // Arabic presentation forms (as some keyboards and PDFs produce) fold under NFKC.
        assert_eq!(words(&["\u{FEA9}\u{FEAE}\u{FEB3}"]), words(&["درس"]));
    }

    #[test]
    fn persian_zero_width_non_joiner_is_kept_inside_words_only() {
        let mi_khaham = "می\u{200C}خواهم";
        assert_eq!(words(&[mi_khaham]), [mi_khaham]);
        // Between Latin letters, or trailing, it is an obfuscation and goes.
        assert_eq!(words(&["fr\u{200C}ee"]), ["free"]);
        assert_eq!(words(&["کتاب\u{200C} x"]), ["کتاب", "x"]);
    }

    #[test]
    fn spaceless_scripts_are_marked() {
        let mut builder = TokenBuilder::default();
        builder.push("日本語のテキストabc สวัสดีครับ");
        let tokens = builder.finish();
        let marked: Vec<(&str, bool)> = tokens
            .tokens
            .iter()
            .map(|t| (tokens.get(*t), t.spaceless))
            .collect();
        assert_eq!(
            marked,
            [
                ("日本語のテキスト", true),
                ("abc", false),
                ("สวัสดีครับ", true)
            ]
        );
    }

    /// The general path, character by character, as [`TokenBuilder::push`] ran before the
    /// ASCII fast path.
    fn tokens_by_folding(pieces: &[&str]) -> Tokens {
        let mut builder = TokenBuilder::default();
        for piece in pieces {
            for c in piece.nfkc() {
                builder.fold(c);
            }
            builder.end_token();
        }
        builder.finish()
    }

    proptest! {
        #[test]
        fn ascii_fast_path_tokenises_like_the_general_path(
            pieces in proptest::collection::vec("[a-zA-Z0-9 '!.,$@-]{0,40}|(aa|AAA|0|1|3|4|5|7|[a-z]){0,30}", 0..5)
        ) {
            let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
            let mut builder = TokenBuilder::default();
            for piece in &pieces {
                builder.push(piece);
            }
            let fast = builder.finish();
            let general = tokens_by_folding(&pieces);
            prop_assert_eq!(fast.text, general.text);
            prop_assert_eq!(fast.tokens, general.tokens);
        }

        #[test]
        fn tokens_are_nonempty_spans_separated_by_one_space(pieces in proptest::collection::vec("\\PC{0,40}", 0..5)) {
            let mut builder = TokenBuilder::default();
            for p in &pieces {
                builder.push(p);
            }
            let tokens = builder.finish();
            for pair in tokens.tokens.windows(2) {
                prop_assert_eq!(pair[1].start, pair[0].end + 1);
            }
            for t in &tokens.tokens {
                let word = tokens.get(*t);
                prop_assert!(!word.is_empty());
                prop_assert!(!word.contains(' '));
            }
        }
    }
}
