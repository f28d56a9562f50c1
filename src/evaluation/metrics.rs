//! The numbers read off held-out verdicts: the standard ones (accuracy, precision, recall,
//! F1, MCC, ROC AUC) for comparing with other filters, the three-way breakdown that a blog
//! owner feels (how much ham is held or lost, how much spam gets through), and a
//! reliability curve that shows whether `spam_probability` means what it says.

use serde::Serialize;

use super::HeldOut;
use crate::verdict::Verdict;

/// Everything `eval` reports about one set of held-out verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ham: usize,
    pub spam: usize,
    /// Classifying as spam at calibrated probability ≥ 0.5. `None` where undefined (no
    /// spam, nothing flagged, an empty set).
    pub accuracy: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    /// Matthews correlation coefficient: one number that stays honest when classes are
    /// imbalanced (SMS is 7 ham to 1 spam).
    pub mcc: Option<f64>,
    /// Area under the ROC curve: how well scores rank spam above ham, at any threshold.
    pub auc: Option<f64>,
    /// Mean squared error of the probabilities: lower is better calibrated and sharper.
    pub brier: Option<f64>,
    /// Shares of ham and of spam approved, held and rejected at the thresholds each
    /// fold's model chose; `None` for a class the set has no comment of, whose shares are
    /// not 0%: they are nothing at all.
    pub ham_verdicts: Option<Shares>,
    pub spam_verdicts: Option<Shares>,
    /// Ten equal-width probability bins; empty bins are left out.
    pub reliability: Vec<Bin>,
    /// Count-weighted mean gap between predicted and observed spam rates over the bins.
    pub expected_calibration_error: Option<f64>,
    /// ROC curve points `(false-positive rate, true-positive rate)`, for plotting.
    #[serde(skip)]
    pub roc: Vec<(f64, f64)>,
}

/// Shares of comments per verdict, each in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shares {
    pub approved: f64,
    pub held: f64,
    pub rejected: f64,
}

/// One bin of the reliability curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bin {
    pub mean_predicted: f64,
    pub observed_spam: f64,
    pub comments: usize,
}

const RELIABILITY_BINS: usize = 10;

impl Report {
    pub fn compute<'a>(verdicts: impl IntoIterator<Item = &'a HeldOut>) -> Report {
        let verdicts: Vec<&HeldOut> = verdicts.into_iter().collect();
        let spam = verdicts.iter().filter(|v| v.is_spam).count();
        let ham = verdicts.len() - spam;
        let flagged = |is_spam: bool| {
            verdicts
                .iter()
                .filter(|v| v.is_spam == is_spam && v.spam_probability >= 0.5)
                .count() as f64
        };
        let (tp, fp) = (flagged(true), flagged(false));
        let (fn_, tn) = (spam as f64 - tp, ham as f64 - fp);
        let total = verdicts.len() as f64;
        let ratio = |num: f64, den: f64| (den > 0.0).then(|| num / den);
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, spam as f64);
        let f1 = match (precision, recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            _ => None,
        };
        let mcc_denominator = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
        let brier = ratio(
            verdicts
                .iter()
                .map(|v| (v.spam_probability - f64::from(u8::from(v.is_spam))).powi(2))
                .sum(),
            total,
        );
        let reliability = reliability(&verdicts);
        let expected_calibration_error = ratio(
            reliability
                .iter()
                .map(|b| b.comments as f64 * (b.mean_predicted - b.observed_spam).abs())
                .sum(),
            total,
        );
        Report {
            ham,
            spam,
            accuracy: ratio(tp + tn, total),
            precision,
            recall,
            f1,
            mcc: ratio(tp * tn - fp * fn_, mcc_denominator),
            auc: auc(&verdicts),
            brier,
            ham_verdicts: shares(&verdicts, false),
            spam_verdicts: shares(&verdicts, true),
            reliability,
            expected_calibration_error,
            roc: roc(&verdicts),
        }
    }
}

fn shares(verdicts: &[&HeldOut], is_spam: bool) -> Option<Shares> {
    let of_class: Vec<&&HeldOut> = verdicts.iter().filter(|v| v.is_spam == is_spam).collect();
    if of_class.is_empty() {
        return None;
    }
    let share = |verdict: Verdict| {
        of_class.iter().filter(|v| v.verdict == verdict).count() as f64 / of_class.len() as f64
    };
    Some(Shares {
        approved: share(Verdict::Approve),
        held: share(Verdict::Hold),
        rejected: share(Verdict::Reject),
    })
}

/// The Mann–Whitney statistic: the chance that a random spam scores above a random ham,
/// ties counting half. `None` without both classes.
fn auc(verdicts: &[&HeldOut]) -> Option<f64> {
    let mut sorted: Vec<(f64, bool)> = verdicts
        .iter()
        .map(|v| (v.spam_probability, v.is_spam))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let spam = sorted.iter().filter(|(_, s)| *s).count() as f64;
    let ham = sorted.len() as f64 - spam;
    if spam == 0.0 || ham == 0.0 {
        return None;
    }
    // Sum of the (tie-averaged, 1-based) ranks of the spam scores.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let tied = sorted[i..]
            .iter()
            .take_while(|(p, _)| *p == sorted[i].0)
            .count();
        let mean_rank = i as f64 + (tied as f64 + 1.0) / 2.0;
        rank_sum += mean_rank * sorted[i..i + tied].iter().filter(|(_, s)| *s).count() as f64;
        i += tied;
    }
    Some((rank_sum - spam * (spam + 1.0) / 2.0) / (spam * ham))
}

/// ROC points from the strictest threshold to the loosest, one per distinct score; none
/// without both classes, where one of the rates is undefined (a set of ham alone would
/// otherwise draw a curve that never catches spam).
fn roc(verdicts: &[&HeldOut]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, bool)> = verdicts
        .iter()
        .map(|v| (v.spam_probability, v.is_spam))
        .collect();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let spam = sorted.iter().filter(|(_, s)| *s).count() as f64;
    let ham = sorted.len() as f64 - spam;
    if spam == 0.0 || ham == 0.0 {
        return Vec::new();
    }
    let mut points = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0.0, 0.0);
    for (i, &(p, is_spam)) in sorted.iter().enumerate() {
        if is_spam {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        if sorted.get(i + 1).is_none_or(|next| next.0 != p) {
            points.push((fp / ham, tp / spam));
        }
    }
    points
}

fn reliability(verdicts: &[&HeldOut]) -> Vec<Bin> {
    let mut sums = [(0.0, 0.0, 0usize); RELIABILITY_BINS];
    for v in verdicts {
        let bin =
            ((v.spam_probability * RELIABILITY_BINS as f64) as usize).min(RELIABILITY_BINS - 1);
        sums[bin].0 += v.spam_probability;
        sums[bin].1 += f64::from(u8::from(v.is_spam));
        sums[bin].2 += 1;
    }
    sums.iter()
        .filter(|(_, _, n)| *n > 0)
        .map(|&(predicted, spam, n)| Bin {
            mean_predicted: predicted / n as f64,
            observed_spam: spam / n as f64,
            comments: n,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(p: f64, is_spam: bool, verdict: Verdict) -> HeldOut {
        HeldOut {
            spam_probability: p,
            is_spam,
            verdict,
        }
    }

    #[test]
    fn confusion_metrics_by_hand() {
        use Verdict::*;
        // tp 2 (0.95, 0.6), fn 1 (0.4), fp 1 (0.7), tn 2 (0.1, 0.2).
        let r = Report::compute(&[
            v(0.95, true, Reject),
            v(0.6, true, Hold),
            v(0.4, true, Approve),
            v(0.7, false, Hold),
            v(0.1, false, Approve),
            v(0.2, false, Approve),
        ]);
        assert_eq!((r.ham, r.spam), (3, 3));
        assert_eq!(r.accuracy, Some(4.0 / 6.0));
        assert_eq!(r.precision, Some(2.0 / 3.0));
        assert_eq!(r.recall, Some(2.0 / 3.0));
        assert!((r.f1.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        // (2·2 − 1·1) / √(3·3·3·3) = 3 / 9.
        assert!((r.mcc.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        // Spam above ham in 7 of 9 pairs: 0.6 and 0.4 are both below the ham 0.7.
        assert!((r.auc.unwrap() - 7.0 / 9.0).abs() < 1e-12);
        assert_eq!(
            r.spam_verdicts,
            Some(Shares {
                approved: 1.0 / 3.0,
                held: 1.0 / 3.0,
                rejected: 1.0 / 3.0
            })
        );
        assert_eq!(r.ham_verdicts.map(|h| h.rejected), Some(0.0));
        assert_eq!(r.roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(r.roc.last(), Some(&(1.0, 1.0)));
        assert_eq!(r.reliability.iter().map(|b| b.comments).sum::<usize>(), 6);
    }

    #[test]
    fn ties_count_half_and_undefined_metrics_are_none() {
        use Verdict::*;
        let tied = Report::compute(&[v(0.5, true, Hold), v(0.5, false, Hold)]);
        assert_eq!(tied.auc, Some(0.5));
        let empty = Report::compute(&[]);
        assert_eq!(
            (empty.accuracy, empty.f1, empty.mcc, empty.auc),
            (None, None, None, None)
        );
        let ham_only = Report::compute(&[v(0.1, false, Approve), v(0.7, false, Hold)]);
        assert_eq!(
            (ham_only.recall, ham_only.auc, ham_only.mcc),
            (None, None, None)
        );
        // No spam: its shares are not 0% each but nothing, and there is no ROC curve to
        // draw (it would read as a classifier that never catches spam).
        assert_eq!(ham_only.spam_verdicts, None);
        assert_eq!(ham_only.ham_verdicts.map(|h| h.held), Some(0.5));
        assert!(ham_only.roc.is_empty());
        assert_eq!((empty.ham_verdicts, empty.spam_verdicts), (None, None));
        assert!(empty.roc.is_empty());
    }

    #[test]
    fn perfectly_calibrated_bins_have_no_calibration_error() {
        let mut verdicts = Vec::new();
        for i in 0..10 {
            verdicts.push(v(0.25, i < 1, Verdict::Approve));
        }
        for i in 0..4 {
            verdicts.push(v(0.75, i < 3, Verdict::Hold));
        }
        let r = Report::compute(&verdicts);
        // Bin at 0.25 observes 10%, bin at 0.75 observes 75%: only the first is off.
        assert_eq!(r.reliability.len(), 2);
        let expected = 10.0 * 0.15 / 14.0;
        assert!((r.expected_calibration_error.unwrap() - expected).abs() < 1e-12);
    }
}
