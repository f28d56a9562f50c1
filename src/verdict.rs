//! Verdicts, labels and the decision record: what the service concluded about a comment and
//! why. These are the domain's own types; `api` converts them to and from protobuf.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

    /// RFC 3339 in UTC, to the microsecond (`2025-11-28T03:20:00.123456Z`), for files that
    /// people and other tools read. `None` before 1970, which humantime does not write, and
    /// from the year 10000 on, which RFC 3339 cannot: only a client's broken clock gets there.
    pub fn to_rfc3339(self) -> Option<String> {
        /// 10000-01-01T00:00:00Z in seconds since the epoch.
        const YEAR_10000: u64 = 253_402_300_800;
        let micros = u64::try_from(self.0).ok()?;
        (micros / 1_000_000 < YEAR_10000).then(|| {
            humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_micros(micros)).to_string()
        })
    }

    pub fn minus_seconds(self, secs: u64) -> Self {
        Timestamp(
            self.0
                .saturating_sub((secs as i64).saturating_mul(1_000_000)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exported labels carry these strings; no time a client can send panics.
    #[test]
    fn timestamps_print_as_rfc3339() {
        let printed = |micros| Timestamp(micros).to_rfc3339();
        assert_eq!(printed(0).unwrap(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            printed(1_764_300_000_123_456).unwrap(),
            "2025-11-28T03:20:00.123456Z"
        );
        assert_eq!(
            printed(253_402_300_799_999_999).unwrap(),
            "9999-12-31T23:59:59.999999Z"
        );
        for outside in [-1, i64::MIN, 253_402_300_800_000_000, i64::MAX] {
            assert_eq!(printed(outside), None, "{outside}");
        }
    }
}
