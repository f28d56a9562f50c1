//! Conversions between protobuf messages and domain types. Inbound conversions destructure
//! whole messages, so a field added to the proto does not compile until it is handled here.

use prost_types::Timestamp as PbTimestamp;

use super::pb;
use crate::comment::Comment;
use crate::error::Error;
use crate::verdict::{Decision, Label, Reason, Resolution, Timestamp, Verdict};

/// A required message field: `None` is the client forgetting it.
pub fn required<T>(value: Option<T>, field: &'static str) -> Result<T, Error> {
    value.ok_or_else(|| Error::invalid(field, "is required"))
}

pub fn comment_from_pb(comment: pb::Comment) -> Result<Comment, Error> {
    let pb::Comment {
        site_id,
        comment_id,
        content,
        author_name,
        author_email,
        author_url,
        author_ip,
        user_agent,
        permalink,
        submitted_at,
    } = comment;
    Ok(Comment {
        site_id,
        comment_id,
        content,
        author_name,
        author_email,
        author_url,
        author_ip,
        user_agent,
        permalink,
        submitted_at: submitted_at.map(timestamp_from_pb).transpose()?,
    })
}

impl From<Comment> for pb::Comment {
    fn from(c: Comment) -> Self {
        pb::Comment {
            site_id: c.site_id,
            comment_id: c.comment_id,
            content: c.content,
            author_name: c.author_name,
            author_email: c.author_email,
            author_url: c.author_url,
            author_ip: c.author_ip,
            user_agent: c.user_agent,
            permalink: c.permalink,
            submitted_at: c.submitted_at.map(timestamp_to_pb),
        }
    }
}

/// A verdict a client sends; the zero value and numbers this server does not know are refused.
pub fn verdict_from_pb(value: i32, field: &'static str) -> Result<Verdict, Error> {
    match pb::Verdict::try_from(value) {
        Ok(pb::Verdict::Approve) => Ok(Verdict::Approve),
        Ok(pb::Verdict::Hold) => Ok(Verdict::Hold),
        Ok(pb::Verdict::Reject) => Ok(Verdict::Reject),
        Ok(pb::Verdict::Unspecified) => Err(Error::invalid(field, "must be specified")),
        Err(_) => Err(Error::invalid(field, format!("has unknown value {value}"))),
    }
}

pub fn label_from_pb(value: i32, field: &'static str) -> Result<Label, Error> {
    match pb::Label::try_from(value) {
        Ok(pb::Label::Spam) => Ok(Label::Spam),
        Ok(pb::Label::Ham) => Ok(Label::Ham),
        Ok(pb::Label::Unspecified) => Err(Error::invalid(field, "must be specified")),
        Err(_) => Err(Error::invalid(field, format!("has unknown value {value}"))),
    }
}

fn verdict_to_pb(verdict: Verdict) -> pb::Verdict {
    match verdict {
        Verdict::Approve => pb::Verdict::Approve,
        Verdict::Hold => pb::Verdict::Hold,
        Verdict::Reject => pb::Verdict::Reject,
    }
}

/// A client's timestamp, to the microsecond. Values `google.protobuf.Timestamp` does not
/// allow (nanos outside `0..1e9`, a time outside the years 1 to 9999) are refused: stored,
/// one would come back in every page of the review queue, and JSON tools (grpcurl, `buf
/// curl`) refuse to print such a timestamp, so the page could no longer be read with them.
fn timestamp_from_pb(t: PbTimestamp) -> Result<Timestamp, Error> {
    let invalid = || {
        Error::invalid(
            "comment.submitted_at",
            "is not a valid timestamp (years 1 to 9999, nanos 0 to 999,999,999)",
        )
    };
    if !(0..1_000_000_000).contains(&t.nanos) || !TIMESTAMP_SECONDS.contains(&t.seconds) {
        return Err(invalid());
    }
    t.seconds
        .checked_mul(1_000_000)
        .and_then(|micros| micros.checked_add(i64::from(t.nanos / 1_000)))
        .map(Timestamp)
        .ok_or_else(invalid)
}

/// The seconds of `google.protobuf.Timestamp`'s range: 0001-01-01T00:00:00Z to
/// 9999-12-31T23:59:59Z.
const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

fn timestamp_to_pb(t: Timestamp) -> PbTimestamp {
    PbTimestamp {
        seconds: t.0.div_euclid(1_000_000),
        nanos: (t.0.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

impl From<Decision> for pb::Decision {
    fn from(d: Decision) -> Self {
        pb::Decision {
            site_id: d.site_id,
            comment_id: d.comment_id,
            verdict: verdict_to_pb(d.verdict) as i32,
            spam_probability: d.spam_probability,
            reasons: d.reasons.into_iter().map(Into::into).collect(),
            model_version: d.model_version,
            decided_at: Some(timestamp_to_pb(d.decided_at)),
            resolution: d.resolution.map(Into::into),
        }
    }
}

impl From<Reason> for pb::Reason {
    fn from(r: Reason) -> Self {
        pb::Reason {
            code: r.code,
            message: r.message,
            effect: r.effect.map_or(pb::Verdict::Unspecified, verdict_to_pb) as i32,
        }
    }
}

impl From<Resolution> for pb::Resolution {
    fn from(r: Resolution) -> Self {
        pb::Resolution {
            verdict: verdict_to_pb(r.verdict) as i32,
            resolved_at: Some(timestamp_to_pb(r.resolved_at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_refuse_zero_and_unknown_values() {
        assert!(verdict_from_pb(0, "verdict").is_err());
        assert!(verdict_from_pb(99, "verdict").is_err());
        assert_eq!(verdict_from_pb(3, "verdict").unwrap(), Verdict::Reject);
        assert!(label_from_pb(0, "label").is_err());
        assert_eq!(label_from_pb(1, "label").unwrap(), Label::Spam);
    }

    #[test]
    fn timestamps_keep_microseconds() {
        let t = timestamp_to_pb(Timestamp(1_700_000_000_123_456));
        assert_eq!((t.seconds, t.nanos), (1_700_000_000, 123_456_000));
        assert_eq!(
            timestamp_from_pb(t).unwrap(),
            Timestamp(1_700_000_000_123_456)
        );
        let before_1970 = timestamp_to_pb(Timestamp(-1));
        assert_eq!(timestamp_from_pb(before_1970).unwrap(), Timestamp(-1));
        for seconds in [-62_135_596_800, 253_402_300_799] {
            let edge = PbTimestamp { seconds, nanos: 0 };
            assert_eq!(
                timestamp_from_pb(edge).unwrap(),
                Timestamp(seconds * 1_000_000)
            );
        }
    }

    #[test]
    fn impossible_timestamps_are_refused_with_the_field() {
        for (seconds, nanos) in [
            (0, -1),
            (0, 1_000_000_000),
            (i64::MAX, 0),
            (i64::MIN, 0),
            (2_000_000_000_000, 0),
            (253_402_300_800, 0),
            (-62_135_596_801, 0),
        ] {
            match timestamp_from_pb(PbTimestamp { seconds, nanos }) {
                Err(Error::InvalidArgument { field, .. }) => {
                    assert_eq!(field, "comment.submitted_at")
                }
                other => panic!("({seconds}, {nanos}) gave {other:?}"),
            }
        }
    }
}
