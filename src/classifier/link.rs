//! Reading a link as comments write it (with or without a scheme, wrapped in punctuation)
//! into a URL and the host that names its site. Feature extraction and the page check read
//! links through here, so they agree on what a link's host is; the link rule counts the links
//! extraction finds, and reads them here to recognise links to the page.

use url::Url;

/// A link as found in a comment: trailing punctuation trimmed, `http://` assumed when it
/// has no scheme. `None` when it is not a readable URL.
pub fn parse(raw: &str) -> Option<Url> {
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

/// The link's host, lower-case and without `www.`; `None` for a host without a dot
/// (`http://localhost`, a typo), which says nothing about a site, or with an empty label
/// (`awww.`).
pub fn host(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    (host.contains('.') && !host.split('.').any(str::is_empty)).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_of(raw: &str) -> Option<String> {
        parse(raw).as_ref().and_then(host)
    }

    #[test]
    fn links_read_with_or_without_scheme_and_punctuation() {
        assert_eq!(host_of("(www.Example.com/x)."), Some("example.com".into()));
        assert_eq!(host_of("HTTPS://Bit.ly/abc!"), Some("bit.ly".into()));
        assert_eq!(
            host_of("http://user@evil.example/"),
            Some("evil.example".into())
        );
        assert_eq!(host_of("http://localhost/x"), None);
        assert_eq!(host_of("http://awww./x"), None);
        assert_eq!(host_of("not a link"), None);
        assert_eq!(host_of(" ... "), None);
    }
}
