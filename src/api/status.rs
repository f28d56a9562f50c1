//! The single mapping from domain errors to gRPC statuses (AIP-193): a canonical code, a
//! message that says what was wrong, and structured details — a `BadRequest` field violation
//! for bad arguments, an `ErrorInfo` with a stable reason for everything. Internal causes are
//! logged here and never sent to callers.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::Error;

const DOMAIN: &str = "commentguard";

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        let (code, reason, mut details) = match &error {
            Error::InvalidArgument { field, reason } => (
                Code::InvalidArgument,
                "INVALID_ARGUMENT",
                ErrorDetails::with_bad_request_violation(field.to_string(), reason.clone()),
            ),
            Error::NotFound(_) => (Code::NotFound, "NOT_FOUND", ErrorDetails::new()),
            Error::FailedPrecondition(_) => (
                Code::FailedPrecondition,
                "FAILED_PRECONDITION",
                ErrorDetails::new(),
            ),
            Error::Storage(_) => {
                return Status::with_error_details(
                    Code::Unavailable,
                    "storage is unavailable; retry later",
                    ErrorDetails::with_error_info("STORAGE_UNAVAILABLE", DOMAIN, HashMap::new()),
                );
            }
            Error::Corrupt(_) | Error::Internal(_) => {
                return Status::with_error_details(
                    Code::Internal,
                    "internal error; the cause is in the server log",
                    ErrorDetails::with_error_info("INTERNAL", DOMAIN, HashMap::new()),
                );
            }
        };
        details.set_error_info(reason, DOMAIN, HashMap::new());
        Status::with_error_details(code, message, details)
    }
}

/// Logs a failed request at the level its cause deserves: caller mistakes are routine.
pub fn log(error: &Error) {
    match error {
        Error::InvalidArgument { .. } | Error::NotFound(_) | Error::FailedPrecondition(_) => {
            tracing::info!(error = %error, "refused");
        }
        Error::Storage(_) | Error::Corrupt(_) | Error::Internal(_) => {
            tracing::error!(error = %error, "failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_names_the_field() {
        let status = Status::from(Error::invalid("comment.author_ip", "is not an IP"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "comment.author_ip is not an IP");
        let details = status.get_error_details();
        let violation = &details.bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "comment.author_ip");
        assert_eq!(details.error_info().unwrap().reason, "INVALID_ARGUMENT");
    }

    #[test]
    fn internal_causes_stay_private() {
        for error in [
            Error::Corrupt("secret path /var/x".into()),
            Error::Internal("a store call panicked: secret".into()),
        ] {
            let status = Status::from(error);
            assert_eq!(status.code(), Code::Internal);
            assert!(!status.message().contains("secret"));
        }
    }
}
