//! The blog owner's rule filters (the ones WordPress and Antispam Bee taught them to expect),
//! compiled from the config into a [`Policy`] per site.
//!
//! Rules are pure: the few that depend on history (duplicates, flooding, trusted authors)
//! receive it as [`Signals`] that the store gathered beforehand. Every rule that fires
//! produces a [`Reason`] with a stable code, so operators and client code can tell them apart.

use aho_corasick::{AhoCorasick, MatchKind};
use anyhow::{Context, bail, ensure};
use ipnet::IpNet;
use serde::Deserialize;

use crate::classifier::calibration::Thresholds;
use crate::classifier::features::{self, plain_text};
use crate::classifier::link;
use crate::classifier::page::Page;
use crate::comment::Comment;
use crate::verdict::{Reason, Verdict};

/// The settings of `[policy]` (and of each `[sites.<id>]` override) as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PolicySettings {
    hold_threshold: Option<f64>,
    reject_threshold: Option<f64>,
    trusted_reject_threshold: Option<f64>,
    blocked_terms: Vec<String>,
    moderation_terms: Vec<String>,
    max_links: usize,
    blocked_ips: Vec<String>,
    blocked_email_domains: Vec<String>,
    duplicate_window_secs: u64,
    duplicate_min_chars: usize,
    flood_window_secs: u64,
    flood_max: u32,
    min_content_chars: usize,
    max_content_chars: usize,
    trust_approved_authors: bool,
}

/// Unset thresholds are the model's own (see [`Policy::adopt_model_thresholds`]): chosen at
/// training time from a false-positive budget on held-out data, so they fit the model they
/// belong to, where any fixed number would fit only one model.
impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            hold_threshold: None,
            reject_threshold: None,
            trusted_reject_threshold: None,
            blocked_terms: Vec::new(),
            moderation_terms: Vec::new(),
            max_links: 2,
            blocked_ips: Vec::new(),
            blocked_email_domains: Vec::new(),
            duplicate_window_secs: 24 * 60 * 60,
            duplicate_min_chars: 20,
            flood_window_secs: 60,
            flood_max: 5,
            min_content_chars: 0,
            max_content_chars: 10_000,
            trust_approved_authors: true,
        }
    }
}

/// A site's compiled moderation policy: thresholds for the classifier and the rule filters.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The thresholds the config sets; the rest come from the model.
    overrides: ThresholdOverrides,
    /// Where the classifier's spam probability holds or rejects a comment, and where it
    /// rejects a trusted author's.
    pub thresholds: Thresholds,
    blocked_terms: TermList,
    moderation_terms: TermList,
    /// Hold a comment with this many links or more; 0 disables the rule.
    pub max_links: usize,
    blocked_nets: Vec<IpNet>,
    blocked_email_domains: Vec<String>,
    /// How long a comment's text counts as "recent" for the duplicate rule; 0 disables it.
    pub duplicate_window_secs: u64,
    /// Shorter texts ("Thanks!", "+1") are legitimately repeated, so they are never duplicates.
    pub duplicate_min_chars: usize,
    /// The window over which comments from one IP or author are counted.
    pub flood_window_secs: u64,
    /// Hold when an IP or author sent more than this many comments in the window; 0 disables.
    pub flood_max: u32,
    min_content_chars: usize,
    max_content_chars: usize,
    pub trust_approved_authors: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct ThresholdOverrides {
    hold: Option<f64>,
    reject: Option<f64>,
    trusted_reject: Option<f64>,
}

/// What the store knows about a comment's history, for the rules that need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// The id of an earlier, different comment with the same text within the window.
    pub duplicate_of: Option<String>,
    /// Comments (this one included) from the same IP within the flood window.
    pub comments_from_ip: u32,
    /// Comments (this one included) from the same author within the flood window.
    pub comments_from_author: u32,
    /// An earlier comment of the author's was approved by an operator or reported as ham,
    /// and none was labelled spam since.
    pub trusted_author: bool,
}

impl Policy {
    /// Validates and compiles a `[policy]` table (already merged with any site overrides).
    pub fn from_table(table: &toml::Table) -> anyhow::Result<Policy> {
        let s: PolicySettings = table.clone().try_into()?;
        for (name, value) in [
            ("hold_threshold", s.hold_threshold),
            ("reject_threshold", s.reject_threshold),
            ("trusted_reject_threshold", s.trusted_reject_threshold),
        ] {
            if let Some(value) = value.filter(|v| !(0.0..=1.0).contains(v)) {
                bail!("{name} must be between 0 and 1, not {value}");
            }
        }
        let overrides = ThresholdOverrides {
            hold: s.hold_threshold,
            reject: s.reject_threshold,
            trusted_reject: s.trusted_reject_threshold,
        };
        let blocked_nets = s
            .blocked_ips
            .iter()
            .map(|text| parse_net(text).with_context(|| format!("in blocked_ips: {text:?}")))
            .collect::<anyhow::Result<_>>()?;
        let mut policy = Policy {
            overrides,
            thresholds: Thresholds::UNMEASURED,
            blocked_terms: TermList::new(&s.blocked_terms).context("in blocked_terms")?,
            moderation_terms: TermList::new(&s.moderation_terms).context("in moderation_terms")?,
            max_links: s.max_links,
            blocked_nets,
            blocked_email_domains: s
                .blocked_email_domains
                .iter()
                .map(|d| d.trim().trim_start_matches('@').to_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
            duplicate_window_secs: s.duplicate_window_secs,
            duplicate_min_chars: s.duplicate_min_chars,
            flood_window_secs: s.flood_window_secs,
            flood_max: s.flood_max,
            min_content_chars: s.min_content_chars,
            max_content_chars: s.max_content_chars,
            trust_approved_authors: s.trust_approved_authors,
        };
        ensure!(
            s.max_content_chars == 0 || s.min_content_chars <= s.max_content_chars,
            "min_content_chars {} must not exceed max_content_chars {}: every comment would be \
             held",
            s.min_content_chars,
            s.max_content_chars
        );
        // Only the config's own thresholds can be checked against each other here: the
        // model's, which fill in the rest, are known once it is loaded
        // (`adopt_model_thresholds`). Until then, those of a model that measured nothing.
        if let (Some(hold), Some(reject)) = (overrides.hold, overrides.reject) {
            ensure!(
                hold <= reject,
                "hold_threshold {hold} must not exceed reject_threshold {reject}"
            );
        }
        policy.thresholds = policy.combined(Thresholds::UNMEASURED);
        Ok(policy)
    }

    /// Takes the model's thresholds for every threshold the config leaves unset, and checks
    /// that the result is ordered. Called once the model is loaded.
    pub fn adopt_model_thresholds(&mut self, model: Thresholds) -> anyhow::Result<()> {
        let o = self.overrides;
        let combined = self.combined(model);
        let source = |set: Option<f64>| if set.is_some() { "config" } else { "model" };
        if combined.hold > combined.reject {
            bail!(
                "hold_threshold {} (from the {}) must not exceed reject_threshold {} (from the {})",
                combined.hold,
                source(o.hold),
                combined.reject,
                source(o.reject)
            );
        }
        self.thresholds = combined;
        Ok(())
    }

    /// The config's thresholds where it sets them, else `model`'s.
    fn combined(&self, model: Thresholds) -> Thresholds {
        let o = self.overrides;
        let reject = o.reject.unwrap_or(model.reject);
        Thresholds {
            hold: o.hold.unwrap_or(model.hold),
            reject,
            // A trusted author is never held to a stricter standard than anyone else.
            trusted_reject: o.trusted_reject.unwrap_or(model.trusted_reject.max(reject)),
        }
    }

    #[cfg(test)]
    pub fn blocked_terms(&self) -> &[String] {
        &self.blocked_terms.terms
    }

    /// Every rule that fires for this comment, except trust (which only the decision step can
    /// weigh, because it depends on the classifier's certainty).
    pub fn evaluate(&self, comment: &Comment, signals: &Signals) -> Vec<Reason> {
        let mut hits = Vec::new();
        let fields = [
            ("content", comment.content.as_str()),
            ("author name", comment.author_name.as_str()),
            ("author e-mail", comment.author_email.as_str()),
            ("author URL", comment.author_url.as_str()),
        ];
        for (field, text) in fields {
            if let Some(term) = self.blocked_terms.find(text) {
                hits.push(reason(
                    "rule.blocked_term",
                    format!("{field} contains the blocked term {term:?}"),
                    Verdict::Reject,
                ));
            }
            if let Some(term) = self.moderation_terms.find(text) {
                hits.push(reason(
                    "rule.moderation_term",
                    format!("{field} contains the moderation term {term:?}"),
                    Verdict::Hold,
                ));
            }
        }
        if let Some(ip) = comment.ip()
            && let Some(net) = self.blocked_nets.iter().find(|n| n.contains(&ip))
        {
            hits.push(reason(
                "rule.blocked_ip",
                format!("author IP {ip} is in the blocked range {net}"),
                Verdict::Reject,
            ));
        }
        if let Some(domain) = comment.email_domain()
            && let Some(blocked) = self
                .blocked_email_domains
                .iter()
                .find(|b| domain == **b || domain.ends_with(&format!(".{b}")))
        {
            hits.push(reason(
                "rule.blocked_email_domain",
                format!("author e-mail domain {domain} is blocked ({blocked})"),
                Verdict::Reject,
            ));
        }
        let links = count_links(&comment.content, &comment.permalink);
        if self.max_links > 0 && links >= self.max_links {
            hits.push(reason(
                "rule.too_many_links",
                // Says "or more" because the limit is where holding starts, as with
                // WordPress' `comment_max_links`: "2 links (the limit is 2)" read as a bug.
                format!(
                    "contains {links} links; comments with {} or more are held",
                    self.max_links
                ),
                Verdict::Hold,
            ));
        }
        let chars = comment.content.trim().chars().count();
        if chars < self.min_content_chars {
            hits.push(reason(
                "rule.too_short",
                format!(
                    "is {chars} characters long, shorter than {}",
                    self.min_content_chars
                ),
                Verdict::Hold,
            ));
        }
        if self.max_content_chars > 0 && chars > self.max_content_chars {
            hits.push(reason(
                "rule.too_long",
                format!(
                    "is {chars} characters long, longer than {}",
                    self.max_content_chars
                ),
                Verdict::Hold,
            ));
        }
        if let Some(original) = &signals.duplicate_of {
            hits.push(reason(
                "rule.duplicate",
                format!("repeats the text of recent comment {original:?}"),
                Verdict::Reject,
            ));
        }
        if self.flood_max > 0 {
            for (who, count) in [
                ("IP", signals.comments_from_ip),
                ("author", signals.comments_from_author),
            ] {
                if count > self.flood_max {
                    hits.push(reason(
                        if who == "IP" {
                            "rule.flood_ip"
                        } else {
                            "rule.flood_author"
                        },
                        format!(
                            "this {who} sent {count} comments within {} s (the limit is {})",
                            self.flood_window_secs, self.flood_max
                        ),
                        Verdict::Hold,
                    ));
                }
            }
        }
        hits
    }
}

fn reason(code: &str, message: String, effect: Verdict) -> Reason {
    Reason {
        code: code.to_string(),
        message,
        effect: Some(effect),
    }
}

/// Accepts a single address as well as a CIDR range, since operators paste both.
fn parse_net(text: &str) -> anyhow::Result<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net);
    }
    let ip: std::net::IpAddr = text.parse().context("not an IP address or CIDR range")?;
    Ok(IpNet::from(ip))
}

/// Counts links the way the classifier reads them ([`features::links`]) in the comment's
/// plain text (tags replaced by their `href`, entities decoded): one per run of text that
/// holds `http://`, `https://` or `www.` or is a bare domain such as `bit.ly/x`, so writing
/// links without a scheme does not slip past the limit, and a redirect carrying another
/// address in its query is the one link a reader follows. Unlike the classifier, the rule
/// also splits runs at `,;()|`, so links joined by punctuation count apart. A link to the
/// page the comment is posted on (`permalink`, see [`crate::classifier::page`]) does not
/// count: a comment linking two moments of the video it is under links nowhere else, and
/// the classifier does not count such links either. An anchor showing its own address
/// (`<a href="https://x.example">https://x.example</a>`) is one link, as for the
/// classifier; a label showing another address is a second link, and an anchor whose
/// `href` is not a web address hides nothing. An address only in another attribute
/// (`<img src>`, `title`) is not a link a reader sees, and does not count.
fn count_links(content: &str, permalink: &str) -> usize {
    let text = plain_text(content);
    // Links joined by punctuation (`bit.ly/a,bit.ly/b`, `(http://a)(http://b)`) are one run
    // of text to the classifier; a limit on links must not be dodged by leaving out spaces.
    let mut links = text
        .split([',', ';', '(', ')', '|'])
        .flat_map(features::links)
        .peekable();
    // Most comments have no links; only those need the page read.
    if links.peek().is_none() {
        return 0;
    }
    let page = Page::of(permalink);
    links
        .filter(|raw| {
            let to_page = |page: &Page| link::parse(raw).is_some_and(|url| page.is_linked_by(&url));
            !page.as_ref().is_some_and(to_page)
        })
        .count()
}

/// A case-insensitive list of words or phrases, matched on word boundaries so that "sex"
/// does not fire on "Essex" (the Scunthorpe problem WordPress's substring lists have).
#[derive(Debug, Clone)]
struct TermList {
    terms: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl TermList {
    fn new(terms: &[String]) -> anyhow::Result<Self> {
        let terms: Vec<String> = terms
            .iter()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        let matcher = if terms.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&terms)?,
            )
        };
        Ok(TermList { terms, matcher })
    }

    /// The first term that occurs in `text` as whole words.
    fn find(&self, text: &str) -> Option<&str> {
        let matcher = self.matcher.as_ref()?;
        let lower = text.to_lowercase();
        matcher
            .find_overlapping_iter(&lower)
            .find(|m| {
                let before = lower[..m.start()].chars().next_back();
                let after = lower[m.end()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
            .map(|m| self.terms[m.pattern().as_usize()].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::sample as comment;

    fn policy(toml_text: &str) -> Policy {
        Policy::from_table(&toml_text.parse::<toml::Table>().unwrap()).unwrap()
    }

    fn codes(p: &Policy, c: &Comment, s: &Signals) -> Vec<String> {
        p.evaluate(c, s).into_iter().map(|r| r.code).collect()
    }

    #[test]
    fn terms_match_whole_words_case_insensitively() {
        let p = policy(r#"blocked_terms = ["sex", "buy now"]"#);
        let none = Signals::default();
        assert_eq!(
            codes(&p, &comment("I live in Essex"), &none),
            Vec::<String>::new()
        );
        assert_eq!(
            codes(&p, &comment("BUY NOW!"), &none),
            ["rule.blocked_term"]
        );
        let mut c = comment("hello");
        c.author_name = "Sex shop".into();
        let hits = p.evaluate(&c, &none);
        assert_eq!(hits[0].code, "rule.blocked_term");
        assert!(
            hits[0].message.contains("author name"),
            "{}",
            hits[0].message
        );
    }

    #[test]
    fn links_hold_at_the_limit() {
        let p = policy("max_links = 2");
        let none = Signals::default();
        assert!(codes(&p, &comment("see https://a.example"), &none).is_empty());
        let hits = p.evaluate(&comment("https://a.example and www.b.example"), &none);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].code, "rule.too_many_links");
        assert_eq!(
            hits[0].message,
            "contains 2 links; comments with 2 or more are held"
        );
        assert_eq!(count_links("http://www.x.org", ""), 1);
        assert_eq!(count_links("HTTPS://a.example WWW.b.example", ""), 2);
    }

    /// Two moments of the video the comment is under link nowhere else; a third link does.
    #[test]
    fn links_to_the_commented_page_do_not_count() {
        let p = policy("max_links = 2");
        let none = Signals::default();
        let text = "<a href=\"http://www.youtube.com/watch?v=KQ6zr6kCPj8&amp;t=3m40s\">3:40</a>-\
                    <a href=\"http://www.youtube.com/watch?v=KQ6zr6kCPj8&amp;t=4m10s\">4:10</a> \
                    best part";
        let on = |permalink: &str, text: &str| Comment {
            permalink: permalink.into(),
            ..comment(text)
        };
        let video = "https://www.youtube.com/watch?v=KQ6zr6kCPj8";
        assert!(codes(&p, &on(video, text), &none).is_empty());
        assert_eq!(count_links(text, video), 0);
        assert_eq!(count_links(text, ""), 2);
        assert_eq!(
            count_links(text, "https://www.youtube.com/watch?v=other"),
            2
        );
        // The classifier decodes `&amp;`, and so does the rule: a permalink with two query
        // pairs is matched in an `href` that escapes the `&` between them.
        let playlist = "https://www.youtube.com/watch?v=KQ6zr6kCPj8&list=PLabcdefgh";
        let escaped = "<a href=\"http://www.youtube.com/watch?v=KQ6zr6kCPj8&amp;list=PLabcdefgh&amp;t=3m\">3:40</a>";
        assert_eq!(count_links(escaped, playlist), 0);
        let more = format!("{text} and www.spam.example/win");
        assert_eq!(count_links(&more, video), 1);
        assert_eq!(
            codes(
                &p,
                &on(video, &format!("{more} http://youtu.be/xyz")),
                &none
            ),
            ["rule.too_many_links"]
        );
    }

    /// The rule reads anchors as the classifier does: one showing its own address is one
    /// link; a label showing another address is a second link, whether or not the anchor
    /// is closed; an `href` that is not a web address (`#`, `//x`, inside a comment or an
    /// attribute) hides nothing.
    #[test]
    fn an_anchor_showing_its_own_address_is_one_link() {
        for (content, links) in [
            ("<a href=\"https://x.example\">https://x.example</a>", 1),
            (
                "<A HREF='http://x.example'>www.x.example</A> and http://y.example",
                2,
            ),
            (
                "<a href=\"https://youtu.be/KQ6zr6kCPj8\">https://youtu.be/KQ6z…</a>",
                1,
            ),
            (
                "<a href=\"https://youtu.be/KQ6zr6kCPj8\">https://youtu.be/KQ6z&hellip;</a>",
                1,
            ),
            ("<a\nhref=http://x.example>see http://y.example too</a>", 2),
            (
                "<a rel=\"nofollow\" href=\"http://x.example\">x</a> www.y.example",
                2,
            ),
            ("<a name=\"top\">http://x.example</a>", 1),
            ("<a>http://x.example</a>", 1),
            (
                "<a href=\"http://x.example\">http://y.example and http://z.example",
                3,
            ),
            (
                "<a href=http://x.example>x<a href=http://y.example>y <A HREF=http://z.example>",
                3,
            ),
            ("<a href=\"http://x.example\"", 1),
            (
                "<a href=#>http://a.example http://b.example http://c.example",
                3,
            ),
            (
                "<a href=\"//x.example\">http://a.example http://b.example</a>",
                2,
            ),
            (
                "<a title=\"href=#\">http://a.example</a> http://b.example",
                2,
            ),
            ("<!--<a href=#>--> http://a.example http://b.example", 2),
            (
                "<img alt=\"<a href=#>\"> http://a.example http://b.example",
                2,
            ),
            (
                "<a href=\"https://paypal.com.evil.example/\">https://paypal.com…</a>",
                2,
            ),
            // A decoy `href=` inside another attribute does not hide the real one.
            (
                "<a data-href=\"#\" href=\"https://x.example/\">x</a> <a data-href=# href=https://y.example/>y</a>",
                2,
            ),
            (
                "<a title='see href=#' href=\"https://x.example/\">x</a> <a xhref=# href=https://y.example>y</a>",
                2,
            ),
            // URLs only in other attributes are not links a reader sees.
            (
                "<img src=\"http://x.example/a.png\" alt=\"http://y.example\">",
                0,
            ),
            (
                "http://w.example <a href=\"http://x.example\">http://x.example</a> http://y.example <a href=\"http://z.example\">z</a>",
                4,
            ),
        ] {
            assert_eq!(count_links(content, ""), links, "{content:?}");
        }
        let p = policy("max_links = 2");
        let one = "<a href=\"https://x.example/a\">https://x.example/a</a> is worth reading";
        assert!(codes(&p, &comment(one), &Signals::default()).is_empty());
        let three = "<a href=#>https://a.example https://b.example https://c.example</a>";
        assert_eq!(
            codes(&p, &comment(three), &Signals::default()),
            ["rule.too_many_links"]
        );
        // The page's own address, shown as its own label, is no link at all; behind a
        // decoy `href=` it is the label of a link elsewhere.
        let page = "https://blog.example.org/2026/11/post/";
        let own = format!("<a href=\"{page}#comment-3\">{page}#comment-3</a>");
        assert_eq!(count_links(&own, page), 0);
        let decoy = format!("<a title='href=\"{page}\"' href=\"https://x.example/\">{page}</a>");
        assert_eq!(count_links(&decoy, page), 1);
    }

    /// Spam writes links without a scheme (`bit.ly/x`, `youtube.com/user/x`); they count,
    /// as the classifier counts them. A redirect carrying another address in its query is
    /// one link, and sentences typed without a space (`done.Next`), file names and e-mail
    /// addresses are none.
    #[test]
    fn links_without_a_scheme_count_and_a_redirect_is_one() {
        assert_eq!(
            count_links("bit.ly/a youtube.com/user/x (goo.gl/b). Subscribe!", ""),
            3
        );
        assert_eq!(
            count_links(
                "http://r.example/out?u=http://spam.example/&v=www.x.example",
                ""
            ),
            1
        );
        assert_eq!(count_links("done.Next, see main.rs or mail x@y.co", ""), 0);
        for joined in [
            "http://a.example,http://b.example,http://c.example",
            "bit.ly/a,bit.ly/b;bit.ly/c",
            "(http://a.example)(http://b.example)|www.c.example",
        ] {
            assert_eq!(count_links(joined, ""), 3, "{joined}");
        }
        let p = policy("max_links = 2");
        assert_eq!(
            codes(
                &p,
                &comment("free at bit.ly/a and bit.ly/b"),
                &Signals::default()
            ),
            ["rule.too_many_links"]
        );
    }

    /// A run of text with no separator is one link however many markers it holds, and long
    /// inputs are read in linear time (it took seconds for 64 KiB of `www.` when every
    /// marker re-read the rest of the run).
    #[test]
    fn long_runs_of_links_are_counted_in_one_reading() {
        let page = "https://blog.example.org/2026/11/post/";
        let started = std::time::Instant::now();
        let run = "www.".repeat(1 << 14);
        assert_eq!(count_links(&run, page), 1);
        assert_eq!(count_links(&run, ""), 1);
        let spaced = "www.x.example ".repeat(1 << 14);
        assert_eq!(count_links(&spaced, page), 1 << 14);
        let own = "https://blog.example.org/2026/11/post/#http://www.x ".repeat(100);
        assert_eq!(count_links(&own, page), 0);
        assert_eq!(count_links(&own, ""), 100);
        // 700 KiB of anchors: read in linear time it takes well under a second in a debug
        // build; a reading quadratic in the input (each anchor or label from the start)
        // would take some 10^11 steps, far past the bound.
        let anchors = "<a href=\"http://x.example\">http://x.example</a>".repeat(1 << 14);
        assert_eq!(count_links(&anchors, page), 1 << 14);
        let unclosed = "<a href=http://x.example>http://x.example".repeat(1 << 14);
        assert_eq!(count_links(&unclosed, page), 1 << 14);
        // Generous for a slow machine: the quadratic reading took over a second here.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn blocked_ips_and_email_domains() {
        let p = policy(
            r#"blocked_ips = ["203.0.113.0/24", "2001:db8::7"]
               blocked_email_domains = ["@spam.example"]"#,
        );
        let none = Signals::default();
        let mut c = comment("hello there");
        c.author_ip = "203.0.113.9".into();
        assert_eq!(codes(&p, &c, &none), ["rule.blocked_ip"]);
        c.author_ip = "2001:db8::7".into();
        assert_eq!(codes(&p, &c, &none), ["rule.blocked_ip"]);
        c.author_ip = "198.51.100.1".into();
        c.author_email = "x@mail.spam.example".into();
        assert_eq!(codes(&p, &c, &none), ["rule.blocked_email_domain"]);
        c.author_email = "x@notspam.example".into();
        assert!(codes(&p, &c, &none).is_empty());
    }

    #[test]
    fn history_signals_fire_their_rules() {
        let p = policy("flood_max = 3");
        let signals = Signals {
            duplicate_of: Some("c0".into()),
            comments_from_ip: 4,
            comments_from_author: 3,
            trusted_author: false,
        };
        assert_eq!(
            codes(&p, &comment("hello"), &signals),
            ["rule.duplicate", "rule.flood_ip"]
        );
    }

    #[test]
    fn length_limits() {
        let p = policy("min_content_chars = 3\nmax_content_chars = 10");
        let none = Signals::default();
        assert_eq!(codes(&p, &comment("hi"), &none), ["rule.too_short"]);
        assert_eq!(
            codes(&p, &comment("hello world!"), &none),
            ["rule.too_long"]
        );
        assert!(codes(&p, &comment("hello"), &none).is_empty());
    }

    proptest::proptest! {
        /// Whatever a spammer types, evaluating the rules never panics (slicing around term
        /// matches, and link counting around anchors, must stay on character boundaries).
        #[test]
        fn evaluation_never_panics(
            content in "(\\PC|http://|HTTPS://|www\\.|youtu\\.be/|watch\\?v=|&amp;| |<a |<A\n|href=|>|</a>){0,80}",
            name in "\\PC{0,40}",
            email in "\\PC{0,40}",
            permalink in "(https://www\\.youtube\\.com/watch\\?v=\\PC{0,12}|\\PC{0,20})",
        ) {
            let p = policy(r#"blocked_terms = ["ß", "casino", "ﬁ", "İ"]
                              moderation_terms = ["x y"]"#);
            let mut c = comment(&content);
            c.author_name = name;
            c.author_email = email;
            c.permalink = permalink;
            let _ = p.evaluate(&c, &Signals::default());
            let _ = c.validate(1 << 16);
        }
    }

    proptest::proptest! {
        /// The rule's link count is the classifier's: whatever a comment holds (but links
        /// joined by punctuation, which the rule counts apart), the rule and the
        /// classifier's link-count feature agree on it.
        #[test]
        fn the_rule_counts_the_links_the_classifier_counts(
            content in "(\\PC|http://|HTTPS://|www\\.|bit\\.ly/x|example\\.com|done\\.Next|youtu\\.be/KQ6zr6kCPj8|watch\\?v=KQ6zr6kCPj8|&amp;|&hellip;|…| |<a |<A\n|href=|\"|>|</a>){0,60}",
            on_page in proptest::bool::ANY,
        ) {
            // Where punctuation joins links the rule counts each; elsewhere, the same.
            let content = content.replace([',', ';', '(', ')', '|'], " ");
            let mut c = comment(&content);
            if on_page {
                c.permalink = "https://www.youtube.com/watch?v=KQ6zr6kCPj8".into();
            }
            let features = features::extract(&c);
            let shown: Vec<&str> = features
                .iter()
                .filter(|f| f.kind() == features::FeatureKind::LinkCount)
                .map(|f| features.text(f))
                .collect();
            let counted = features::link_count_shape(count_links(&c.content, &c.permalink));
            proptest::prop_assert_eq!(shown, [counted]);
        }
    }

    #[test]
    fn thresholds_map_probability_to_verdicts() {
        let p = policy("hold_threshold = 0.4\nreject_threshold = 0.9");
        assert_eq!(p.thresholds.verdict(0.1), Verdict::Approve);
        assert_eq!(p.thresholds.verdict(0.4), Verdict::Hold);
        assert_eq!(p.thresholds.verdict(0.95), Verdict::Reject);
    }

    #[test]
    fn unset_thresholds_come_from_the_model() {
        let model = Thresholds {
            hold: 0.3,
            reject: 0.97,
            trusted_reject: 0.995,
        };
        let mut p = policy("");
        p.adopt_model_thresholds(model).unwrap();
        assert_eq!(
            (
                p.thresholds.hold,
                p.thresholds.reject,
                p.thresholds.trusted_reject
            ),
            (0.3, 0.97, 0.995)
        );
        let mut p = policy("reject_threshold = 0.999");
        p.adopt_model_thresholds(model).unwrap();
        // Trusted authors are never judged more strictly than everyone else.
        assert_eq!(
            (
                p.thresholds.hold,
                p.thresholds.reject,
                p.thresholds.trusted_reject
            ),
            (0.3, 0.999, 0.999)
        );
        // A threshold that only the defaults of an unmeasured model would contradict is
        // judged against the model's own once it is loaded.
        let mut p = policy("reject_threshold = 0.4");
        p.adopt_model_thresholds(model).unwrap();
        assert_eq!((p.thresholds.hold, p.thresholds.reject), (0.3, 0.4));
        let err = Policy::from_table(
            &"hold_threshold = 0.6\nreject_threshold = 0.5"
                .parse()
                .unwrap(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "hold_threshold 0.6 must not exceed reject_threshold 0.5"
        );
        let mut p = policy("hold_threshold = 0.98");
        let err = p.adopt_model_thresholds(model).unwrap_err().to_string();
        assert!(
            err.contains("hold_threshold 0.98 (from the config)")
                && err.contains("reject_threshold 0.97 (from the model)"),
            "{err}"
        );
    }
}
