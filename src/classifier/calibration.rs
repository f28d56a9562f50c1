//! Turning naive-Bayes log-odds into probabilities that mean what they say, and choosing the
//! hold and reject thresholds from a false-positive budget.
//!
//! Naive Bayes treats every feature as independent evidence. Words, their pairs and their
//! letter n-grams are anything but, so its raw log-odds are wildly overconfident: a comment
//! it calls 99.99% spam is spam far less often than that, and not equally so in every
//! group of features (words, their pairs and triples repeat one another; a comment's link
//! count or length does not), nor equally for the evidence each way (spam repeats a few
//! strong phrases, ham is many weak words). Calibration fits
//! `p = σ(prior + intercept + Σ_g (spam_slope_g · spam_g + ham_slope_g · ham_g))` on held-out
//! evidence, `spam_g` and `ham_g` being the naive-Bayes log-odds of group `g`'s features
//! that point toward spam and toward ham: Platt scaling with one slope per group and
//! direction. It makes `spam_probability` honest enough that a threshold of 0.99 means
//! "wrong about one time in a hundred", and it is still a sum over features, so every
//! feature's share of a verdict is its calibrated log-odds.
//!
//! Thresholds are then read off the held-out scores of the training data, never of test
//! data: reject only where at most [`Budget::reject_ham`] of held-out ham would be rejected,
//! and hold what is more likely spam than not, lowered until [`Budget::hold_spam`] of spam is
//! caught but never so low that more than [`Budget::hold_ham`] of ham waits for an operator.

use serde::{Deserialize, Serialize};

use super::features::GROUPS;
use crate::verdict::Verdict;

/// A comment's naive-Bayes evidence: the prior's log-odds and, for each of the [`GROUPS`]
/// groups, the weighted sums of its features' log-odds that point toward spam (`spam`, at
/// least 0) and toward ham (`ham`, at most 0). Their plain sum is the naive-Bayes log-odds.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Evidence {
    pub prior: f64,
    pub spam: [f64; GROUPS],
    pub ham: [f64; GROUPS],
}

impl Evidence {
    /// Adds one feature's weighted log-odds to its group's evidence on the side it points to.
    pub fn add(&mut self, group: usize, log_odds: f64) {
        if points_to_ham(log_odds) {
            self.ham[group] += log_odds;
        } else {
            self.spam[group] += log_odds;
        }
    }

    /// Drops a group's evidence, both ways.
    pub fn without(mut self, group: usize) -> Evidence {
        self.spam[group] = 0.0;
        self.ham[group] = 0.0;
        self
    }

    /// The uncalibrated naive-Bayes log-odds.
    pub fn naive(&self) -> f64 {
        self.prior + self.spam.iter().chain(&self.ham).sum::<f64>()
    }

    /// The calibration inputs: each group's evidence toward spam, then toward ham.
    fn inputs(&self) -> impl Iterator<Item = &f64> {
        self.spam.iter().chain(&self.ham)
    }
}

/// Which side of [`Evidence`] a log-odds is filed on, and so which slope it takes: the one
/// rule [`Evidence::add`] and [`Calibration::slope`] share (a log-odds of 0 counts toward
/// spam, and weighs nothing either way).
#[inline]
fn points_to_ham(log_odds: f64) -> bool {
    log_odds < 0.0
}

/// `p = σ(prior + intercept + Σ_g (spam_slopes_g · spam_g + ham_slopes_g · ham_g))`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Per group, the slope of its evidence toward spam.
    pub spam_slopes: [f64; GROUPS],
    /// Per group, the slope of its evidence toward ham.
    pub ham_slopes: [f64; GROUPS],
    pub intercept: f64,
}

/// Ridge penalty pulling each slope toward the common one, in units of held-out comments.
/// Of 0.3, 1, 3, 10 and 30, 10 measured best or tied on YouTube (leave one video out) and
/// within 0.002 MCC of the best on SMS (10-fold), with one slope per group; with a slope per
/// group and direction, 3 and 30 measured no better than 10 over five seeds. Weaker lets the
/// slopes chase noise.
const RIDGE: f64 = 10.0;

/// Calibration inputs: [`Evidence::inputs`], then the intercept's constant 1.
const INPUTS: usize = 2 * GROUPS + 1;

impl Calibration {
    /// The raw naive-Bayes probability, for models trained on too little data to hold any
    /// out.
    pub const IDENTITY: Calibration = Calibration {
        spam_slopes: [1.0; GROUPS],
        ham_slopes: [1.0; GROUPS],
        intercept: 0.0,
    };

    /// The slope applied to a feature of `group` whose log-odds are `log_odds`: the one for
    /// the side they point to, as [`Evidence::add`] files them.
    #[inline]
    pub fn slope(&self, group: usize, log_odds: f64) -> f64 {
        if points_to_ham(log_odds) {
            self.ham_slopes[group]
        } else {
            self.spam_slopes[group]
        }
    }

    /// Every slope, toward spam then toward ham.
    pub fn slopes(&self) -> impl Iterator<Item = &f64> {
        self.spam_slopes.iter().chain(&self.ham_slopes)
    }

    /// The calibrated log-odds: [`Calibration::slopes`] times the evidence inputs, summed
    /// in that order, but written as two zips of arrays. A zip of the two chains compiled
    /// to a loop of some 26 instructions an input, nearly 4% of a classification's.
    pub fn logit(&self, e: &Evidence) -> f64 {
        let weighted = (self.spam_slopes.iter().zip(&e.spam))
            .chain(self.ham_slopes.iter().zip(&e.ham))
            .map(|(a, z)| a * z)
            .sum::<f64>();
        e.prior + self.intercept + weighted
    }

    pub fn probability(&self, e: &Evidence) -> f64 {
        sigmoid(self.logit(e))
    }

    /// Fitted on held-out evidence in two steps. First Platt scaling: one slope for the
    /// whole naive-Bayes log-odds. Then one slope per group and direction, each shrunk
    /// toward that common slope by a ridge penalty, so a group with little held-out evidence
    /// (or none: letter n-grams of Chinese in an English corpus) keeps Platt's slope rather
    /// than a noisy or zero one. Why two directions: naive Bayes over-counts spam's few
    /// repeated phrases and ham's many weak words by different amounts; over 15 seeds of
    /// YouTube's leave-one-video-out, separate slopes raised MCC in 13, tied in one and
    /// lowered it in one (mean 0.8935 → 0.8961), and SMS's 10-fold MCC by 0.001. Slopes are kept
    /// non-negative, so a feature's contribution always points the way its log-odds does and
    /// explanations never flip a spam word into ham evidence. Targets are Platt's smoothed
    /// labels, `(n₊ + 1) / (n₊ + 2)` and `1 / (n₋ + 2)` (Lin, Lin and Weng, "A note on
    /// Platt's probabilistic outputs", 2007), which keep a perfectly separated training set
    /// from driving the slopes to infinity. Non-finite evidence is skipped.
    pub fn fit(held_out: &[(Evidence, bool)]) -> Calibration {
        let points: Vec<&(Evidence, bool)> = held_out
            .iter()
            .filter(|(e, _)| e.prior.is_finite() && e.inputs().all(|z| z.is_finite()))
            .collect();
        let spam = points.iter().filter(|(_, s)| *s).count() as f64;
        let ham = points.len() as f64 - spam;
        if spam == 0.0 || ham == 0.0 {
            return Calibration::IDENTITY;
        }
        let target = |is_spam: bool| {
            if is_spam {
                (spam + 1.0) / (spam + 2.0)
            } else {
                1.0 / (ham + 2.0)
            }
        };

        let totals: Vec<Row<2>> = points
            .iter()
            .map(|(e, s)| Row {
                inputs: [e.inputs().sum(), 1.0],
                offset: e.prior,
                target: target(*s),
            })
            .collect();
        let [common, _] = fit_logistic(&totals, [0.0; 2], [0.0; 2], [true; 2]);

        const SLOPES: usize = INPUTS - 1;
        let rows: Vec<Row<INPUTS>> = points
            .iter()
            .map(|(e, s)| {
                let mut inputs = [1.0; INPUTS];
                for (x, z) in inputs.iter_mut().zip(e.inputs()) {
                    *x = *z;
                }
                Row {
                    inputs,
                    offset: e.prior,
                    target: target(*s),
                }
            })
            .collect();
        let ridge = std::array::from_fn(|i| if i < SLOPES { RIDGE } else { 0.0 });
        let anchor = std::array::from_fn(|i| if i < SLOPES { common } else { 0.0 });
        // Active set: a slope that comes out negative is pinned at zero and the rest refitted.
        let mut free = [true; INPUTS];
        loop {
            let theta = fit_logistic(&rows, ridge, anchor, free);
            let negative: Vec<usize> = (0..SLOPES).filter(|&i| free[i] && theta[i] < 0.0).collect();
            if negative.is_empty() {
                return Calibration {
                    spam_slopes: std::array::from_fn(|g| theta[g]),
                    ham_slopes: std::array::from_fn(|g| theta[GROUPS + g]),
                    intercept: theta[SLOPES],
                };
            }
            for i in negative {
                free[i] = false;
            }
        }
    }
}

/// One held-out comment for [`fit_logistic`]: the model is `σ(offset + θ · inputs)`.
struct Row<const N: usize> {
    inputs: [f64; N],
    offset: f64,
    target: f64,
}

/// Minimises the cross-entropy of `σ(offset + θ · inputs)` against the targets, plus
/// `ridge_i / 2 · (θ_i − anchor_i)²`, by Newton's method with a backtracking line search.
/// Coordinates that are not `free` stay at zero. Written here rather than taken from
/// linfa-logistic, which fits hard labels with a ridge toward zero: calibration needs an
/// offset (the prior), Platt's soft targets, a ridge toward the common slope and pinned
/// coordinates. With 21 parameters, Newton's method converges in a handful of steps.
fn fit_logistic<const N: usize>(
    rows: &[Row<N>],
    ridge: [f64; N],
    anchor: [f64; N],
    free: [bool; N],
) -> [f64; N] {
    let logit = |theta: &[f64; N], row: &Row<N>| -> f64 {
        row.offset
            + theta
                .iter()
                .zip(&row.inputs)
                .map(|(t, x)| t * x)
                .sum::<f64>()
    };
    let loss = |theta: &[f64; N]| -> f64 {
        let penalty: f64 = (0..N)
            .map(|i| ridge[i] * (theta[i] - anchor[i]).powi(2) / 2.0)
            .sum();
        penalty
            + rows
                .iter()
                .map(|row| {
                    let x = logit(theta, row);
                    // −[t ln σ(x) + (1−t) ln(1−σ(x))], written to stay finite for any x.
                    softplus(x) - row.target * x
                })
                .sum::<f64>()
    };
    let mut theta: [f64; N] = std::array::from_fn(|i| if free[i] { anchor[i] } else { 0.0 });
    let mut current = loss(&theta);
    for _ in 0..100 {
        let mut gradient: [f64; N] = std::array::from_fn(|i| ridge[i] * (theta[i] - anchor[i]));
        // A small ridge on the diagonal keeps the Hessian invertible.
        let mut hessian = [[0.0; N]; N];
        for (i, row) in hessian.iter_mut().enumerate() {
            row[i] = ridge[i] + 1e-12;
        }
        for row in rows {
            let p = sigmoid(logit(&theta, row));
            let d = p - row.target;
            let w = p * (1.0 - p);
            for (i, &x_i) in row.inputs.iter().enumerate() {
                gradient[i] += d * x_i;
                for (h, &x_j) in hessian[i].iter_mut().zip(&row.inputs) {
                    *h += w * x_i * x_j;
                }
            }
        }
        // Pinned coordinates: zero gradient and an identity row, so their step is zero.
        for i in (0..N).filter(|&i| !free[i]) {
            gradient[i] = 0.0;
            hessian[i] = [0.0; N];
            for row in &mut hessian {
                row[i] = 0.0;
            }
            hessian[i][i] = 1.0;
        }
        if gradient.iter().all(|g| g.abs() < 1e-9) {
            break;
        }
        let Some(step) = solve(hessian, gradient.map(|g| -g)) else {
            break;
        };
        let descent: f64 = gradient.iter().zip(&step).map(|(g, s)| g * s).sum();
        let mut t = 1.0;
        let mut improved = false;
        while t >= 1e-10 {
            let next: [f64; N] = std::array::from_fn(|i| theta[i] + t * step[i]);
            let next_loss = loss(&next);
            if next_loss < current - 1e-4 * t * descent.abs() {
                theta = next;
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
    theta
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None` when `a` is
/// singular.
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= factor * p;
            }
            b[col + 1 + offset] -= factor * b[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let tail: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    Some(x)
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

    /// `n` held-out comments whose evidence in group `g` is uniform over ±50 and whose true
    /// log-odds are `Σ_g slope_g · evidence_g` (the prior is zero), `true_slopes` giving each
    /// group's pair `(toward spam, toward ham)` and the evidence's sign choosing between them.
    fn simulated(n: usize, true_slopes: &[(usize, (f64, f64))]) -> Vec<(Evidence, bool)> {
        let mut state = 7_u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let mut e = evidence(0.0, &[]);
                let mut truth = 0.0;
                for &(g, (toward_spam, toward_ham)) in true_slopes {
                    let z = (uniform() - 0.5) * 100.0;
                    e.add(g, z);
                    truth += z * if z < 0.0 { toward_ham } else { toward_spam };
                }
                (e, uniform() < sigmoid(truth))
            })
            .collect()
    }

    fn evidence(prior: f64, groups: &[(usize, f64)]) -> Evidence {
        let mut e = Evidence {
            prior,
            ..Evidence::default()
        };
        for &(g, z) in groups {
            e.add(g, z);
        }
        e
    }

    #[test]
    fn platt_recovers_the_true_scale_and_lends_it_to_absent_groups() {
        let c = Calibration::fit(&simulated(20_000, &[(0, (0.2, 0.2))]));
        assert!((c.spam_slopes[0] - 0.2).abs() < 0.02, "{c:?}");
        assert!((c.ham_slopes[0] - 0.2).abs() < 0.02, "{c:?}");
        assert!(c.intercept.abs() < 0.15, "{c:?}");
        // No held-out evidence in the other groups: they keep the common slope, so a
        // language the calibration data lacked is still scored.
        for g in 1..GROUPS {
            assert!((c.spam_slopes[g] - c.spam_slopes[0]).abs() < 0.02, "{c:?}");
            assert!((c.ham_slopes[g] - c.spam_slopes[0]).abs() < 0.02, "{c:?}");
        }
    }

    #[test]
    fn each_group_and_direction_gets_its_own_slope_and_none_is_negative() {
        let c = Calibration::fit(&simulated(
            20_000,
            &[(0, (0.1, 0.1)), (3, (0.5, 0.2)), (5, (-0.01, -0.01))],
        ));
        assert!((c.spam_slopes[0] - 0.1).abs() < 0.02, "{c:?}");
        assert!((c.ham_slopes[0] - 0.1).abs() < 0.02, "{c:?}");
        assert!((c.spam_slopes[3] - 0.5).abs() < 0.05, "{c:?}");
        assert!((c.ham_slopes[3] - 0.2).abs() < 0.03, "{c:?}");
        // Evidence that truly points the other way is ignored rather than turned around,
        // so an explanation never shows a spam feature as ham evidence.
        assert_eq!((c.spam_slopes[5], c.ham_slopes[5]), (0.0, 0.0), "{c:?}");
        let z = evidence(0.0, &[(0, 10.0), (3, 2.0), (3, -4.0)]);
        let expected =
            c.intercept + 10.0 * c.spam_slopes[0] + 2.0 * c.spam_slopes[3] - 4.0 * c.ham_slopes[3];
        assert!((c.logit(&z) - expected).abs() < 1e-12);
        assert_eq!(c.slope(3, 2.0), c.spam_slopes[3]);
        assert_eq!(c.slope(3, -4.0), c.ham_slopes[3]);
    }

    #[test]
    fn platt_survives_degenerate_input() {
        assert_eq!(Calibration::fit(&[]), Calibration::IDENTITY);
        assert_eq!(
            Calibration::fit(&[(evidence(0.0, &[(0, 1.0)]), true)]),
            Calibration::IDENTITY
        );
        // Perfectly separated: finite, positive slopes thanks to the smoothed targets.
        let separated = Calibration::fit(&[
            (evidence(0.0, &[(0, -5.0)]), false),
            (evidence(0.0, &[(0, -4.0)]), false),
            (evidence(0.0, &[(0, 4.0)]), true),
            (evidence(0.0, &[(0, 5.0)]), true),
        ]);
        assert!(
            separated.slopes().all(|a| a.is_finite() && *a > 0.0),
            "{separated:?}"
        );
        let with_nan = Calibration::fit(&[
            (evidence(f64::NAN, &[]), true),
            (evidence(0.0, &[(1, f64::INFINITY)]), true),
            (evidence(0.0, &[(0, -1.0)]), false),
            (evidence(0.0, &[(0, 1.0)]), true),
        ]);
        assert!(
            with_nan.slopes().all(|a| a.is_finite()) && with_nan.intercept.is_finite(),
            "{with_nan:?}"
        );
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
