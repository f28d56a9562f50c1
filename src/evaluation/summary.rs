//! An evaluation summed up: overall, per source group and per fold, as JSON for scripts and
//! as Markdown tables for people (the terminal and the model card show the same tables).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::Evaluation;
use super::metrics::Report;
use crate::classifier::calibration::Thresholds;
use crate::classifier::train::Example;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub overall: Report,
    /// Per source group (`youtube-spam`, `sms-spam`), when there is more than one.
    pub groups: BTreeMap<String, Report>,
    pub folds: Vec<FoldReport>,
    /// Unweighted means over folds, as papers that report per-fold scores average them.
    pub fold_mean_f1: Option<f64>,
    pub fold_mean_mcc: Option<f64>,
    pub scoring: Scoring,
}

#[derive(Debug, Clone, Serialize)]
pub struct FoldReport {
    pub name: String,
    pub trained_on: usize,
    pub tested: usize,
    pub thresholds: Thresholds,
    pub f1: Option<f64>,
    pub mcc: Option<f64>,
    pub auc: Option<f64>,
    /// `None` when the fold held out no ham.
    pub ham_rejected: Option<f64>,
}

/// In-process scoring speed over the held-out comments, one thread.
#[derive(Debug, Clone, Serialize)]
pub struct Scoring {
    pub comments: usize,
    pub seconds: f64,
    pub per_second: f64,
}

impl Summary {
    /// `examples` are the evaluated examples, parallel to `evaluation.held_out`.
    pub fn new(evaluation: &Evaluation, examples: &[Example]) -> Summary {
        let held_out = &evaluation.held_out;
        let mut by_group: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, e) in examples.iter().enumerate() {
            by_group.entry(e.group()).or_default().push(i);
        }
        let groups = if by_group.len() > 1 {
            by_group
                .into_iter()
                .map(|(group, members)| {
                    let report = Report::compute(members.iter().map(|&i| &held_out[i]));
                    (group.to_string(), report)
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        let folds: Vec<FoldReport> = evaluation
            .folds
            .iter()
            .map(|fold| {
                let report = Report::compute(fold.members.iter().map(|&i| &held_out[i]));
                FoldReport {
                    name: fold.name.clone(),
                    trained_on: fold.trained_on,
                    tested: fold.members.len(),
                    thresholds: fold.thresholds,
                    f1: report.f1,
                    mcc: report.mcc,
                    auc: report.auc,
                    ham_rejected: report.ham_verdicts.map(|h| h.rejected),
                }
            })
            .collect();
        let mean = |value: fn(&FoldReport) -> Option<f64>| {
            let values: Option<Vec<f64>> = folds.iter().map(value).collect();
            values
                .filter(|v| !v.is_empty())
                .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        };
        let seconds = evaluation.scoring.as_secs_f64();
        Summary {
            overall: Report::compute(held_out),
            groups,
            fold_mean_f1: mean(|f| f.f1),
            fold_mean_mcc: mean(|f| f.mcc),
            folds,
            scoring: Scoring {
                comments: held_out.len(),
                seconds,
                per_second: if seconds > 0.0 {
                    held_out.len() as f64 / seconds
                } else {
                    0.0
                },
            },
        }
    }

    /// The tables, in Markdown.
    pub fn markdown(&self) -> String {
        let mut sets: Vec<(String, &Report)> = vec![("all".into(), &self.overall)];
        sets.extend(self.groups.iter().map(|(g, r)| (cell(g), r)));
        let mut out = String::new();
        out.push_str("Spam = calibrated spam_probability ≥ 0.5:\n\n");
        out.push_str(
            "| set | ham | spam | accuracy | precision | recall | F1 | MCC | ROC AUC |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for (set, r) in &sets {
            let _ = writeln!(
                out,
                "| {set} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.ham,
                r.spam,
                pct(r.accuracy),
                pct(r.precision),
                pct(r.recall),
                num(r.f1),
                num(r.mcc),
                num(r.auc)
            );
        }
        out.push_str(
            "\nWhat a blog owner sees, at the thresholds each fold's model chose from its own \
             training data (links alone never reject, as in the service):\n\n\
             | set | ham approved | ham held | ham rejected | spam approved | spam held | spam rejected |\n\
             |---|---:|---:|---:|---:|---:|---:|\n",
        );
        for (set, r) in &sets {
            let (h, s) = (r.ham_verdicts, r.spam_verdicts);
            let _ = writeln!(
                out,
                "| {set} | {} | {} | {} | {} | {} | {} |",
                pct(h.map(|h| h.approved)),
                pct(h.map(|h| h.held)),
                pct(h.map(|h| h.rejected)),
                pct(s.map(|s| s.approved)),
                pct(s.map(|s| s.held)),
                pct(s.map(|s| s.rejected))
            );
        }
        out.push_str(
            "\n| fold | trained on | tested | hold ≥ | reject ≥ | F1 | MCC | ROC AUC | ham rejected |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for f in &self.folds {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.4} | {:.4} | {} | {} | {} | {} |",
                cell(&f.name),
                f.trained_on,
                f.tested,
                f.thresholds.hold,
                f.thresholds.reject,
                num(f.f1),
                num(f.mcc),
                num(f.auc),
                pct(f.ham_rejected)
            );
        }
        if self.folds.len() > 1 {
            let _ = writeln!(
                out,
                "| mean | | | | | {} | {} | | |",
                num(self.fold_mean_f1),
                num(self.fold_mean_mcc)
            );
        }
        let _ = write!(
            out,
            "\nReliability (all): does a predicted probability come true that often? \
             Expected calibration error {}, Brier score {}.\n\n\
             | predicted (mean) | observed spam | comments |\n|---:|---:|---:|\n",
            num(self.overall.expected_calibration_error),
            num(self.overall.brier)
        );
        for b in &self.overall.reliability {
            let _ = writeln!(
                out,
                "| {:.3} | {:.3} | {} |",
                b.mean_predicted, b.observed_spam, b.comments
            );
        }
        out
    }
}

/// A set's or fold's name as a table cell: sources are free text (an exported site's id), and
/// a `|` in one would end the cell.
fn cell(name: &str) -> String {
    name.replace('|', "\\|")
}

fn pct(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{:.2}%", v * 100.0))
}

fn num(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{v:.3}"))
}
