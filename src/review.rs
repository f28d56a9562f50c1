//! The human review queue: held comments, oldest first, and their resolution by operators.
//!
//! Paging follows AIP-158: `page_size` is a maximum (50 by default, capped at 500; a page of
//! long comments also ends before it would outgrow what stock clients accept), and the
//! page token is opaque to clients but records the queue position and the site filter it was
//! issued for, so a token replayed with a different filter is refused instead of silently
//! skipping or repeating comments.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::comment::validate_id;
use crate::error::Error;
use crate::store::{Record, Store};
use crate::verdict::{Decision, Resolution, Timestamp, Verdict};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;
/// Stored bytes of held comments per page. Stock gRPC clients refuse responses over 4 MiB,
/// and a queue of long comments would pass that well before `MAX_PAGE_SIZE`; the stored
/// JSON is larger than the protobuf encoding, so 3 MiB of it leaves headroom.
const PAGE_BYTES: usize = 3 * 1024 * 1024;

/// One page of held comments.
#[derive(Debug)]
pub struct Page {
    pub held: Vec<Record>,
    /// Empty when this is the last page.
    pub next_page_token: String,
}

pub struct ReviewQueue {
    store: Arc<Store>,
}

impl ReviewQueue {
    pub fn new(store: Arc<Store>) -> Self {
        ReviewQueue { store }
    }

    /// Lists held comments of `site_id` (every site when empty).
    pub async fn list(
        &self,
        site_id: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<Page, Error> {
        if !site_id.is_empty() {
            validate_id("site_id", site_id)?;
        }
        let limit = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => return Err(Error::invalid("page_size", "must not be negative")),
            n => (n as usize).min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(PageToken::decode(page_token)?.position_for(site_id)?)
        };
        let site = (!site_id.is_empty()).then(|| site_id.to_string());
        let (held, more) = self
            .store
            .blocking(move |store| store.list_held(site.as_deref(), after, limit, PAGE_BYTES))
            .await?;
        let next_page_token = match (more, held.last()) {
            (true, Some(&(last, _))) => PageToken {
                site_id: site_id.to_string(),
                after: last,
            }
            .encode(),
            _ => String::new(),
        };
        Ok(Page {
            held: held.into_iter().map(|(_, record)| record).collect(),
            next_page_token,
        })
    }

    /// Approves or rejects a held comment. The store records the resolution, the training
    /// label and the author's trust together; this returns once that is durable.
    pub async fn resolve(
        &self,
        site_id: &str,
        comment_id: &str,
        verdict: Verdict,
    ) -> Result<Decision, Error> {
        validate_id("site_id", site_id)?;
        validate_id("comment_id", comment_id)?;
        if verdict == Verdict::Hold {
            return Err(Error::invalid(
                "verdict",
                "must be VERDICT_APPROVE or VERDICT_REJECT to resolve a held comment",
            ));
        }
        let resolution = Resolution {
            verdict,
            resolved_at: Timestamp::now(),
        };
        let (site, comment) = (site_id.to_string(), comment_id.to_string());
        let record = self
            .store
            .blocking(move |store| store.resolve(&site, &comment, resolution))
            .await?;
        self.store.flush().await?;
        Ok(record.decision)
    }
}

/// What a page token carries: the queue position of the last item returned and the filter.
#[derive(Debug, PartialEq)]
struct PageToken {
    site_id: String,
    after: u64,
}

impl PageToken {
    const VERSION: &'static str = "v1";

    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}\n{}\n{}",
            Self::VERSION,
            self.after,
            self.site_id
        ))
    }

    fn decode(token: &str) -> Result<PageToken, Error> {
        let invalid = || Error::invalid("page_token", "is not a page token this server issued");
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.splitn(3, '\n');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(Self::VERSION), Some(after), Some(site_id)) => Ok(PageToken {
                after: after.parse().map_err(|_| invalid())?,
                site_id: site_id.to_string(),
            }),
            _ => Err(invalid()),
        }
    }

    fn position_for(self, site_id: &str) -> Result<u64, Error> {
        if self.site_id != site_id {
            return Err(Error::invalid(
                "page_token",
                format!(
                    "was issued for site_id {:?}, not {site_id:?}; request fields must not \
                     change between pages",
                    self.site_id
                ),
            ));
        }
        Ok(self.after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let token = PageToken {
            site_id: "blog".into(),
            after: 42,
        };
        let text = token.encode();
        assert_eq!(PageToken::decode(&text).unwrap(), token);
        assert!(PageToken::decode("garbage!").is_err());
        assert!(PageToken::decode(&URL_SAFE_NO_PAD.encode("v9\n1\nx")).is_err());
        assert!(
            PageToken::decode(&text)
                .unwrap()
                .position_for("other")
                .is_err()
        );
    }
}
