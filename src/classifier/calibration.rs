//! Turning naive-Bayes log-odds into probabilities that mean what they say, and choosing the
//! hold and reject thresholds from a false-positive budget.
//!
//! Naive Bayes treats every feature as independent evidence. Words, their pairs and their
//! letter n-grams are anything but, so its raw log-odds are wildly overconfident: a comment
//! it calls 99.99% spam is spam far less often than that. Platt scaling fits
//! `p = σ(slope · log_odds + intercept)` on held-out log-odds, which keeps the model's
//! ranking (the ROC curve is unchanged) and makes `spam_probability` honest enough that a
//! threshold of 0.99 means "wrong about one time in a hundred".
//!
//! Thresholds are then read off the held-out scores of the training data, never of test
//! data: reject only where at most [`Budget::reject_ham`] of held-out ham would be rejected,
//! and hold what is more likely spam than not, lowered until [`Budget::hold_spam`] of spam is
//! caught but never so low that more than [`Budget::hold_ham`] of ham waits for an operator.

use serde::{Deserialize, Serialize};

use crate::verdict::Verdict;

/// `p = σ(slope · log_odds + intercept)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub slope: f64,
    pub intercept: f64,
}

impl Calibration {
    /// The raw naive-Bayes probability, for models trained on too little data to hold any
    /// out.
    pub const IDENTITY: Calibration = Calibration {
        slope: 1.0,
        intercept: 0.0,
    };

    /// The calibrated log-odds.
    pub fn logit(&self, log_odds: f64) -> f64 {
        self.slope * log_odds + self.intercept
    }

    pub fn probability(&self, log_odds: f64) -> f64 {
        sigmoid(self.logit(log_odds))
    }

    /// Platt scaling fitted by Newton's method with a backtracking line search (the
    /// formulation of Lin, Lin and Weng, "A note on Platt's probabilistic outputs", 2007).
    /// Targets are Platt's smoothed labels, `(n₊ + 1) / (n₊ + 2)` and `1 / (n₋ + 2)`, which
    /// keep a perfectly separated training set from driving the slope to infinity.
    /// `held_out` is `(log_odds, is_spam)`; non-finite log-odds are skipped.
    pub fn fit(held_out: &[(f64, bool)]) -> Calibration {
        let points: Vec<(f64, bool)> = held_out
            .iter()
            .copied()
            .filter(|(z, _)| z.is_finite())
            .collect();
        let spam = points.iter().filter(|(_, s)| *s).count() as f64;
        let ham = points.len() as f64 - spam;
        if spam == 0.0 || ham == 0.0 {
            return Calibration::IDENTITY;
        }
        let high = (spam + 1.0) / (spam + 2.0);
        let low = 1.0 / (ham + 2.0);
        let target = |is_spam: bool| if is_spam { high } else { low };
        let loss = |c: Calibration| -> f64 {
            points
                .iter()
                .map(|&(z, s)| {
                    let x = c.logit(z);
                    // −[t ln σ(x) + (1−t) ln(1−σ(x))], written to stay finite for any x.
                    softplus(x) - target(s) * x
                })
                .sum()
        };
        let mut c = Calibration {
            slope: 0.0,
            intercept: ((spam + 1.0) / (ham + 1.0)).ln(),
        };
        let mut current = loss(c);
        for _ in 0..100 {
            // Gradient and Hessian of the loss in (slope, intercept), with a small ridge so
            // the Hessian stays invertible.
            let (mut g_a, mut g_b) = (0.0, 0.0);
            let (mut h_aa, mut h_ab, mut h_bb) = (1e-12, 0.0, 1e-12);
            for &(z, s) in &points {
                let p = sigmoid(c.logit(z));
                let d = p - target(s);
                let w = p * (1.0 - p);
                g_a += d * z;
                g_b += d;
                h_aa += w * z * z;
                h_ab += w * z;
                h_bb += w;
            }
            if g_a.abs() < 1e-9 && g_b.abs() < 1e-9 {
                break;
            }
            let det = h_aa * h_bb - h_ab * h_ab;
            let step_a = -(h_bb * g_a - h_ab * g_b) / det;
            let step_b = -(h_aa * g_b - h_ab * g_a) / det;
            let mut t = 1.0;
            let mut improved = false;
            while t >= 1e-10 {
                let next = Calibration {
                    slope: c.slope + t * step_a,
                    intercept: c.intercept + t * step_b,
                };
                let next_loss = loss(next);
                if next_loss < current - 1e-4 * t * (g_a * step_a + g_b * step_b).abs() {
                    c = next;
                    current = next_loss;
                    improved = true;
                    break;
                }
                t /= 2.0;
            }
            if !improved {
                break;
            }
        }
        c
    }
}

pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + eˣ)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// How much error the shipped thresholds may make, as shares of held-out comments.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// Most ham that may be rejected outright: a rejected comment is lost to its author.
    pub reject_ham: f64,
    /// Share of spam the hold threshold should catch (held or rejected).
    pub hold_spam: f64,
    /// Most ham that may be held: held ham only waits, but operators' time is not free.
    pub hold_ham: f64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            reject_ham: 0.001,
            hold_spam: 0.95,
            hold_ham: 0.05,
        }
    }
}

/// Classifier thresholds on the calibrated spam probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub hold: f64,
    pub reject: f64,
    /// For authors an operator has vouched for: above every held-out ham comment.
    pub trusted_reject: f64,
}

impl Thresholds {
    /// For models without held-out data to measure a budget on.
    pub const UNMEASURED: Thresholds = Thresholds {
        hold: 0.5,
        reject: 0.99,
        trusted_reject: 0.999,
    };

    /// What these thresholds make of a spam probability.
    pub fn verdict(&self, spam_probability: f64) -> Verdict {
        if spam_probability >= self.reject {
            Verdict::Reject
        } else if spam_probability >= self.hold {
            Verdict::Hold
        } else {
            Verdict::Approve
        }
    }

    /// Reads the thresholds off held-out `(spam_probability, is_spam)` scores.
    /// Every threshold is at most 1.0; a threshold that no held-out ham reaches is placed
    /// just above the highest ham score, so "≥ threshold" excludes it.
    pub fn from_budget(held_out: &[(f64, bool)], budget: &Budget) -> Thresholds {
        let mut ham: Vec<f64> = scores(held_out, false);
        let mut spam: Vec<f64> = scores(held_out, true);
        if ham.is_empty() || spam.is_empty() {
            return Thresholds::UNMEASURED;
        }
        // Highest first.
        ham.sort_by(|a, b| b.total_cmp(a));
        spam.sort_by(|a, b| b.total_cmp(a));
        // The lowest threshold that at most `share` of ham reaches: just above the ham
        // score ranked `allowed + 1`.
        let above_ham = |share: f64| -> f64 {
            let allowed = (share * ham.len() as f64).floor() as usize;
            ham.get(allowed).map_or(0.0, |&s| s.next_up()).min(1.0)
        };
        let reject = above_ham(budget.reject_ham).max(0.5);
        let trusted_reject = above_ham(0.0).max(reject);
        // The threshold that catches `hold_spam` of spam: the score of the spam comment at
        // that rank.
        let caught = ((budget.hold_spam * spam.len() as f64).ceil() as usize).clamp(1, spam.len());
        let catch_spam = spam[caught - 1];
        let hold = catch_spam
            .min(0.5)
            .max(above_ham(budget.hold_ham))
            .min(reject);
        Thresholds {
            hold,
            reject,
            trusted_reject,
        }
    }
}

fn scores(held_out: &[(f64, bool)], spam: bool) -> Vec<f64> {
    held_out
        .iter()
        .filter(|(p, s)| *s == spam && p.is_finite())
        .map(|(p, _)| *p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Overconfident log-odds: the true log-odds are a fifth of the raw ones.
    fn overconfident(n: usize) -> Vec<(f64, bool)> {
        let mut state = 7_u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let z = (uniform() - 0.5) * 100.0;
                (z, uniform() < sigmoid(z / 5.0))
            })
            .collect()
    }

    #[test]
    fn platt_recovers_the_true_scale() {
        let c = Calibration::fit(&overconfident(20_000));
        assert!((c.slope - 0.2).abs() < 0.02, "{c:?}");
        assert!(c.intercept.abs() < 0.15, "{c:?}");
    }

    #[test]
    fn platt_survives_degenerate_input() {
        assert_eq!(Calibration::fit(&[]), Calibration::IDENTITY);
        assert_eq!(Calibration::fit(&[(1.0, true)]), Calibration::IDENTITY);
        // Perfectly separated: a finite, positive slope thanks to the smoothed targets.
        let separated = Calibration::fit(&[(-5.0, false), (-4.0, false), (4.0, true), (5.0, true)]);
        assert!(
            separated.slope.is_finite() && separated.slope > 0.0,
            "{separated:?}"
        );
        let with_nan = Calibration::fit(&[(f64::NAN, true), (-1.0, false), (1.0, true)]);
        assert!(with_nan.slope.is_finite(), "{with_nan:?}");
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
    }

    #[test]
    fn thresholds_respect_the_budget() {
        // 1000 ham spread over [0, 0.999), 100 spam over [0.3, 1.0).
        let mut held_out: Vec<(f64, bool)> =
            (0..1000).map(|i| (i as f64 / 1001.0, false)).collect();
        held_out.extend((0..100).map(|i| (0.3 + 0.7 * i as f64 / 100.0, true)));
        let budget = Budget::default();
        let t = Thresholds::from_budget(&held_out, &budget);
        let ham_at = |threshold: f64| {
            held_out
                .iter()
                .filter(|(p, s)| !s && *p >= threshold)
                .count()
        };
        let spam_at = |threshold: f64| {
            held_out
                .iter()
                .filter(|(p, s)| *s && *p >= threshold)
                .count()
        };
        assert_eq!(ham_at(t.reject), 1, "{t:?}");
        assert_eq!(ham_at(t.trusted_reject), 0, "{t:?}");
        // Catching 95% of spam would need 0.335, which holds far more than 5% of ham, so the
        // ham budget wins.
        assert_eq!(ham_at(t.hold), 50, "{t:?}");
        assert!(spam_at(t.hold) < 95);
        assert!(t.hold <= t.reject && t.reject <= t.trusted_reject && t.trusted_reject <= 1.0);
    }

    #[test]
    fn hold_stays_at_one_half_when_spam_is_easy() {
        let mut held_out: Vec<(f64, bool)> = (0..200).map(|i| (i as f64 / 1000.0, false)).collect();
        held_out.extend((0..100).map(|i| (0.9 + i as f64 / 1001.0, true)));
        let t = Thresholds::from_budget(&held_out, &Budget::default());
        assert_eq!(t.hold, 0.5);
        assert_eq!(t.reject, 0.5, "no ham anywhere near: reject at one half");
        assert_eq!(
            Thresholds::from_budget(&[], &Budget::default()),
            Thresholds::UNMEASURED
        );
    }
}
