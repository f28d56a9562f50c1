//! The decision step: rule hits, history signals and the classifier's score in, one verdict
//! with its reasons out. Pure and infallible: odd input is a verdict, never an error.
//!
//! Precedence, strongest first:
//! 1. a rule that rejects (blocked term, IP, e-mail domain, duplicate) rejects;
//! 2. for a trusted author (an operator approved, or the backend reported as ham, an earlier
//!    comment of theirs) the classifier counts only when it is very sure of spam
//!    (`trusted_reject_threshold`); below that the comment is approved, or held when a rule
//!    holds it: trust sets the classifier aside, never a rule;
//! 3. otherwise the stronger of the rules' hold and the classifier's thresholds wins, where
//!    the classifier's links alone never reject ([`Score::verdict`]): a comment that only
//!    its links push past the reject threshold is held.

use crate::classifier::{Contribution, Score};
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
    let classifier_verdict = score.verdict(&policy.thresholds);
    let trusted = policy.trust_approved_authors && signals.trusted_author;

    let verdict = if rule_verdict == Some(Verdict::Reject) {
        Verdict::Reject
    } else if trusted && p < policy.thresholds.trusted_reject {
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

/// "held: 'subscribe' +2.1, 'my channel' +1.7, link to bit.ly +1.5; despite 'thanks' -0.8
/// (spam probability 0.962, at or above the hold threshold 0.45)": the verdict first, then
/// the features that argued for it, strongest first, then those among the strongest that
/// argued against it, then the number behind it. An operator reading an approval needs to
/// see the link that nearly held it as much as the words that outweighed it.
fn classifier_reason(policy: &Policy, score: &Score, verdict: Verdict) -> Reason {
    let p = score.spam_probability;
    let (word, threshold) = match verdict {
        Verdict::Hold if score.links_alone_reject(&policy.thresholds) => (
            "held",
            format!(
                "at or above the reject threshold {:.3} only by its links' evidence, which \
                 alone never rejects",
                policy.thresholds.reject
            ),
        ),
        Verdict::Reject => (
            "rejected",
            format!(
                "at or above the reject threshold {:.3}",
                policy.thresholds.reject
            ),
        ),
        Verdict::Hold => (
            "held",
            format!(
                "at or above the hold threshold {:.3}",
                policy.thresholds.hold
            ),
        ),
        Verdict::Approve => (
            "approved",
            format!("below the hold threshold {:.3}", policy.thresholds.hold),
        ),
    };
    let toward_spam = verdict != Verdict::Approve;
    // A weight that prints as ±0.0 names a feature that pushed nowhere.
    let (agreeing, opposing): (Vec<&Contribution>, Vec<&Contribution>) = score
        .contributions
        .iter()
        .filter(|c| c.weight.abs() >= 0.05)
        .partition(|c| (c.weight > 0.0) == toward_spam);
    let listed = |contributions: &[&Contribution]| {
        contributions
            .iter()
            .map(|c| format!("{} {:+.1}", c.feature, c.weight))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let features = match (agreeing.is_empty(), opposing.is_empty()) {
        (true, true) => ": no known words".to_string(),
        (false, true) => format!(": {}", listed(&agreeing)),
        (true, false) => format!(" despite {}", listed(&opposing)),
        (false, false) => format!(": {}; despite {}", listed(&agreeing), listed(&opposing)),
    };
    let message = format!("{word}{features} (spam probability {p:.3}, {threshold})");
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

    /// A score whose comment has no link evidence.
    fn score(p: f64) -> Score {
        Score {
            spam_probability: p,
            spam_probability_without_links: p,
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
    fn classifier_reason_leads_with_the_verdict_and_the_features_behind_it() {
        let contribution = |feature: &str, weight: f64| Contribution {
            feature: feature.into(),
            weight,
        };
        let contributions = vec![
            contribution("'subscribe'", 2.13),
            contribution("'thanks'", -1.9),
            contribution("'my channel'", 1.68),
            contribution("link to bit.ly", 1.5),
        ];
        let decide_at = |p: f64| {
            let s = Score {
                contributions: contributions.clone(),
                ..score(p)
            };
            decide(&policy(""), &comment("x"), &Signals::default(), &s).reasons[0]
                .message
                .clone()
        };
        assert_eq!(
            decide_at(0.9),
            "held: 'subscribe' +2.1, 'my channel' +1.7, link to bit.ly +1.5; despite \
             'thanks' -1.9 (spam probability 0.900, at or above the hold threshold 0.500)"
        );
        assert!(decide_at(0.995).starts_with("rejected: 'subscribe' +2.1,"));
        assert_eq!(
            decide_at(0.2),
            "approved: 'thanks' -1.9; despite 'subscribe' +2.1, 'my channel' +1.7, link to \
             bit.ly +1.5 (spam probability 0.200, below the hold threshold 0.500)"
        );
        let only_against = Score {
            contributions: vec![contribution("one link", 0.4), contribution("'me'", 0.01)],
            ..score(0.2)
        };
        let a = decide(
            &policy(""),
            &comment("x"),
            &Signals::default(),
            &only_against,
        );
        assert_eq!(
            a.reasons[0].message,
            "approved despite one link +0.4 (spam probability 0.200, below the hold \
             threshold 0.500)"
        );
        let a = decide(&policy(""), &comment("x"), &Signals::default(), &score(0.4));
        assert!(a.reasons[0].message.starts_with("approved: no known words"));
    }

    /// A citation that only its link pushes past the reject threshold is held, and the
    /// reason says why; with enough evidence besides the link, it is rejected.
    #[test]
    fn links_alone_never_reject() {
        let cited = Score {
            spam_probability: 0.995,
            spam_probability_without_links: 0.1,
            contributions: vec![Contribution {
                feature: "one link".into(),
                weight: 2.6,
            }],
        };
        let a = decide(&policy(""), &comment("x"), &Signals::default(), &cited);
        assert_eq!(a.verdict, Verdict::Hold);
        assert_eq!(
            a.reasons[0].message,
            "held: one link +2.6 (spam probability 0.995, at or above the reject threshold \
             0.990 only by its links' evidence, which alone never rejects)"
        );
        let spammy = Score {
            spam_probability_without_links: 0.6,
            ..cited.clone()
        };
        let a = decide(&policy(""), &comment("x"), &Signals::default(), &spammy);
        assert_eq!(a.verdict, Verdict::Reject);
    }
}
