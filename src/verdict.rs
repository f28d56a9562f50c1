//! Verdicts, labels and the decision record: what the service concluded about a comment and
//! why. These are the domain's own types; `api` converts them to and from protobuf.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What should happen to a comment. Ordered by severity, so the strongest of several
/// opinions is simply the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Verdict {
    Approve,
    Hold,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Hold => "hold",
            Verdict::Reject => "reject",
        }
    }
}

/// A human judgement of a comment, kept to retrain the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Label {
    Spam,
    Ham,
}

/// One reason behind a decision. `code` is stable for machines, `message` is for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
    /// The verdict this reason argues for; `None` for purely informational reasons.
    pub effect: Option<Verdict>,
}

/// An operator's resolution of a held comment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub verdict: Verdict,
    pub resolved_at: Timestamp,
}

/// The moderation decision for one comment, exactly as it is stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub site_id: String,
    pub comment_id: String,
    pub verdict: Verdict,
    pub spam_probability: f64,
    pub reasons: Vec<Reason>,
    pub model_version: String,
    pub decided_at: Timestamp,
    pub resolution: Option<Resolution>,
}

impl Decision {
    /// A decision is in the review queue exactly when it was held and nobody resolved it yet.
    pub fn awaits_review(&self) -> bool {
        self.verdict == Verdict::Hold && self.resolution.is_none()
    }
}

/// Microseconds since the Unix epoch. A plain integer keeps stored records compact and
/// ordering trivial; `api` turns it into a `google.protobuf.Timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Timestamp(micros)
    }

    #[cfg(test)]
    pub fn from_unix_seconds(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000))
    }

    pub fn minus_seconds(self, secs: u64) -> Self {
        Timestamp(
            self.0
                .saturating_sub((secs as i64).saturating_mul(1_000_000)),
        )
    }
}
