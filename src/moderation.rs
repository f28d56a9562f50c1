//! The decision step: rule hits, history signals and the classifier's score in, one verdict
//! with its reasons out. Pure and infallible: odd input is a verdict, never an error.
//!
//! Precedence, strongest first:
//! 1. a rule that rejects (blocked term, IP, e-mail domain, duplicate) rejects;
//! 2. for a trusted author (an operator approved, or the backend reported as ham, an earlier
//!    comment of theirs) the classifier counts only when it is very sure of spam
//!    (`trusted_reject_threshold`); below that the comment is approved, or held when a rule
//!    holds it: trust sets the classifier aside, never a rule;
//! 3. otherwise the stronger of the rules' hold and the classifier's thresholds wins.

use crate::classifier::Score;
use crate::comment::Comment;
use crate::rules::{Policy, Signals};
use crate::verdict::{Reason, Verdict};

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub verdict: Verdict,
    /// Strongest first: reasons that argue for the final verdict lead.
    pub reasons: Vec<Reason>,
}

pub fn decide(policy: &Policy, comment: &Comment, signals: &Signals, score: &Score) -> Assessment {
    let p = score.spam_probability;
    let mut reasons = policy.evaluate(comment, signals);
    let rule_verdict = reasons.iter().filter_map(|r| r.effect).max();
    let classifier_verdict = policy.verdict_for_probability(p);
    let trusted = policy.trust_approved_authors && signals.trusted_author;

    let verdict = if rule_verdict == Some(Verdict::Reject) {
        Verdict::Reject
    } else if trusted && p < policy.trusted_reject_threshold {
        reasons.push(Reason {
            code: "rule.trusted_author".into(),
            message: "an earlier comment of this author was approved or reported as ham".into(),
            effect: Some(Verdict::Approve),
        });
        rule_verdict.unwrap_or(Verdict::Approve)
    } else {
        rule_verdict.map_or(classifier_verdict, |v| v.max(classifier_verdict))
    };

    reasons.push(classifier_reason(policy, score, classifier_verdict));
    // Stable sort: within one effect, rules keep their evaluation order.
    reasons.sort_by_key(|r| std::cmp::Reverse(effect_rank(r.effect, verdict)));
    Assessment { verdict, reasons }
}

/// Reasons that agree with the final verdict come first, then by severity.
fn effect_rank(effect: Option<Verdict>, verdict: Verdict) -> (bool, Option<Verdict>) {
    (effect == Some(verdict), effect)
}

fn classifier_reason(policy: &Policy, score: &Score, verdict: Verdict) -> Reason {
    let p = score.spam_probability;
    let threshold = match verdict {
        Verdict::Reject => format!(
            "at or above the reject threshold {}",
            policy.reject_threshold
        ),
        Verdict::Hold => format!("at or above the hold threshold {}", policy.hold_threshold),
        Verdict::Approve => format!("below the hold threshold {}", policy.hold_threshold),
    };
    let mut message = format!("spam probability {p:.3}, {threshold}");
    if !score.contributions.is_empty() {
        let signals: Vec<String> = score
            .contributions
            .iter()
            .map(|c| format!("{} {:+.1}", c.feature, c.weight))
            .collect();
        message.push_str("; strongest signals: ");
        message.push_str(&signals.join(", "));
    }
    Reason {
        code: "classifier.score".into(),
        message,
        effect: Some(verdict),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comment::sample as comment;

    fn policy(toml_text: &str) -> Policy {
        Policy::from_table(&toml_text.parse::<toml::Table>().unwrap()).unwrap()
    }

    fn score(p: f64) -> Score {
        Score {
            spam_probability: p,
            contributions: Vec::new(),
        }
    }

    /// One table of cases: (policy, content, signals, probability) -> verdict and lead code.
    #[test]
    fn precedence_table() {
        let trusted = Signals {
            trusted_author: true,
            ..Default::default()
        };
        let dup = Signals {
            duplicate_of: Some("c0".into()),
            ..Default::default()
        };
        let none = Signals::default();
        let base = "blocked_terms = [\"casino\"]\nmoderation_terms = [\"refund\"]";
        let cases: &[(&str, &Signals, f64, Verdict, &str)] = &[
            (
                "nice post",
                &none,
                0.1,
                Verdict::Approve,
                "classifier.score",
            ),
            ("nice post", &none, 0.6, Verdict::Hold, "classifier.score"),
            (
                "nice post",
                &none,
                0.99,
                Verdict::Reject,
                "classifier.score",
            ),
            (
                "casino bonus",
                &none,
                0.01,
                Verdict::Reject,
                "rule.blocked_term",
            ),
            (
                "casino bonus",
                &trusted,
                0.01,
                Verdict::Reject,
                "rule.blocked_term",
            ),
            (
                "I want a refund",
                &none,
                0.01,
                Verdict::Hold,
                "rule.moderation_term",
            ),
            (
                "I want a refund",
                &trusted,
                0.01,
                Verdict::Hold,
                "rule.moderation_term",
            ),
            // Trust sets aside a classifier that is not very sure, never a holding rule.
            (
                "I want a refund",
                &trusted,
                0.995,
                Verdict::Hold,
                "rule.moderation_term",
            ),
            (
                "I want a refund",
                &none,
                0.99,
                Verdict::Reject,
                "classifier.score",
            ),
            (
                "nice post",
                &trusted,
                0.995,
                Verdict::Approve,
                "rule.trusted_author",
            ),
            (
                "nice post",
                &trusted,
                0.9995,
                Verdict::Reject,
                "classifier.score",
            ),
            ("nice post", &dup, 0.01, Verdict::Reject, "rule.duplicate"),
        ];
        let p = policy(base);
        for (content, signals, prob, verdict, lead) in cases {
            let a = decide(&p, &comment(content), signals, &score(*prob));
            assert_eq!(a.verdict, *verdict, "{content:?} p={prob}");
            assert_eq!(
                a.reasons[0].code, *lead,
                "{content:?} p={prob}: {:?}",
                a.reasons
            );
            assert!(a.reasons.iter().any(|r| r.code == "classifier.score"));
        }
    }

    #[test]
    fn trust_can_be_switched_off() {
        let p = policy("trust_approved_authors = false");
        let trusted = Signals {
            trusted_author: true,
            ..Default::default()
        };
        let a = decide(&p, &comment("hi"), &trusted, &score(0.7));
        assert_eq!(a.verdict, Verdict::Hold);
    }

    #[test]
    fn classifier_reason_names_its_signals() {
        let s = Score {
            spam_probability: 0.97,
            contributions: vec![crate::classifier::Contribution {
                feature: "word 'subscribe'".into(),
                weight: 2.13,
            }],
        };
        let a = decide(&policy(""), &comment("subscribe"), &Signals::default(), &s);
        assert!(
            a.reasons[0].message.contains("word 'subscribe' +2.1"),
            "{}",
            a.reasons[0].message
        );
    }
}
