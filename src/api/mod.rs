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
