//! The one error type of the service's domain. Each variant is a decision about what the
//! caller did wrong (or didn't); `api::status` maps each to exactly one gRPC code.

use std::borrow::Cow;

/// What can go wrong while handling a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is wrong; `field` names the offending field in the API's terms.
    #[error("{field} {reason}")]
    InvalidArgument {
        field: Cow<'static, str>,
        reason: String,
    },
    /// The thing the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but the thing is in the wrong state for it
    /// (e.g. resolving a comment that is not held).
    #[error("{0}")]
    FailedPrecondition(String),
    /// Storage failed. The cause is logged, never sent to callers.
    #[error("storage failure: {0}")]
    Storage(#[from] sled::Error),
    /// A stored record could not be decoded: a bug or corruption, never the caller's fault.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

impl Error {
    pub fn invalid(field: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<sled::transaction::TransactionError<Error>> for Error {
    fn from(e: sled::transaction::TransactionError<Error>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Error::Storage(e),
        }
    }
}
