//! A submitted blog comment, as the domain sees it, and the checks that make it one.
//!
//! Everything downstream (rules, classifier, store) may assume a [`Comment`] passed
//! [`Comment::validate`]: ids are non-empty and bounded, the IP and e-mail parse. Validation
//! lives here rather than in the gRPC layer so that every entry point (gRPC, the `check`
//! CLI, training data) enforces the same contract.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::verdict::Timestamp;

/// The largest id a platform may send. Ids are stored inside sled keys, so they must stay small.
pub const MAX_ID_BYTES: usize = 256;
/// The limit for the short author and request fields (name, e-mail, URL, user agent, permalink).
pub const MAX_FIELD_BYTES: usize = 2048;

/// One comment, identified by the platform's own `(site_id, comment_id)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub site_id: String,
    pub comment_id: String,
    pub content: String,
    pub author_name: String,
    pub author_email: String,
    pub author_url: String,
    /// Empty when the platform did not send one; otherwise a valid IPv4 or IPv6 address.
    pub author_ip: String,
    pub user_agent: String,
    pub permalink: String,
    /// When the platform says the comment was written (to the microsecond); `None` when
    /// not sent. Kept for the record and for retraining, not used in decisions.
    pub submitted_at: Option<Timestamp>,
}

impl Comment {
    /// Checks the comment against the API contract. `max_content_bytes` is the operator's
    /// configured limit; the error names the first offending field.
    pub fn validate(&self, max_content_bytes: usize) -> Result<(), Error> {
        validate_id("comment.site_id", &self.site_id)?;
        validate_id("comment.comment_id", &self.comment_id)?;
        if self.content.trim().is_empty() {
            return Err(Error::invalid("comment.content", "must not be empty"));
        }
        if self.content.len() > max_content_bytes {
            return Err(Error::invalid(
                "comment.content",
                format!(
                    "is {} bytes, over the limit of {max_content_bytes} bytes",
                    self.content.len()
                ),
            ));
        }
        for (field, value) in [
            ("comment.author_name", &self.author_name),
            ("comment.author_email", &self.author_email),
            ("comment.author_url", &self.author_url),
            ("comment.author_ip", &self.author_ip),
            ("comment.user_agent", &self.user_agent),
            ("comment.permalink", &self.permalink),
        ] {
            if value.len() > MAX_FIELD_BYTES {
                return Err(Error::invalid(
                    field,
                    format!(
                        "is {} bytes, over the limit of {MAX_FIELD_BYTES}",
                        value.len()
                    ),
                ));
            }
        }
        if !self.author_ip.is_empty() && self.ip().is_none() {
            return Err(Error::invalid(
                "comment.author_ip",
                format!("{:?} is not an IPv4 or IPv6 address", self.author_ip),
            ));
        }
        if !self.author_email.is_empty() && email_domain(&self.author_email).is_none() {
            return Err(Error::invalid(
                "comment.author_email",
                format!("{:?} is not an e-mail address", self.author_email),
            ));
        }
        Ok(())
    }

    /// The author's IP, when one was sent and parses.
    pub fn ip(&self) -> Option<IpAddr> {
        self.author_ip.trim().parse().ok()
    }

    /// The lower-cased domain of the author's e-mail address.
    pub fn email_domain(&self) -> Option<String> {
        email_domain(&self.author_email)
    }

    /// The key under which an author earns trust: the lower-cased e-mail address, which the
    /// platform collected, rather than the display name, which anyone can type.
    pub fn author_key(&self) -> Option<String> {
        let email = self.author_email.trim();
        (!email.is_empty()).then(|| email.to_lowercase())
    }
}

/// Ids must be non-empty and bounded; control characters are refused because ids end up in
/// logs and storage keys.
pub fn validate_id(field: &'static str, id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(Error::invalid(
            field,
            format!("is {} bytes, over the limit of {MAX_ID_BYTES}", id.len()),
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(())
}

/// The lower-cased domain of an address like `local@example.org`, or `None` when the text is
/// not shaped like one. Deliberately modest: one `@`, a non-empty local part, a dotted domain
/// of letters, digits and hyphens, no whitespace. Anything stricter rejects real addresses.
pub fn email_domain(email: &str) -> Option<String> {
    let email = email.trim();
    let (local, domain) = email.split_once('@')?;
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return None;
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return None;
    }
    Some(domain.to_lowercase())
}

/// A valid comment with just `content` set, for unit tests anywhere in the crate.
#[cfg(test)]
pub(crate) fn sample(content: &str) -> Comment {
    Comment {
        site_id: "blog".into(),
        comment_id: "c".into(),
        content: content.into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment() -> Comment {
        Comment {
            site_id: "blog".into(),
            comment_id: "c1".into(),
            content: "Nice post".into(),
            ..Default::default()
        }
    }

    #[test]
    fn accepts_a_minimal_comment() {
        assert!(comment().validate(1024).is_ok());
    }

    /// A change that makes a valid comment invalid in exactly one field.
    type Breakage = fn(&mut Comment);

    #[test]
    fn names_the_offending_field() {
        let cases: [(&str, Breakage); 9] = [
            ("comment.site_id", |c| c.site_id.clear()),
            ("comment.comment_id", |c| c.comment_id.clear()),
            ("comment.content", |c| c.content = "   ".into()),
            ("comment.content", |c| c.content = "x".repeat(1025)),
            ("comment.author_ip", |c| c.author_ip = "300.1.1.1".into()),
            ("comment.author_email", |c| c.author_email = "bob".into()),
            ("comment.author_email", |c| c.author_email = "a@b".into()),
            ("comment.author_name", |c| c.author_name = "n".repeat(5000)),
            ("comment.site_id", |c| c.site_id = "a\nb".into()),
        ];
        for (field, mutate) in cases {
            let mut c = comment();
            mutate(&mut c);
            match c.validate(1024) {
                Err(Error::InvalidArgument { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn parses_ipv6_and_email_domains() {
        let mut c = comment();
        c.author_ip = "2001:db8::1".into();
        c.author_email = "Ann@Mail.Example.ORG".into();
        assert!(c.validate(1024).is_ok());
        assert_eq!(c.email_domain().as_deref(), Some("mail.example.org"));
        assert_eq!(c.author_key().as_deref(), Some("ann@mail.example.org"));
    }
}
