//! The gRPC boundary: the only code that knows protobuf types. Each handler converts the
//! request into domain values, calls the domain, and converts the answer back; nothing here
//! decides anything about comments.

mod auth;
mod convert;
mod moderation;
mod review;
mod status;

use std::future::Future;
use std::time::Instant;

use tonic::Status;
use tracing::{Instrument, Span};

use crate::error::Error;
use crate::verdict::Verdict;

pub use auth::authorizer;
pub use moderation::ModerationApi;
pub use review::ReviewApi;

/// The generated protobuf and tonic code for `commentguard.v1`.
pub mod pb {
    #![allow(clippy::all)]
    tonic::include_proto!("commentguard.v1");

    /// Everything `proto/` defines, with its imports, for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("commentguard_descriptor");
}

/// Longest id, in characters, that a log line shows.
const MAX_LOGGED_ID_CHARS: usize = 128;

/// An id as it may appear in a log. Spans open before validation, so the id is whatever the
/// caller sent: control characters are escaped (a newline must not forge a log line) and the
/// length is capped (a megabyte id must not become a megabyte log line).
fn loggable(id: &str) -> String {
    let mut shown = String::with_capacity(id.len().min(MAX_LOGGED_ID_CHARS));
    for c in id.chars().take(MAX_LOGGED_ID_CHARS) {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if id.chars().nth(MAX_LOGGED_ID_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// Runs one RPC inside `span` (which declares `verdict` and `latency_us` fields), records the
/// outcome on it, and maps a domain error to its status.
async fn traced<T>(
    span: Span,
    work: impl Future<Output = Result<T, Error>>,
    verdict_of: impl FnOnce(&T) -> Option<Verdict>,
) -> Result<T, Status> {
    let started = Instant::now();
    let result = work.instrument(span.clone()).await;
    // Whole microseconds: exact in every log format, and sub-millisecond RPCs stay visible.
    span.record(
        "latency_us",
        u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    let _entered = span.enter();
    match &result {
        Ok(value) => {
            if let Some(verdict) = verdict_of(value) {
                span.record("verdict", verdict.as_str());
            }
            tracing::info!("ok");
        }
        Err(error) => status::log(error),
    }
    result.map_err(Status::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_forge_or_flood_log_lines() {
        assert_eq!(loggable("blog-1"), "blog-1");
        assert_eq!(
            loggable("blog\n2099-01-01 INFO forged\r\u{1b}[2J"),
            "blog\\n2099-01-01 INFO forged\\r\\u{1b}[2J"
        );
        let long = loggable(&"é".repeat(1000));
        assert_eq!(long.chars().count(), MAX_LOGGED_ID_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
