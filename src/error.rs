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
    /// Storage I/O failed: worth a retry. The cause is logged, never sent to callers.
    #[error("storage failure: {0}")]
    Storage(sled::Error),
    /// The database or a stored record is corrupt, or sled hit a bug: never the caller's
    /// fault, and not worth a retry.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// A bug in the service itself (a store call panicked): like corruption, never the
    /// caller's fault and not worth a retry, which would meet the same bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Only an I/O failure may pass with a retry; sled's other errors (corruption, a bug in sled,
/// an unsupported database) will not, and a client told "unavailable" would retry forever.
impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Io(_) => Error::Storage(e),
            other => Error::Corrupt(other.to_string()),
        }
    }
}

impl From<sled::transaction::TransactionError<Error>> for Error {
    fn from(e: sled::transaction::TransactionError<Error>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Error::from(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_io_failures_are_retryable() {
        let io = sled::Error::Io(std::io::Error::other("disk full"));
        assert!(matches!(Error::from(io), Error::Storage(_)));
        let corrupt = sled::Error::Corruption { at: None, bt: () };
        assert!(matches!(Error::from(corrupt), Error::Corrupt(_)));
        let bug = sled::Error::ReportableBug("oops".into());
        assert!(matches!(Error::from(bug), Error::Corrupt(_)));
    }
}
