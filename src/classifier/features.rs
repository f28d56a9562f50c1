//! Feature extraction: turns a [`Comment`] into hashed, counted, still-readable features.
//!
//! This is the single place that decides what the classifier sees, so training and serving
//! cannot drift apart: both call [`extract`]. Every feature is a prefixed key (`w:` word,
//! `d:` domain of a link in the content, `au:` author URL domain, `ae:` author e-mail domain)
//! that is hashed into a fixed space of [`N_FEATURES`] buckets with 64-bit FNV-1a. FNV is used
//! because it is stable across processes, platforms and Rust releases; std's `RandomState`
//! would give every process a different model. The readable key is kept next to its bucket so
//! explanations can name it.
//!
//! Any change to what [`extract`] produces (new kinds, bigrams, different normalisation) must
//! bump [`FEATURE_SCHEME`], so that models trained under the old scheme are refused on load
//! instead of silently mis-scoring.

use std::collections::BTreeMap;
use std::hash::Hasher;

use fnv::FnvHasher;
use url::Url;

use crate::comment::Comment;

/// Number of hash bits; the feature space has `2^HASH_BITS` buckets.
pub const HASH_BITS: u32 = 18;
/// Size of the hashed feature space. 2^18 keeps collisions rare for a vocabulary of tens of
/// thousands of tokens while dense per-class log-probability tables stay at 2 MiB each.
pub const N_FEATURES: usize = 1 << HASH_BITS;
/// Version of the extraction rules, stored in every model file. Bump on any change to
/// [`extract`]'s output.
pub const FEATURE_SCHEME: u32 = 2;

/// What [`FEATURE_SCHEME`] extracts, for model cards. Kept next to the code it describes so
/// the two change together.
pub const SCHEME_DESCRIPTION: &str = "\
- **Words** (`w:`): the content with HTML tags removed (the `href` of links kept as a link) and \
entities such as `&#39;`, `&amp;`, `&lt;` decoded, links taken out, split on every character \
that is not Unicode-alphanumeric (`char::is_alphanumeric`) and lower-cased (`to_lowercase`). \
Unigrams only, counted. A link is not words: it counts only through its domain.
- **Link domains** (`d:`): the lower-cased host (without `www.`) of every `http://`, `https://` \
or `www.` link in the content, plus its last two labels (three under `co.uk`-style suffixes) \
when different, e.g. `m.facebook.com` also counts as `facebook.com`.
- **Author URL domain** (`au:`) and **author e-mail domain** (`ae:`), from the comment's author \
fields.
- Each prefixed key is hashed with 64-bit FNV-1a into 2^18 buckets.";

/// Longest key text shown in an explanation; longer ones are cut so a pasted blob cannot
/// bloat a response.
const MAX_DESCRIBED_CHARS: usize = 48;

/// What part of the comment a feature came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FeatureKind {
    /// A case-folded alphanumeric token of the content.
    Word,
    /// The host (or its last labels) of a link in the content.
    LinkDomain,
    /// The host of the author's URL.
    AuthorUrlDomain,
    /// The domain of the author's e-mail address.
    AuthorEmailDomain,
}

impl FeatureKind {
    /// The prefix that keeps e.g. the word `gmail` and the e-mail domain `gmail.com` apart
    /// before hashing.
    fn prefix(self) -> &'static str {
        match self {
            FeatureKind::Word => "w:",
            FeatureKind::LinkDomain => "d:",
            FeatureKind::AuthorUrlDomain => "au:",
            FeatureKind::AuthorEmailDomain => "ae:",
        }
    }
}

/// One distinct feature of a comment, with how often it occurred.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub kind: FeatureKind,
    /// The un-prefixed text, e.g. `subscribe` or `bit.ly`.
    pub text: String,
    /// Bucket in `0..N_FEATURES`.
    pub index: usize,
    /// Occurrences in the comment; the multinomial model's `x_j`.
    pub count: f64,
}

impl Feature {
    /// A human-readable name for explanations, e.g. `word 'subscribe'` or `link to bit.ly`.
    pub fn describe(&self) -> String {
        let text: String = if self.text.chars().count() > MAX_DESCRIBED_CHARS {
            let mut cut: String = self.text.chars().take(MAX_DESCRIBED_CHARS).collect();
            cut.push('…');
            cut
        } else {
            self.text.clone()
        };
        match self.kind {
            FeatureKind::Word => format!("word '{text}'"),
            FeatureKind::LinkDomain => format!("link to {text}"),
            FeatureKind::AuthorUrlDomain => format!("author URL domain {text}"),
            FeatureKind::AuthorEmailDomain => format!("author e-mail domain {text}"),
        }
    }
}

/// The bucket of a prefixed key: FNV-1a 64 over the UTF-8 bytes, masked to [`HASH_BITS`].
/// The bytes are fed with `write` rather than via `Hash for str`, whose extra terminator
/// byte is an implementation detail we do not want baked into model files.
pub fn bucket(kind: FeatureKind, text: &str) -> usize {
    let mut hasher = FnvHasher::default();
    hasher.write(kind.prefix().as_bytes());
    hasher.write(text.as_bytes());
    // Masking keeps the low bits; the cast is lossless because the mask is below 2^32.
    (hasher.finish() & (N_FEATURES as u64 - 1)) as usize
}

/// All features of a comment, each distinct `(kind, text)` once with its count, in a
/// deterministic order (by kind, then text).
pub fn extract(comment: &Comment) -> Vec<Feature> {
    let mut counts: BTreeMap<(FeatureKind, String), u32> = BTreeMap::new();
    let mut add = |kind: FeatureKind, text: String| {
        *counts.entry((kind, text)).or_insert(0) += 1;
    };

    let text = plain_text(&comment.content);
    for chunk in chunks(&text) {
        let (prose, link) = split_link(chunk);
        for token in tokens(prose) {
            add(FeatureKind::Word, token);
        }
        for domain in link.and_then(url_host).iter().flat_map(|h| domain_forms(h)) {
            add(FeatureKind::LinkDomain, domain);
        }
    }
    if let Some(host) = url_host(&comment.author_url) {
        add(FeatureKind::AuthorUrlDomain, host);
    }
    if let Some(domain) = comment.email_domain() {
        add(FeatureKind::AuthorEmailDomain, domain);
    }

    counts
        .into_iter()
        .map(|((kind, text), count)| Feature {
            index: bucket(kind, &text),
            kind,
            text,
            count: f64::from(count),
        })
        .collect()
}

/// Comment content as plain text: tags dropped (keeping `href` targets, which is where the
/// spam usually is), then entities decoded. Tags go first because in delivered HTML only a
/// literal `<` opens a tag; `&lt;b&gt;` is text that merely looks like one.
fn plain_text(html: &str) -> String {
    decode_entities(&strip_tags(html))
}

/// Replaces each tag with a space, or with ` <href> ` for tags carrying an `href`.
/// A `<` opens a tag only when followed by a letter, `/` or `!`, so `a < b` and the SMS
/// set's `&lt;#&gt;` survive. Runs in linear time: once no `>` is left, the rest is text.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if !opens_tag {
            // Checked before looking for `>`: searching ahead from every stray `<` would
            // make text like `<<<<…>` quadratic.
            out.push('<');
            rest = after;
            continue;
        }
        match after.find('>') {
            Some(close) => {
                out.push(' ');
                if let Some(href) = href_value(&after[..close]) {
                    out.push_str(href);
                    out.push(' ');
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of the first `href` attribute inside a tag's text (between `<` and `>`),
/// quoted with `"` or `'` or bare. `data-href-x` and the like are skipped because they are
/// not followed by `=`.
fn href_value(tag: &str) -> Option<&str> {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `tag`.
    let lower = tag.to_ascii_lowercase();
    let rest = lower.match_indices("href").find_map(|(at, _)| {
        let rest = tag[at + "href".len()..].trim_start();
        Some(rest.strip_prefix('=')?.trim_start())
    })?;
    let value = match rest.chars().next()? {
        quote @ ('"' | '\'') => {
            let inner = &rest[1..];
            &inner[..inner.find(quote).unwrap_or(inner.len())]
        }
        _ => &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())],
    };
    (!value.is_empty()).then_some(value)
}

/// Decodes the named entities that occur in the training sets and all numeric ones
/// (`&#39;`, `&#x27;`). Anything unrecognised is kept literally.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        // Entities are short; bounding the search keeps this linear on `&&&&…`.
        let semi = after.char_indices().take(12).find(|&(_, c)| c == ';');
        match semi.and_then(|(i, _)| entity_char(&after[..i]).map(|c| (i, c))) {
            Some((i, c)) => {
                out.push(c);
                rest = &after[i + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity_char(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Case-folded runs of alphanumeric characters (Unicode-aware: `Привет`, `ça`, `日本語`).
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Whitespace-separated chunks of plain text; a link never spans two of them. Quotes and
/// angle brackets also separate, so `"https://x.example"` and `<https://x.example>` are
/// found.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
        .filter(|chunk| !chunk.is_empty())
}

/// Splits a chunk at the start of a link (`http://`, `https://` or `www.`,
/// case-insensitive) into the prose before it and the link itself. A link is evidence
/// through its domain only: tokenising it as words would turn every `https`, `www` and `com`
/// into a spam word, because links are common in the training spam, and a blog comment
/// citing one source would be rejected for the citation.
fn split_link(chunk: &str) -> (&str, Option<&str>) {
    let lower = chunk.to_ascii_lowercase();
    // ASCII lower-casing keeps byte offsets, so `start` indexes `chunk`.
    match ["http://", "https://", "www."]
        .iter()
        .filter_map(|marker| lower.find(marker))
        .min()
    {
        Some(start) => (&chunk[..start], Some(&chunk[start..])),
        None => (chunk, None),
    }
}

/// The lower-cased host of a URL-ish string, without a leading `www.`; a missing scheme is
/// taken to be `http`, as people type `example.com/page` into author URL fields.
fn url_host(raw: &str) -> Option<String> {
    let raw = raw
        .trim()
        .trim_end_matches(['.', ',', ')', ']', '!', '?', ';', ':']);
    if raw.is_empty() {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    let parsed = if lower.starts_with("http://") || lower.starts_with("https://") {
        Url::parse(raw)
    } else {
        Url::parse(&format!("http://{raw}"))
    }
    .ok()?;
    let host = parsed.host_str()?.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    // A host without a dot (`http://localhost`, a typo) says nothing about a site.
    host.contains('.').then(|| host.to_string())
}

/// The full host, plus its "registrable-ish" suffix when that differs: the last two labels,
/// or three when the second-to-last is a short label under a two-letter country code
/// (`bbc.co.uk`, `globo.com.br`). Not a public-suffix list, but it lets `m.facebook.com`
/// and `facebook.com` share evidence.
fn domain_forms(host: &str) -> Vec<String> {
    let labels: Vec<&str> = host.split('.').collect();
    let keep = match labels.as_slice() {
        [.., second, last] if last.len() == 2 && second.len() <= 3 && labels.len() > 2 => 3,
        _ => 2,
    };
    let mut forms = vec![host.to_string()];
    if labels.len() > keep {
        forms.push(labels[labels.len() - keep..].join("."));
    }
    forms
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::comment::sample as comment;

    fn keys(comment: &Comment) -> Vec<String> {
        extract(comment)
            .into_iter()
            .map(|f| format!("{}{}x{}", f.kind.prefix(), f.text, f.count))
            .collect()
    }

    #[test]
    fn decodes_entities_and_keeps_hrefs() {
        let text = plain_text(
            "I&#39;m &quot;fine&quot; &amp; you?<br />See <a href=\"https://Bit.ly/x?a=1&amp;b=2\">this</a> &lt;#&gt; &bogus; &#xE9;",
        );
        assert_eq!(
            text,
            "I'm \"fine\" & you? See  https://Bit.ly/x?a=1&b=2 this  <#> &bogus; é"
        );
    }

    #[test]
    fn leaves_non_tags_alone() {
        assert_eq!(plain_text("a < b > c"), "a < b > c");
        assert_eq!(plain_text("x <y"), "x <y");
        assert_eq!(plain_text("&&&;&#99999999;"), "&&&;&#99999999;");
        assert_eq!(
            plain_text("<a data-href-x=\"no\" HREF=yes.example>t</a>"),
            " yes.example t "
        );
    }

    #[test]
    fn tokens_are_unicode_aware_and_case_folded() {
        assert_eq!(
            tokens("Подпишись на КАНАЛ! Ça va? 日本語 x2"),
            ["подпишись", "на", "канал", "ça", "va", "日本語", "x2"]
        );
    }

    #[test]
    fn extracts_every_kind_with_counts() {
        let mut c =
            comment("Subscribe subscribe: www.Example.com/x and (see:http://m.facebook.com/p.");
        c.author_url = "myblog.example.org/about".into();
        c.author_email = "bob@Mail.RU".into();
        assert_eq!(
            keys(&c),
            [
                "w:andx1",
                "w:seex1",
                "w:subscribex2",
                "d:example.comx1",
                "d:facebook.comx1",
                "d:m.facebook.comx1",
                "au:myblog.example.orgx1",
                "ae:mail.rux1",
            ]
        );
    }

    #[test]
    fn registrable_forms() {
        assert_eq!(domain_forms("bit.ly"), ["bit.ly"]);
        assert_eq!(
            domain_forms("news.bbc.co.uk"),
            ["news.bbc.co.uk", "bbc.co.uk"]
        );
        assert_eq!(
            domain_forms("a.b.example.com"),
            ["a.b.example.com", "example.com"]
        );
    }

    #[test]
    fn describes_features_readably() {
        let c = Comment {
            author_email: "x@mail.ru".into(),
            ..comment("go to bit.ly/abc https://bit.ly/abc")
        };
        let described: Vec<String> = extract(&c).iter().map(Feature::describe).collect();
        assert!(described.contains(&"word 'go'".to_string()));
        assert!(described.contains(&"link to bit.ly".to_string()));
        assert!(described.contains(&"author e-mail domain mail.ru".to_string()));
        let long = Feature {
            kind: FeatureKind::Word,
            text: "z".repeat(100),
            index: 0,
            count: 1.0,
        };
        assert_eq!(long.describe().chars().count(), "word ''".len() + 49);
    }

    #[test]
    fn buckets_are_stable() {
        // Pinned values, computed independently from the FNV-1a 64 definition: if these
        // change, every shipped model silently breaks.
        assert_eq!(bucket(FeatureKind::Word, "subscribe"), 0x2_24a4);
        assert_eq!(bucket(FeatureKind::LinkDomain, "bit.ly"), 0x1_61cf);
        assert_ne!(
            bucket(FeatureKind::Word, "gmail.com"),
            bucket(FeatureKind::AuthorEmailDomain, "gmail.com")
        );
    }

    proptest! {
        #[test]
        fn extraction_never_panics_and_is_deterministic(
            content in "\\PC{0,200}",
            html in "(<a href=\"[a-z:/.]{0,20}\">|&#?[a-z0-9]{0,6};|https?://[a-zA-Z.]{0,15}|www\\.|[ <>&;\\w]){0,40}",
            author_url in "\\PC{0,40}",
            email in "[a-z]{0,5}@?[a-zA-Z.]{0,12}",
        ) {
            for text in [&content, &html] {
                let words = tokens(&plain_text(text));
                prop_assert_eq!(&words, &tokens(&plain_text(text)));
                prop_assert!(words.iter().all(|w| !w.is_empty() && !w.contains(char::is_whitespace)));
                let c = Comment { author_url: author_url.clone(), author_email: email.clone(), ..comment(text) };
                let first = extract(&c);
                prop_assert_eq!(&first, &extract(&c));
                for f in &first {
                    prop_assert!(f.index < N_FEATURES);
                    prop_assert!(f.count >= 1.0);
                    prop_assert!(!f.text.is_empty());
                }
            }
        }
    }
}
