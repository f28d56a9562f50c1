//! `commentguard eval`: measures the classifier on data it was not trained on, with a test
//! set or by cross-validation, and prints, writes and draws what it found.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use crate::classifier::calibration::{Budget, Thresholds};
use crate::classifier::train::{self, Example, Sample, TrainOptions};
use crate::evaluation::plot::{self, PlotInput};
use crate::evaluation::summary::Summary;
use crate::evaluation::{self, Evaluation};

/// Evaluate the classifier on held-out data.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("split").required(true).args(["test", "by_source", "kfold"])))]
pub struct EvalArgs {
    /// Labelled JSONL to train on (and to cross-validate over with --by-source or --kfold).
    #[arg(long, required = true, num_args = 1..)]
    train: Vec<PathBuf>,
    /// Labelled JSONL to test on, scored by a model trained on --train alone (a test comment
    /// whose text is also in --train is left out of every figure, and counted).
    #[arg(long, num_args = 1..)]
    test: Vec<PathBuf>,
    /// `source permalink` lines giving the page each source's comments were posted on, for
    /// records without a `permalink` (e.g. `models/youtube-spam.pages`).
    #[arg(long)]
    pages: Option<PathBuf>,
    /// Leave one source out: one fold per distinct `source` (e.g. each YouTube video).
    #[arg(long)]
    by_source: bool,
    /// Stratified k-fold cross-validation (strata: source group × label).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=100))]
    kfold: Option<u32>,
    /// Write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write one JSON line per evaluated comment: id, source, label, spam_probability,
    /// verdict, fold.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Draw the ROC curve, score histogram and reliability curve as SVG into this folder.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Additive smoothing of the naive Bayes model.
    #[arg(long, default_value_t = train::DEFAULT_ALPHA)]
    alpha: f64,
    /// Seed of the fold assignments.
    #[arg(long, default_value_t = 20_261_126)]
    seed: u64,
    /// Largest share of held-out training ham the reject threshold may reject.
    #[arg(long, default_value_t = Budget::default().reject_ham)]
    reject_budget: f64,
}

/// The JSON document `--json` writes.
#[derive(Serialize)]
struct Output<'a> {
    split: String,
    train: &'a [PathBuf],
    test: &'a [PathBuf],
    budget: Budget,
    /// Evaluated comments scored by a model that was trained on a comment of the same text,
    /// and so left out of every figure (and of `--predictions`).
    seen_in_training: usize,
    #[serde(flatten)]
    summary: &'a Summary,
}

/// One line of `--predictions`.
#[derive(Serialize)]
struct Prediction<'a> {
    id: &'a str,
    source: &'a str,
    label: &'a str,
    spam_probability: f64,
    verdict: &'a str,
    fold: &'a str,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let budget = Budget {
        reject_ham: args.reject_budget,
        ..Budget::default()
    };
    anyhow::ensure!(
        (0.0..1.0).contains(&budget.reject_ham),
        "--reject-budget must be in [0, 1), got {}",
        budget.reject_ham
    );
    let options = TrainOptions {
        alpha: args.alpha,
        batch_size: 256,
        silence_linfa_debug: true,
        seed: args.seed,
    };
    // A mistyped output path is found before the evaluation, not after it.
    for path in [&args.json, &args.predictions].into_iter().flatten() {
        can_write(path)?;
    }
    if let Some(dir) = &args.plot {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the chart folder {}", dir.display()))?;
    }
    let pages = train::Pages::read_option(args.pages.as_deref())?;
    let train_examples = read_all(&args.train, &pages)?;
    let started = Instant::now();
    let train_samples: Vec<Sample> = train_examples.iter().map(Sample::new).collect();
    let (split, evaluated, evaluation, seen): (String, Vec<Example>, Evaluation, Vec<bool>) =
        if !args.test.is_empty() {
            let test = read_all(&args.test, &pages)?;
            let trained_on: HashSet<&str> = train_examples
                .iter()
                .map(|e| e.comment.content.as_str())
                .collect();
            let seen = test
                .iter()
                .map(|e| trained_on.contains(e.comment.content.as_str()))
                .collect();
            let evaluation =
                evaluation::holdout(&train_examples, &train_samples, &test, &options, &budget)?;
            ("test set".into(), test, evaluation, seen)
        } else {
            let (split, (folds, names)) = match args.kfold {
                Some(k) => (
                    format!("stratified {k}-fold, seed {}", args.seed),
                    evaluation::kfold(&train_examples, k as usize, args.seed),
                ),
                None => {
                    let (folds, names) = evaluation::by_source(&train_examples);
                    anyhow::ensure!(
                        names.len() >= 2,
                        "--by-source needs at least 2 sources to hold out in turn; the data has \
                         one, {:?}",
                        names[0]
                    );
                    ("leave one source out".to_string(), (folds, names))
                }
            };
            if let Some(reason) = evaluation::unusable_fold(&train_examples, &folds, &names) {
                let spam = train_examples.iter().filter(|e| e.is_spam).count();
                anyhow::bail!(
                    "cannot cross-validate {} spam and {} ham this way: {reason}",
                    spam,
                    train_examples.len() - spam
                );
            }
            let seen = seen_in_other_folds(&train_examples, &folds);
            crate::report!("{split}: {} folds", names.len());
            let evaluation = evaluation::cross_validate(
                &train_examples,
                &train_samples,
                &folds,
                &names,
                &options,
                &budget,
                |fold| {
                    crate::report!(
                        "  {}: trained on {}, tested on {}",
                        fold.name,
                        fold.trained_on,
                        fold.members.len()
                    )
                },
            )?;
            (split, train_examples, evaluation, seen)
        };
    crate::report!("evaluated in {:.1} s\n", started.elapsed().as_secs_f64());
    // No figure may come from a comment its model was trained on, even as another copy.
    let seen_in_training = seen.iter().filter(|&&s| s).count();
    anyhow::ensure!(
        seen_in_training < evaluated.len(),
        "every one of the {} evaluated comments was scored by a model trained on a comment of \
         the same text, so nothing is left to report: test on comments the training data do \
         not hold",
        evaluated.len()
    );
    let (evaluated, evaluation) = if seen_in_training > 0 {
        crate::report!(
            "left out {seen_in_training} of the {} evaluated comments: the model that scored \
             {} was trained on a comment of the same text. No figure below counts {}; \
             de-duplicate the data to keep {}.\n",
            evaluated.len(),
            if seen_in_training == 1 { "it" } else { "each" },
            if seen_in_training == 1 { "it" } else { "them" },
            if seen_in_training == 1 { "it" } else { "them" },
        );
        evaluation::leave_out(evaluated, evaluation, &seen)
    } else {
        (evaluated, evaluation)
    };
    let summary = Summary::new(&evaluation, &evaluated);
    crate::report!("{}", summary.markdown());
    crate::report!(
        "scored {} comments in {:.3} s on one thread: {:.0} comments/s",
        summary.scoring.comments,
        summary.scoring.seconds,
        summary.scoring.per_second
    );

    if let Some(path) = &args.json {
        let output = Output {
            split: split.clone(),
            train: &args.train,
            test: &args.test,
            budget,
            seen_in_training,
            summary: &summary,
        };
        let json = serde_json::to_string_pretty(&output).context("serialising the results")?;
        write(path, json.as_bytes())?;
    }
    if let Some(path) = &args.predictions {
        write(path, &predictions(&evaluation, &evaluated)?)?;
    }
    if let Some(dir) = &args.plot {
        let scores = |spam: bool| -> Vec<f64> {
            evaluation
                .held_out
                .iter()
                .filter(|h| h.is_spam == spam)
                .map(|h| h.spam_probability)
                .collect()
        };
        let reliability: Vec<(f64, f64, usize)> = summary
            .overall
            .reliability
            .iter()
            .map(|b| (b.mean_predicted, b.observed_spam, b.comments))
            .collect();
        // Folds choose their own thresholds; the charts mark the median of them.
        let thresholds_note = match evaluation.folds.len() {
            1 => String::new(),
            n => format!("median of {n} folds"),
        };
        let median = |pick: fn(&Thresholds) -> f64| {
            let mut values: Vec<f64> = evaluation
                .folds
                .iter()
                .map(|f| pick(&f.thresholds))
                .collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        let input = PlotInput {
            title: &split,
            roc: &summary.overall.roc,
            auc: summary.overall.auc.unwrap_or(f64::NAN),
            ham_scores: &scores(false),
            spam_scores: &scores(true),
            reliability: &reliability,
            hold_threshold: median(|t| t.hold),
            reject_threshold: median(|t| t.reject),
            thresholds_note: &thresholds_note,
        };
        for path in plot::draw(dir, &input)? {
            crate::report!("wrote {}", path.display());
        }
    }
    Ok(())
}

fn read_all(paths: &[PathBuf], pages: &train::Pages) -> anyhow::Result<Vec<Example>> {
    let mut examples = Vec::new();
    for path in paths {
        let mut read = train::read_dataset(path)?;
        let placed = pages.place(&mut read);
        // Said even when it is none: a misspelt source would otherwise go unnoticed.
        if !pages.is_empty() {
            crate::report!("{}: {placed} comments placed on their page", path.display());
        }
        examples.extend(read);
    }
    anyhow::ensure!(!examples.is_empty(), "no examples in {paths:?}");
    Ok(examples)
}

/// How many examples share their text with an example in another fold: a model tested on
/// one of them was trained on its copy.
fn seen_in_other_folds(examples: &[Example], folds: &[usize]) -> Vec<bool> {
    let mut folds_of: HashMap<&str, HashSet<usize>> = HashMap::new();
    for (e, &fold) in examples.iter().zip(folds) {
        folds_of
            .entry(e.comment.content.as_str())
            .or_default()
            .insert(fold);
    }
    examples
        .iter()
        .zip(folds)
        .map(|(e, fold)| {
            folds_of[e.comment.content.as_str()]
                .iter()
                .any(|f| f != fold)
        })
        .collect()
}

fn predictions(evaluation: &Evaluation, examples: &[Example]) -> anyhow::Result<Vec<u8>> {
    let mut fold_of = vec![""; examples.len()];
    for fold in &evaluation.folds {
        for &i in &fold.members {
            fold_of[i] = &fold.name;
        }
    }
    let mut out = Vec::new();
    for ((e, h), fold) in examples.iter().zip(&evaluation.held_out).zip(fold_of) {
        let line = Prediction {
            id: &e.comment.comment_id,
            source: &e.source,
            label: if e.is_spam { "spam" } else { "ham" },
            spam_probability: h.spam_probability,
            verdict: h.verdict.as_str(),
            fold,
        };
        serde_json::to_writer(&mut out, &line).context("serialising a prediction")?;
        out.write_all(b"\n").context("buffering predictions")?;
    }
    Ok(out)
}

/// Whether a file can be written at `path`: its folder exists and it is not itself one.
fn can_write(path: &Path) -> anyhow::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    anyhow::ensure!(
        folder.is_dir(),
        "cannot write {}: no folder {}",
        path.display(),
        folder.display()
    );
    anyhow::ensure!(
        !path.is_dir(),
        "cannot write {}: it is a folder",
        path.display()
    );
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    crate::report!("wrote {}", path.display());
    Ok(())
}
