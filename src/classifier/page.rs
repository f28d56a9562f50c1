//! Whether a link in a comment points back at the page the comment was posted on.
//!
//! Readers link into the page they are reading: a reply quotes the post's address, a
//! comment under a video links a moment of it (`youtube.com/watch?v=…&t=2m19s`), a thread
//! links another comment (`…/my-post/#comment-12`). Such a link promotes nothing, yet as an
//! ordinary link it carries all of a link's spam evidence: on held-out YouTube videos, six of
//! the thirty-one legitimate comments the classifier called spam were links to the video
//! itself. So a link that [`Page::is_linked_by`] says is the page's own is one feature of its
//! own, "a link to this page", instead of a domain, a top-level domain, a shortener and a
//! link in the count.
//!
//! The page is known from the comment's `permalink`, which blog backends send with every
//! comment (Akismet asks for it too). Without one, no link is the page's own.

use url::Url;

/// Hosts that serve short links to another site's pages by the page's own id: `youtu.be/ID`
/// is `youtube.com/watch?v=ID`, `redd.it/ID` a Reddit post whose path holds `ID`. A
/// general link shortener is not one: its codes are its own, not the page's.
const SHORT_HOSTS: &[(&str, &str)] = &[("youtu.be", "youtube.com"), ("redd.it", "reddit.com")];

/// Shortest id a short link may match by, so that a one-letter path segment or query value
/// (`?p=1`) of the permalink cannot make every short link "this page".
const MIN_ID_CHARS: usize = 6;

/// The page a comment was posted on, as its permalink names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Host without `www.` or `m.`, lower-case.
    site: String,
    /// Path without its trailing `/`.
    path: String,
    /// The permalink's query pairs; a link to the page carries all of them, and may add
    /// its own (a video's `t=` start time).
    query: Vec<(String, String)>,
}

impl Page {
    /// The page a permalink names, or `None` for an empty or unreadable one.
    pub fn of(permalink: &str) -> Option<Page> {
        let url = parse_link(permalink)?;
        Some(Page {
            site: site(&url)?,
            path: url.path().trim_end_matches('/').to_string(),
            query: url.query_pairs().into_owned().collect(),
        })
    }

    /// Whether `link`, as found in a comment, points at this page. The fragment never
    /// matters (`#comment-12` is still the page), nor does a query pair the permalink does
    /// not have.
    pub fn is_linked_by(&self, link: &str) -> bool {
        let Some(url) = parse_link(link) else {
            return false;
        };
        let Some(site) = site(&url) else {
            return false;
        };
        if site == self.site {
            let pairs = url.query_pairs();
            return url.path().trim_end_matches('/') == self.path
                && self.query.iter().all(|wanted| {
                    pairs
                        .clone()
                        .any(|(key, value)| key == wanted.0 && value == wanted.1)
                });
        }
        SHORT_HOSTS
            .iter()
            .any(|&(short, long)| site == short && self.site == long)
            && url
                .path_segments()
                .and_then(|mut segments| segments.next())
                .is_some_and(|id| self.has_id(id))
    }

    /// Whether `id` names this page: a path segment or query value of the permalink, long
    /// enough not to be a coincidence.
    fn has_id(&self, id: &str) -> bool {
        id.chars().count() >= MIN_ID_CHARS
            && (self.path.split('/').any(|segment| segment == id)
                || self.query.iter().any(|(_, value)| value == id))
    }
}

/// A link as comments write it, with or without a scheme, trailing punctuation trimmed;
/// `None` when it is not a readable URL.
pub(super) fn parse_link(raw: &str) -> Option<Url> {
    let raw = raw
        .trim()
        .trim_start_matches(['(', '[', '\''])
        .trim_end_matches(['.', ',', ')', ']', '!', '?', ';', ':', '\'']);
    if raw.is_empty() {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Url::parse(raw)
    } else {
        Url::parse(&format!("http://{raw}"))
    }
    .ok()
}

/// The host a site is known by: lower-case, without the `www.` or mobile `m.` in front.
fn site(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_lowercase();
    let host = host
        .strip_prefix("www.")
        .or_else(|| host.strip_prefix("m."))
        .unwrap_or(&host);
    Some(host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(permalink: &str) -> Page {
        Page::of(permalink).expect("a readable permalink")
    }

    #[test]
    fn a_post_is_linked_by_its_address_anchors_and_mobile_site() {
        let post = page("https://blog.example.org/2026/11/moderation/");
        for link in [
            "https://blog.example.org/2026/11/moderation/",
            "http://blog.example.org/2026/11/moderation",
            "blog.example.org/2026/11/moderation/#comment-12",
            "https://www.blog.example.org/2026/11/moderation/?utm_source=x",
            "https://m.blog.example.org/2026/11/moderation/).",
        ] {
            assert!(post.is_linked_by(link), "{link}");
        }
        for link in [
            "https://blog.example.org/2026/11/other-post/",
            "https://blog.example.org/",
            "https://spam.example.com/2026/11/moderation/",
            "not a link at all",
            "",
        ] {
            assert!(!post.is_linked_by(link), "{link}");
        }
    }

    #[test]
    fn a_video_is_linked_by_its_id_with_a_start_time_or_a_short_link() {
        let video = page("https://www.youtube.com/watch?v=9bZkp7q19f0");
        for link in [
            "http://www.youtube.com/watch?v=9bZkp7q19f0&t=2m19s",
            "https://m.youtube.com/watch?feature=share&v=9bZkp7q19f0",
            "http://youtu.be/9bZkp7q19f0",
            "https://youtu.be/9bZkp7q19f0?t=30",
        ] {
            assert!(video.is_linked_by(link), "{link}");
        }
        for link in [
            "http://www.youtube.com/watch?v=KQ6zr6kCPj8",
            "http://www.youtube.com/watch",
            "http://youtu.be/KQ6zr6kCPj8",
            // A shortener's code is its own, even when it spells the page's id.
            "http://bit.ly/9bZkp7q19f0",
            "http://youtu.be/watch",
        ] {
            assert!(!video.is_linked_by(link), "{link}");
        }
    }

    #[test]
    fn a_short_link_must_carry_an_id_long_enough_to_be_the_pages() {
        let post = page("https://www.reddit.com/r/rust/comments/1abcde/a_title/?p=1");
        assert!(post.is_linked_by("https://redd.it/1abcde"));
        assert!(!post.is_linked_by("https://redd.it/1"));
        assert!(!post.is_linked_by("https://redd.it/r"));
    }

    #[test]
    fn no_page_without_a_readable_permalink() {
        assert_eq!(Page::of(""), None);
        assert_eq!(Page::of("   "), None);
        assert_eq!(Page::of("http://"), None);
    }
}
