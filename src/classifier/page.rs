//! Whether a link in a comment points back at the page the comment was posted on.
//!
//! Readers link into the page they are reading: a reply quotes the post's address, a
//! comment under a video links a moment of it (`youtube.com/watch?v=…&t=2m19s`), a thread
//! links another comment (`…/my-post/#comment-12`). Such a link promotes nothing, yet as an
//! ordinary link it carries all of a link's spam evidence: on held-out YouTube videos, six of
//! the thirty-one legitimate comments the classifier called spam were links to the video
//! itself. So a link that [`Page::is_linked_by`] says is the page's own is one feature of its
//! own, "a link to this page", instead of a domain, a top-level domain, a shortener and a
//! link in the count, and the link rule does not count it either.
//!
//! The page is known from the comment's `permalink`, which blog backends send with every
//! comment (Akismet asks for it too). Without one, no link is the page's own.
//!
//! Addresses are compared as the `url` crate parses them: host names case-insensitively
//! (and IDNs as punycode), the path byte for byte after its parsing (so `%C3%A9` and `%c3%a9`
//! differ), the port and the scheme not at all. A page's equivalent hosts are only those with
//! `www.` or `m.` in front; `old.reddit.com` or `music.youtube.com` are other sites. On a site
//! that names pages by an id (`ID_SITES`: YouTube, Reddit), the id alone decides.

use url::Url;

use super::link;

/// Sites that name a page by an id, and the hosts that serve short links to their pages by
/// that id: `youtu.be/ID` is `youtube.com/watch?v=ID`, `redd.it/ID` is
/// `reddit.com/r/…/comments/ID/…`. On such a site a link with the page's id is the page,
/// whatever else its address says (a playlist, another title in the path). A general link
/// shortener is not one of them: its codes are its own, not the page's.
const ID_SITES: &[(&str, &str, IdAt)] = &[
    ("youtube.com", "youtu.be", IdAt::Query("v")),
    ("reddit.com", "redd.it", IdAt::SegmentAfter("comments")),
];

/// Where a site keeps a page's id in the page's address.
#[derive(Debug, Clone, Copy, PartialEq)]
enum IdAt {
    /// The value of this query parameter.
    Query(&'static str),
    /// The path segment after this one.
    SegmentAfter(&'static str),
}

impl IdAt {
    /// The id in an address, if it has a non-empty one where this says.
    fn find(self, url: &Url) -> Option<String> {
        let id = match self {
            IdAt::Query(key) => url
                .query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, value)| value.into_owned()),
            IdAt::SegmentAfter(before) => {
                let mut segments = url.path_segments()?;
                segments.find(|&s| s == before)?;
                segments.next().map(str::to_string)
            }
        };
        id.filter(|id| !id.is_empty())
    }
}

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
    /// On a site of [`ID_SITES`], the page's id.
    id: Option<PageId>,
}

/// A page's id on a site of [`ID_SITES`], where the site keeps it, and the host of the
/// site's short links.
#[derive(Debug, Clone, PartialEq)]
struct PageId {
    id: String,
    at: IdAt,
    short_host: &'static str,
}

impl Page {
    /// The page a permalink names, or `None` unless it is an absolute `http(s)` address
    /// with a host name: a relative path (`/2026/11/post/`) or a bare word cannot be
    /// matched against anything a comment links to.
    pub fn of(permalink: &str) -> Option<Page> {
        // Parsed as an absolute URL, not as a comment's link: a missing scheme is an error.
        let url = Url::parse(permalink.trim())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))?;
        let site = site(&url)?;
        let id = ID_SITES
            .iter()
            .find(|&&(long, _, _)| site == long)
            .and_then(|&(_, short_host, at)| {
                Some(PageId {
                    id: at.find(&url)?,
                    at,
                    short_host,
                })
            });
        Some(Page {
            site,
            path: url.path().trim_end_matches('/').to_string(),
            query: url.query_pairs().into_owned().collect(),
            id,
        })
    }

    /// Whether a link found in a comment points at this page. The fragment never matters
    /// (`#comment-12` is still the page), nor does a query pair the permalink does not
    /// have.
    pub fn is_linked_by(&self, url: &Url) -> bool {
        let Some(site) = site(url) else {
            return false;
        };
        if site == self.site {
            let pairs = url.query_pairs();
            let same_address = url.path().trim_end_matches('/') == self.path
                && self.query.iter().all(|wanted| {
                    pairs
                        .clone()
                        .any(|(key, value)| key == wanted.0 && value == wanted.1)
                });
            return same_address
                || self
                    .id
                    .as_ref()
                    .is_some_and(|page| page.at.find(url).as_ref() == Some(&page.id));
        }
        self.id.as_ref().is_some_and(|page| {
            site == page.short_host
                && url
                    .path_segments()
                    .and_then(|mut segments| segments.next())
                    .is_some_and(|first| first == page.id)
        })
    }
}

/// The host a site is known by: [`link::host`] without the mobile `m.` in front.
fn site(url: &Url) -> Option<String> {
    let host = link::host(url)?;
    Some(match host.strip_prefix("m.") {
        Some(desktop) => desktop.to_string(),
        None => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(permalink: &str) -> Page {
        Page::of(permalink).expect("a readable permalink")
    }

    fn linked(page: &Page, link: &str) -> bool {
        link::parse(link).is_some_and(|url| page.is_linked_by(&url))
    }

    #[test]
    fn a_post_is_linked_by_its_address_anchors_and_mobile_site() {
        let post = page("https://Blog.Example.org/2026/11/moderation/");
        for link in [
            "https://blog.example.org/2026/11/moderation/",
            "http://BLOG.example.org:8080/2026/11/moderation",
            "blog.example.org/2026/11/moderation/#comment-12",
            "https://www.blog.example.org/2026/11/moderation/?utm_source=x",
            "https://m.blog.example.org/2026/11/moderation/).",
            "https://someone@blog.example.org/2026/11/moderation/",
        ] {
            assert!(linked(&post, link), "{link}");
        }
        for link in [
            "https://blog.example.org/2026/11/other-post/",
            "https://blog.example.org/",
            "https://spam.example.com/2026/11/moderation/",
            "https://blog.example.org.spam.example/2026/11/moderation/",
            "https://blog.example.org@spam.example/2026/11/moderation/",
            "https://blog.example.org/2026/11/MODERATION/",
            "not a link at all",
            "",
        ] {
            assert!(!linked(&post, link), "{link}");
        }
    }

    #[test]
    fn a_video_is_linked_by_its_id_with_a_start_time_or_a_short_link() {
        let video = page("https://www.youtube.com/watch?v=9bZkp7q19f0&list=PLabcdefgh");
        for link in [
            "http://www.youtube.com/watch?list=PLabcdefgh&t=2m19s&v=9bZkp7q19f0",
            "https://m.youtube.com/watch?feature=share&list=PLabcdefgh&v=9bZkp7q19f0",
            "http://youtu.be/9bZkp7q19f0",
            "https://youtu.be/9bZkp7q19f0?t=30",
        ] {
            assert!(linked(&video, link), "{link}");
        }
        // The video is the page, with or without the permalink's playlist.
        assert!(linked(&video, "http://www.youtube.com/watch?v=9bZkp7q19f0"));
        for link in [
            "http://www.youtube.com/watch?v=KQ6zr6kCPj8&list=PLabcdefgh",
            "http://www.youtube.com/watch?list=PLabcdefgh",
            "http://youtu.be/KQ6zr6kCPj8",
            // A short link names the video, not any value of the address.
            "http://youtu.be/PLabcdefgh",
            "http://youtu.be/watch",
            // A shortener's code is its own, even when it spells the page's id.
            "http://bit.ly/9bZkp7q19f0",
        ] {
            assert!(!linked(&video, link), "{link}");
        }
    }

    #[test]
    fn a_reddit_post_is_linked_by_its_short_link() {
        let post = page("https://www.reddit.com/r/rust/comments/1abcde/a_title/");
        assert!(linked(&post, "https://redd.it/1abcde"));
        assert!(linked(&post, "https://www.reddit.com/comments/1abcde/"));
        for link in [
            "https://redd.it/comments",
            "https://redd.it/rust",
            "https://redd.it/a_title",
        ] {
            assert!(!linked(&post, link), "{link}");
        }
        // A subreddit's page has no post id to shorten.
        assert!(!linked(
            &page("https://www.reddit.com/r/rust/"),
            "https://redd.it/rust"
        ));
    }

    #[test]
    fn a_page_needs_an_absolute_address_with_a_host_name() {
        for permalink in [
            "",
            "   ",
            "http://",
            "/2026/11/post/",
            "blog.example.org/2026/11/post/",
            "example",
            "http://localhost/post",
            "ftp://blog.example.org/post",
        ] {
            assert_eq!(Page::of(permalink), None, "{permalink:?}");
        }
        let root = page("https://blog.example.org");
        assert!(linked(&root, "blog.example.org/#comments"));
        assert!(!linked(&root, "blog.example.org/about"));
    }
}
