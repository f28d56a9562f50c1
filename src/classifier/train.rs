//! Training: reading labelled JSONL datasets, fitting linfa-bayes' `MultinomialNb` in
//! mini-batches, and honest held-out evaluation by stratified k-fold cross-validation.
//!
//! linfa-bayes only trains on dense matrices. A dense row over all 2^20 hashed buckets is
//! 8 MiB, so a 64-row batch would be 512 MiB and mostly zeros. Instead each fit first
//! collects the buckets that actually occur in its training rows (the model's vocabulary)
//! and trains on those columns only, then maps the learned counts back to their buckets.
//! That is exactly the model a [`Classifier`] evaluates: it smooths over the same
//! vocabulary and ignores buckets outside it (a unit test compares it with linfa).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, ensure};
use linfa::Dataset;
use linfa::ParamGuard;
use linfa::traits::FitWith;
use linfa_bayes::{MultinomialNb, MultinomialNbParams};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::Classifier;
use super::calibration::{Budget, Calibration, Evidence, Thresholds};
use super::features::{self, FEATURE_SCHEME, N_FEATURES};
use super::model::{ClassCounts, FeatureKeys, TrainedModel, smoothed_log_probability};
use super::page::Page;
use crate::comment::Comment;
use crate::error::Error;
use crate::verdict::Timestamp;

/// Additive smoothing used unless told otherwise. Features weigh `1/√(n·G)` rather than 1,
/// so a class's counts are small and Laplace's 1.0 would drown them; 0.03 measured best on
/// held-out data among 0.01, 0.03, 0.05, 0.1 and 0.3 (YouTube leave-one-video-out and SMS
/// 10-fold alike), with plain counts. With [`discriminative_weights`], spam F1 / MCC on
/// held-out YouTube videos and MCC on SMS 10-fold were 0.943 / 0.892 / 0.971 at 0.01,
/// 0.944 / 0.894 / 0.970 at 0.02, 0.942 / 0.891 / 0.970 at 0.03, 0.941 / 0.888 / 0.970 at
/// 0.05 and 0.937 / 0.882 / 0.970 at 0.1: 0.03 stays, since moving it for 0.003 would be
/// choosing on the test folds.
pub const DEFAULT_ALPHA: f64 = 0.03;

/// linfa label of legitimate comments.
pub const HAM: usize = 0;
/// linfa label of spam.
pub const SPAM: usize = 1;

/// One labelled comment from a dataset file.
#[derive(Debug, Clone)]
pub struct Example {
    pub comment: Comment,
    pub is_spam: bool,
    /// The record's `source`, e.g. `youtube-spam/Psy`.
    pub source: String,
}

impl Example {
    /// The source up to the first `/` (`youtube-spam`, `sms-spam`): the level at which
    /// evaluation is broken down, since the sets differ in kind, not just in topic.
    pub fn group(&self) -> &str {
        self.source.split('/').next().unwrap_or(&self.source)
    }
}

/// One line of the dataset format (see the datasets README), extended with the author's
/// e-mail and web address, which a site's own labels carry and the classifier reads. `date`
/// is kept but not used: no feature depends on it.
#[derive(Serialize, Deserialize)]
struct Record {
    id: String,
    text: String,
    label: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author_url: Option<String>,
    /// The page the comment was posted on; see [`super::page`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    permalink: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    source: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Label {
    Spam,
    Ham,
}

/// A labelled comment as one dataset line (no newline), which [`parse_dataset`] reads back
/// as the same comment in everything the classifier reads. The site is the `source`, so
/// each site of an exported store is a source of its own to `eval --by-source`. The time is
/// written as `date`, for the record; the IP and user agent, which the classifier does not
/// read, are left out.
pub fn dataset_line(comment: &Comment, is_spam: bool) -> String {
    let present = |field: &str| (!field.is_empty()).then(|| field.to_string());
    let record = Record {
        id: comment.comment_id.clone(),
        text: comment.content.clone(),
        label: if is_spam { Label::Spam } else { Label::Ham },
        author: present(&comment.author_name),
        author_email: present(&comment.author_email),
        author_url: present(&comment.author_url),
        permalink: present(&comment.permalink),
        date: comment.submitted_at.and_then(Timestamp::to_rfc3339),
        source: comment.site_id.clone(),
    };
    serde_json::to_string(&record).expect("a record serialises infallibly")
}

/// Reads a JSONL dataset file.
pub fn read_dataset(path: &Path) -> anyhow::Result<Vec<Example>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    parse_dataset(BufReader::new(file), &path.display().to_string())
}

/// Parses JSONL records; `name` labels errors as `name:line`. Blank lines are skipped. Each
/// record must pass [`Comment::validate`], the same contract the service enforces.
pub fn parse_dataset(reader: impl BufRead, name: &str) -> anyhow::Result<Vec<Example>> {
    let mut examples = Vec::new();
    for (number, line) in reader.lines().enumerate() {
        let at = || format!("{name}:{}", number + 1);
        let line = line.with_context(|| format!("{}: cannot read line", at()))?;
        // Editors on Windows start UTF-8 files with a byte-order mark, which is no JSON.
        let line = match number {
            0 => line.strip_prefix('\u{feff}').unwrap_or(&line),
            _ => &line,
        };
        if line.trim().is_empty() {
            continue;
        }
        let record: Record =
            serde_json::from_str(line).with_context(|| format!("{}: invalid record", at()))?;
        let comment = Comment {
            site_id: record.source.clone(),
            comment_id: record.id,
            content: record.text,
            author_name: record.author.unwrap_or_default(),
            author_email: record.author_email.unwrap_or_default(),
            author_url: record.author_url.unwrap_or_default(),
            permalink: record.permalink.unwrap_or_default(),
            ..Comment::default()
        };
        if let Err(error) = comment.validate(usize::MAX) {
            anyhow::bail!("{}: invalid record: {}", at(), in_dataset_terms(error));
        }
        examples.push(Example {
            comment,
            is_spam: matches!(record.label, Label::Spam),
            source: record.source,
        });
    }
    Ok(examples)
}

/// A comment's validation error in the names of the dataset's fields: the service's
/// `comment.site_id` is a record's `source`, and so on.
fn in_dataset_terms(error: Error) -> String {
    match error {
        Error::InvalidArgument { field, reason } => {
            let field = match field.as_ref() {
                "comment.site_id" => "source",
                "comment.comment_id" => "id",
                "comment.content" => "text",
                "comment.author_name" => "author",
                "comment.author_email" => "author_email",
                "comment.author_url" => "author_url",
                "comment.permalink" => "permalink",
                other => other,
            };
            format!("`{field}` {reason}")
        }
        other => other.to_string(),
    }
}

/// The page each source's comments were posted on, for datasets whose records carry no
/// `permalink` (the YouTube set names its videos only in `source`). Read from a text file of
/// `source permalink` lines; blank lines and lines starting with `#` are skipped.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Pages(BTreeMap<String, String>);

impl Pages {
    /// The pages of a `--pages` option: none when it is not given.
    pub fn read_option(path: Option<&Path>) -> anyhow::Result<Pages> {
        path.map_or_else(|| Ok(Pages::default()), Pages::read)
    }

    pub fn read(path: &Path) -> anyhow::Result<Pages> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Pages::parse(BufReader::new(file), &path.display().to_string())
    }

    /// Parses `source permalink` lines; `name` labels errors as `name:line`. A permalink
    /// must be one the classifier can read as a page, and each source may appear once.
    pub fn parse(reader: impl BufRead, name: &str) -> anyhow::Result<Pages> {
        let mut pages = BTreeMap::new();
        for (number, line) in reader.lines().enumerate() {
            let at = || format!("{name}:{}", number + 1);
            let line = line.with_context(|| format!("{}: cannot read line", at()))?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let (Some(source), Some(permalink), None) =
                (fields.next(), fields.next(), fields.next())
            else {
                anyhow::bail!("{}: expected `source permalink`, got {line:?}", at());
            };
            ensure!(
                Page::of(permalink).is_some(),
                "{}: {permalink:?} is not an absolute http(s) address with a host name",
                at()
            );
            ensure!(
                permalink.len() <= crate::comment::MAX_FIELD_BYTES,
                "{}: the permalink is longer than {} bytes",
                at(),
                crate::comment::MAX_FIELD_BYTES
            );
            ensure!(
                pages
                    .insert(source.to_string(), permalink.to_string())
                    .is_none(),
                "{}: source {source:?} has a page already",
                at()
            );
        }
        ensure!(!pages.is_empty(), "{name}: no `source permalink` line");
        Ok(Pages(pages))
    }

    /// Whether no source has a page (as when `--pages` is not given).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Gives each example without a permalink its source's page; says how many it placed.
    pub fn place(&self, examples: &mut [Example]) -> usize {
        let mut placed = 0;
        for example in examples {
            if example.comment.permalink.is_empty()
                && let Some(page) = self.0.get(&example.source)
            {
                example.comment.permalink.clone_from(page);
                placed += 1;
            }
        }
        placed
    }
}

/// An example reduced to what training needs: its sparse feature row (bucket, weight), one
/// entry per bucket, the features' checks, and its label. Computed once and reused by every
/// fold.
#[derive(Debug, Clone)]
pub struct Sample {
    pub row: Vec<(usize, f64)>,
    /// The [`features::Feature::check`] of each feature in `row`, in the same order.
    pub checks: Vec<u16>,
    pub is_spam: bool,
}

impl Sample {
    /// The example's features, weighted exactly as the classifier weighs them when scoring
    /// (every one is in the vocabulary of a model trained on it).
    pub fn new(example: &Example) -> Sample {
        let features = features::extract(&example.comment);
        let weights = features::group_weights(&features);
        Sample {
            // One feature per bucket.
            row: features
                .iter()
                .map(|f| (f.index as usize, weights[f.group()]))
                .collect(),
            checks: features.iter().map(|f| f.check).collect(),
            is_spam: example.is_spam,
        }
    }
}

/// Hyper-parameters of a fit.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Additive smoothing; must be positive so unseen words do not zero a class out.
    pub alpha: f64,
    /// Rows per dense batch handed to linfa; bounds training memory.
    pub batch_size: usize,
    /// linfa-bayes 0.8.1 has a stray `dbg!` in `fit_with` that pretty-prints both class
    /// histograms, unabbreviated (ndarray prints every element under `{:#?}`), on every
    /// batch: megabytes of stderr per batch. The CLI sets this to send stderr to
    /// `/dev/null` while the batches are fitted; tests leave it off because the test harness
    /// already captures the output and parallel tests cannot share the redirection.
    pub silence_linfa_debug: bool,
    /// Seed of the calibration folds, so a retrain reproduces the same model.
    pub seed: u64,
}

/// Descriptive fields stored with a trained model.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    pub created: String,
    pub training_data: String,
}

/// A part of the training data fitted on its own: linfa-bayes' counts of its samples, each
/// weighted by [`discriminative_weights`]. A model's counts are the sum of its parts' (see
/// [`train`]), so each held-out fold of calibration is scored by exactly the parts it was
/// not in, and no weight was chosen by looking at a held-out label.
pub fn fit_part(samples: &[&Sample], options: &TrainOptions) -> anyhow::Result<[ClassCounts; 2]> {
    check_alpha(options.alpha)?;
    let weights = discriminative_weights(samples, options.alpha, options.seed);
    fit_counts(samples, &weights, options)
}

fn check_alpha(alpha: f64) -> anyhow::Result<()> {
    ensure!(
        alpha.is_finite() && alpha > 0.0,
        "smoothing alpha must be a positive number, got {alpha}"
    );
    Ok(())
}

/// The counts linfa-bayes' `MultinomialNb` learns from `samples`, fitted one mini-batch at a
/// time, each sample's row scaled by its weight: `[ham, spam]`, a class absent from the
/// samples being empty. The prior stays the share of documents: linfa counts rows, whatever
/// their scale. Counts of disjoint sample sets add up ([`ClassCounts::sum`]) to the counts
/// of their union, which is how cross-validation trains k models for the price of one pass.
pub fn fit_counts(
    samples: &[&Sample],
    weights: &[f64],
    options: &TrainOptions,
) -> anyhow::Result<[ClassCounts; 2]> {
    check_alpha(options.alpha)?;
    ensure!(options.batch_size > 0, "batch size must be at least 1");
    ensure!(
        weights.len() == samples.len(),
        "{} weights for {} samples",
        weights.len(),
        samples.len()
    );
    ensure!(
        weights.iter().all(|w| w.is_finite() && *w >= 0.0),
        "sample weights must be finite and not negative"
    );
    if samples.is_empty() {
        return Ok([ClassCounts::empty(), ClassCounts::empty()]);
    }
    let (columns, column_of) = vocabulary(samples);

    let params = MultinomialNbParams::new()
        .alpha(options.alpha)
        .check()
        .context("invalid naive Bayes parameters")?;
    let quiet = options
        .silence_linfa_debug
        .then(gag::Gag::stderr)
        .transpose()
        .context("cannot redirect stderr around linfa-bayes' debug output")?;
    let mut model: Option<MultinomialNb<f64, usize>> = None;
    for (batch, weights) in samples
        .chunks(options.batch_size)
        .zip(weights.chunks(options.batch_size))
    {
        let mut x = Array2::<f64>::zeros((batch.len(), columns.len()));
        for (r, (sample, weight)) in batch.iter().zip(weights).enumerate() {
            for &(bucket, count) in &sample.row {
                x[[r, column_of[&bucket]]] = count * weight;
            }
        }
        let y: Array1<usize> = batch
            .iter()
            .map(|s| if s.is_spam { SPAM } else { HAM })
            .collect();
        let dataset = Dataset::new(x, y);
        let fitted = params.fit_with(model, &dataset);
        model = Some(fitted.context("linfa-bayes failed to fit a batch")?);
    }
    drop(quiet);
    let model = model.expect("at least one batch was fitted");
    learned_counts(&model, |column| columns[column])
}

/// The buckets occurring in `samples`, in order (the columns linfa is fitted on), and each
/// bucket's column.
fn vocabulary(samples: &[&Sample]) -> (Vec<usize>, HashMap<usize, usize>) {
    let columns: Vec<usize> = samples
        .iter()
        .flat_map(|s| s.row.iter().map(|&(bucket, _)| bucket))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let column_of = columns.iter().enumerate().map(|(c, &b)| (b, c)).collect();
    (columns, column_of)
}

/// Passes of [`discriminative_weights`] over the samples, in each of its shuffled orders.
/// Spam F1 / MCC on held-out YouTube videos (`eval --by-source`), and MCC on SMS
/// (`eval --kfold 10`), with a single order, measured when they were introduced:
///
/// | passes | YouTube F1 | YouTube MCC | SMS MCC |
/// |---|---:|---:|---:|
/// | plain counts | 0.937 | 0.882 | 0.969 |
/// | 1 | 0.938 | 0.882 | 0.968 |
/// | 2 | 0.940 | 0.886 | 0.969 |
/// | 5 | 0.941 | 0.889 | 0.970 |
/// | 10 | 0.942 | 0.891 | 0.970 |
/// | 20 | 0.944 | 0.893 | 0.970 |
/// | 40 | 0.942 | 0.891 | 0.972 |
///
/// Ten, picked from a prototype, stood until averaging over [`DISCRIMINATIVE_ORDERS`] took
/// the shuffle's luck out of the comparison. Mean YouTube MCC over 15 seeds at feature
/// scheme 14 with 16 orders: 5 passes 0.8971, 10 0.8991, 15 0.9007, 20 0.9006, 30 0.9001,
/// 40 0.8992. Twenty gave 0.901 at every seed. SMS 10-fold, seeds 1–3: mean 0.9728 at 20
/// with 16 orders, 0.9731 at 10 with one. Chosen on the folds it is reported on, like the
/// other hyper-parameters here; SMS, which it leaves as it was, is the outside check.
pub const DISCRIMINATIVE_PASSES: usize = 20;

/// Independent runs [`discriminative_weights`] averages, called orders because each sees
/// the samples in its own sequence of shuffles (a new one every pass). The estimate is
/// online: a comment's weight depends on which comments came before it, so one order's
/// weights carry that order's luck, and the seed alone moved YouTube's leave-one-video-out
/// MCC between 0.896 and 0.901 (15 seeds, 10 passes, one order). The average over orders
/// estimates the weight a comment gets in a random order. With 16 orders of 20 passes every
/// one of the 15 seeds gave 0.901 (so did 32 orders); with 8, 0.899 to 0.902. Training's
/// weights cost 32 times what one order of 10 passes did: `eval --by-source` on YouTube
/// took 7.0 s instead of 3.4 s.
pub const DISCRIMINATIVE_ORDERS: usize = 16;

/// How much each sample counts in the naive-Bayes counts: discriminative frequency
/// estimation (Su, Zhang, Ling and Matwin, ICML 2008). Plain naive Bayes counts every
/// training comment once, so the thousand comments that say "check out my channel" in
/// the same words outvote the few spam that say it differently, and a word that is common
/// in both classes is counted as evidence twice over by its pairs and stems. Here the
/// counts are built up over [`DISCRIMINATIVE_PASSES`] shuffled passes in which each sample
/// adds its row scaled by how wrong the counts so far are about it (`1 − P(its label)`):
/// comments the model already gets right stop adding, ones it gets wrong keep adding; a
/// sample's weight is what it added, averaged over [`DISCRIMINATIVE_ORDERS`] independent
/// runs in different orders. The result is still a multinomial naive-Bayes model, fitted by
/// linfa-bayes on weighted rows; only the weights are learned. No weight is below
/// [`MIN_WEIGHT`], so every comment's features stay in the vocabulary, as with plain
/// counts: at the default alpha no comment comes near it (the log-odds stay within about
/// ±10), but a tiny alpha can make the counts so sure of a comment that it would add
/// nothing at all. `train` never hands this a part with one class; given one, there is
/// nothing to discriminate and every weight is 1.
pub fn discriminative_weights(samples: &[&Sample], alpha: f64, seed: u64) -> Vec<f64> {
    averaged_over_orders(samples, alpha, seed, DISCRIMINATIVE_ORDERS)
}

/// [`discriminative_weights`] with `orders` orders.
fn averaged_over_orders(samples: &[&Sample], alpha: f64, seed: u64, orders: usize) -> Vec<f64> {
    let (ham, spam) = class_sizes(samples.iter().copied());
    if ham == 0 || spam == 0 {
        return vec![1.0; samples.len()];
    }
    let (columns, column_of) = vocabulary(samples);
    let rows: Vec<Vec<(usize, f64)>> = samples
        .iter()
        .map(|s| s.row.iter().map(|&(b, x)| (column_of[&b], x)).collect())
        .collect();
    let estimate = Estimate {
        samples,
        rows: &rows,
        columns: columns.len(),
        prior_log_odds: (spam as f64 / ham as f64).ln(),
        alpha,
    };
    let mut rng = SplitMix64(seed);
    let mut weights = vec![0.0; samples.len()];
    for _ in 0..orders {
        for (sum, w) in weights.iter_mut().zip(estimate.one_run(&mut rng)) {
            *sum += w;
        }
    }
    weights
        .iter()
        .map(|w| (w / orders as f64).max(MIN_WEIGHT))
        .collect()
}

/// What one run of [`discriminative_weights`] reads: the samples, their rows over the
/// vocabulary's columns, and the smoothing.
struct Estimate<'a> {
    samples: &'a [&'a Sample],
    rows: &'a [Vec<(usize, f64)>],
    columns: usize,
    prior_log_odds: f64,
    alpha: f64,
}

impl Estimate<'_> {
    /// Each sample's weight from one run of [`DISCRIMINATIVE_PASSES`] passes, starting from
    /// empty counts, each pass in a new shuffle drawn from `rng`.
    fn one_run(&self, rng: &mut SplitMix64) -> Vec<f64> {
        let mut counts = [vec![0.0; self.columns], vec![0.0; self.columns]];
        let mut totals = [0.0; 2];
        let mut weights = vec![0.0; self.samples.len()];
        let mut order: Vec<usize> = (0..self.samples.len()).collect();
        for _ in 0..DISCRIMINATIVE_PASSES {
            rng.shuffle(&mut order);
            for &i in &order {
                // The estimate a `Classifier` makes from these counts.
                let log_probability = |class: usize, c: usize| {
                    let (count, total) = (counts[class][c], totals[class]);
                    smoothed_log_probability(count, total, self.alpha, self.columns)
                };
                let log_odds = self.prior_log_odds
                    + self.rows[i]
                        .iter()
                        .map(|&(c, x)| x * (log_probability(SPAM, c) - log_probability(HAM, c)))
                        .sum::<f64>();
                let (class, wrong) = if self.samples[i].is_spam {
                    (SPAM, 1.0 / (1.0 + log_odds.exp()))
                } else {
                    (HAM, 1.0 / (1.0 + (-log_odds).exp()))
                };
                for &(c, x) in &self.rows[i] {
                    counts[class][c] += wrong * x;
                    totals[class] += wrong * x;
                }
                weights[i] += wrong;
            }
        }
        weights
    }
}

/// The least a training comment counts after [`discriminative_weights`].
pub const MIN_WEIGHT: f64 = 1e-6;

/// How many of `samples` are ham and how many spam.
fn class_sizes<'a>(samples: impl Iterator<Item = &'a Sample>) -> (usize, usize) {
    let (mut ham, mut spam) = (0, 0);
    for sample in samples {
        if sample.is_spam {
            spam += 1;
        } else {
            ham += 1;
        }
    }
    (ham, spam)
}

/// Fewest examples of each class for which training holds data out to calibrate and to
/// measure thresholds; below it the model is usable (naive Bayes needs one example of each
/// class) but uncalibrated, with [`Thresholds::UNMEASURED`].
pub const MIN_CALIBRATION_EXAMPLES: usize = 10;

/// Folds of the inner cross-validation that calibrates a model, when it is not by source.
const CALIBRATION_FOLDS: usize = 5;

/// Sources needed before calibration holds out whole sources; with two, each inner model
/// would be trained on a single source.
const MIN_SOURCES_FOR_SOURCE_FOLDS: usize = 3;

/// A trained, calibrated model, how its inner cross-validation scored the training
/// examples (in their order; empty when too few to calibrate), and how that
/// cross-validation split them, which the model card states.
#[derive(Debug)]
pub struct Trained {
    pub model: TrainedModel,
    pub held_out: Vec<f64>,
    pub split: CalibrationSplit,
}

/// How [`train`]'s inner cross-validation split the training data to calibrate the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalibrationSplit {
    /// Fewer than [`MIN_CALIBRATION_EXAMPLES`] of a class: nothing held out, so the model
    /// is uncalibrated, with [`Thresholds::UNMEASURED`].
    Uncalibrated,
    /// One fold per source (leave one source out), this many.
    BySource(usize),
    /// Stratified folds, this many.
    Stratified(usize),
}

impl CalibrationSplit {
    /// The number of folds; 0 when uncalibrated.
    pub fn folds(self) -> usize {
        match self {
            CalibrationSplit::Uncalibrated => 0,
            CalibrationSplit::BySource(n) | CalibrationSplit::Stratified(n) => n,
        }
    }
}

/// Trains the model a server loads: naive Bayes on all `samples`, calibrated on the evidence
/// an inner cross-validation held out, with thresholds read off the calibrated held-out
/// scores under `budget`. `examples` and `samples` are parallel.
pub fn train(
    examples: &[Example],
    samples: &[Sample],
    options: &TrainOptions,
    budget: &Budget,
    info: ModelInfo,
) -> anyhow::Result<Trained> {
    let (ham, spam) = class_sizes(samples.iter());
    ensure!(ham > 0, "the training data has no ham examples");
    ensure!(spam > 0, "the training data has no spam examples");
    let uncalibrated = |[ham, spam]: [ClassCounts; 2], keys: FeatureKeys| TrainedModel {
        name: info.name.clone(),
        created: info.created.clone(),
        training_data: info.training_data.clone(),
        feature_scheme: FEATURE_SCHEME,
        n_features: N_FEATURES,
        alpha: options.alpha,
        ham,
        spam,
        keys,
        calibration: Calibration::IDENTITY,
        thresholds: Thresholds::UNMEASURED,
        budget: None,
    };
    if ham.min(spam) < MIN_CALIBRATION_EXAMPLES {
        let all: Vec<&Sample> = samples.iter().collect();
        return Ok(Trained {
            model: uncalibrated(fit_part(&all, options)?, keys_of(&all)),
            held_out: Vec::new(),
            split: CalibrationSplit::Uncalibrated,
        });
    }

    let (folds, split) = calibration_folds(examples, options.seed);
    let n_folds = split.folds();
    let parts: Vec<([ClassCounts; 2], FeatureKeys)> = (0..n_folds)
        .map(|fold| {
            let members = members(samples, &folds, fold);
            Ok((fit_part(&members, options)?, keys_of(&members)))
        })
        .collect::<anyhow::Result<_>>()?;
    // The model of every part but `skip` (of all, given `None`).
    let summed = |skip: Option<usize>| -> TrainedModel {
        let kept = || {
            parts
                .iter()
                .enumerate()
                .filter(move |&(fold, _)| Some(fold) != skip)
                .map(|(_, part)| part)
        };
        uncalibrated(
            [
                ClassCounts::sum(kept().map(|([ham, _], _)| ham)),
                ClassCounts::sum(kept().map(|([_, spam], _)| spam)),
            ],
            FeatureKeys::union(kept().map(|(_, keys)| keys)),
        )
    };
    let mut evidence = vec![Evidence::default(); examples.len()];
    for fold in 0..n_folds {
        let classifier = Classifier::from_model(&summed(Some(fold)), 0);
        for (i, example) in examples.iter().enumerate() {
            if folds[i] == fold {
                evidence[i] = classifier.evidence(&example.comment);
            }
        }
    }
    let labelled: Vec<(Evidence, bool)> = evidence
        .iter()
        .zip(samples)
        .map(|(&e, s)| (e, s.is_spam))
        .collect();
    let calibration = Calibration::fit(&labelled);
    let held_out: Vec<f64> = evidence
        .iter()
        .map(|e| calibration.probability(e))
        .collect();
    let scored: Vec<(f64, bool)> = held_out
        .iter()
        .zip(samples)
        .map(|(&p, s)| (p, s.is_spam))
        .collect();
    Ok(Trained {
        model: TrainedModel {
            calibration,
            thresholds: Thresholds::from_budget(&scored, budget),
            budget: Some(*budget),
            ..summed(None)
        },
        held_out,
        split,
    })
}

/// The inner folds that calibrate a model: each example's fold, and the split they make.
///
/// Calibrate for what serving meets: comments from a source the model has not seen. Leaving
/// one source out gives more honest (less confident) held-out log-odds than random folds,
/// whose test comments share their source with the training folds. Only within one
/// collection, though: leaving out all of the SMS set would calibrate for a kind of text the
/// final model has in fact seen, and it measured badly underconfident. And only when every
/// source holds [`MIN_CALIBRATION_EXAMPLES`] of each class: a source of one spam and one
/// ham (a whole language of a small multilingual set) leaves evidence that is noise, and
/// calibrating on noise turns every score into 0.5. Otherwise, stratified folds.
fn calibration_folds(examples: &[Example], seed: u64) -> (Vec<usize>, CalibrationSplit) {
    let mut sources: Vec<&str> = examples.iter().map(|e| e.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let one_group = examples.iter().all(|e| e.group() == examples[0].group());
    let sizable = |source: &str| {
        [false, true].iter().all(|&spam| {
            let of_class = examples
                .iter()
                .filter(|e| e.source == source && e.is_spam == spam)
                .count();
            of_class >= MIN_CALIBRATION_EXAMPLES
        })
    };
    if one_group
        && sources.len() >= MIN_SOURCES_FOR_SOURCE_FOLDS
        && sources.iter().all(|s| sizable(s))
    {
        let fold_of = |e: &Example| {
            sources
                .binary_search(&e.source.as_str())
                .expect("every source was collected")
        };
        (
            examples.iter().map(fold_of).collect(),
            CalibrationSplit::BySource(sources.len()),
        )
    } else {
        (
            stratified_folds(examples, CALIBRATION_FOLDS, seed),
            CalibrationSplit::Stratified(CALIBRATION_FOLDS),
        )
    }
}

/// The keys of the features `samples` hold.
fn keys_of(samples: &[&Sample]) -> FeatureKeys {
    FeatureKeys::of(samples.iter().flat_map(|s| {
        // Buckets are below N_FEATURES = 2^20, so they fit in u32.
        s.row
            .iter()
            .zip(&s.checks)
            .map(|(&(bucket, _), &check)| (bucket as u32, check))
    }))
}

/// The samples in one fold.
fn members<'a>(samples: &'a [Sample], folds: &[usize], fold: usize) -> Vec<&'a Sample> {
    samples
        .iter()
        .zip(folds)
        .filter(|&(_, &f)| f == fold)
        .map(|(s, _)| s)
        .collect()
}

/// Mirror of linfa-bayes' private `MultinomialNb` layout, read through its serde
/// representation: the only way to get at the learned counts. Only the fields used are
/// declared; serde skips `prior` and `feature_log_prob`, which the classifier recomputes.
#[derive(Deserialize)]
struct NbMirror {
    class_info: HashMap<usize, HistogramMirror>,
}

#[derive(Deserialize)]
struct HistogramMirror {
    class_count: usize,
    feature_count: Array1<f64>,
}

/// The learned `[ham, spam]` counts of a fitted linfa model, non-zero columns only, each
/// column mapped to its hash bucket by `bucket_of`; a class that never occurred is empty.
pub(crate) fn learned_counts(
    model: &MultinomialNb<f64, usize>,
    bucket_of: impl Fn(usize) -> usize,
) -> anyhow::Result<[ClassCounts; 2]> {
    let json = serde_json::to_value(model).context("cannot serialise the linfa model")?;
    let mirror: NbMirror = serde_json::from_value(json)
        .context("linfa-bayes' serialised MultinomialNb no longer has the expected layout")?;
    let class = |label: usize| -> ClassCounts {
        let Some(histogram) = mirror.class_info.get(&label) else {
            return ClassCounts::empty();
        };
        let (indices, counts) = histogram
            .feature_count
            .iter()
            .enumerate()
            .filter(|&(_, &count)| count != 0.0)
            .map(|(column, &count)| (bucket_of(column) as u32, count))
            .unzip();
        ClassCounts {
            documents: histogram.class_count as u64,
            indices,
            counts,
        }
    };
    Ok([class(HAM), class(SPAM)])
}

/// Stratified folds: every (source group, label) stratum is shuffled with a seeded
/// generator and dealt out round-robin, continuing where the previous stratum stopped so
/// fold sizes stay within one. Each fold mirrors the mix of datasets and classes.
pub fn stratified_folds(examples: &[Example], k: usize, seed: u64) -> Vec<usize> {
    let mut strata: BTreeMap<(&str, bool), Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        strata.entry((e.group(), e.is_spam)).or_default().push(i);
    }
    let mut rng = SplitMix64(seed);
    let mut folds = vec![0; examples.len()];
    let mut dealt = 0;
    for members in strata.values_mut() {
        rng.shuffle(members);
        for &member in members.iter() {
            folds[member] = dealt % k;
            dealt += 1;
        }
    }
    folds
}

/// SplitMix64: a tiny, well-known generator whose output is fixed by its definition, so the
/// folds for a seed never change with a dependency upgrade (unlike `rand`'s generators).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`; the modulo bias is below 2^-40 for any realistic dataset size.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Fisher-Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<Example> {
        parse_dataset(
            include_str!("../../tests/fixtures/train.jsonl").as_bytes(),
            "train.jsonl",
        )
        .unwrap()
    }

    #[test]
    fn parses_records_and_names_bad_lines() {
        let examples = fixture();
        assert!(examples.len() >= 40);
        assert!(examples.iter().any(|e| e.is_spam) && examples.iter().any(|e| !e.is_spam));

        let good = r#"{"id": "a", "text": "hi", "label": "ham", "source": "x/y"}"#;
        let cases = [
            (
                format!("{good}\n\n{{\"id\": \"b\""),
                "data.jsonl:3: invalid record",
            ),
            (
                format!("{good}\n{}", good.replace("\"ham\"", "\"eggs\"")),
                "data.jsonl:2: invalid record",
            ),
            (
                good.replace("\"hi\"", "\"  \""),
                "data.jsonl:1: invalid record: `text` must not be empty",
            ),
            (
                good.replace("\"a\"", "\"\""),
                "data.jsonl:1: invalid record: `id` must not be empty",
            ),
            (
                good.replace("\"x/y\"", "\"\""),
                "data.jsonl:1: invalid record: `source` must not be empty",
            ),
            // A byte-order mark is skipped only where editors write it.
            (
                format!("{good}\n\u{feff}{good}"),
                "data.jsonl:2: invalid record",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_dataset(text.as_bytes(), "data.jsonl").unwrap_err();
            assert!(format!("{err:#}").starts_with(expected), "{err:#}");
        }
        let parsed = parse_dataset(good.as_bytes(), "data.jsonl").unwrap();
        assert_eq!(parsed[0].group(), "x");
        let with_bom = parse_dataset(format!("\u{feff}{good}").as_bytes(), "data.jsonl").unwrap();
        assert_eq!(with_bom[0].comment.comment_id, "a");
        assert_eq!(parsed[0].comment.comment_id, "a");
    }

    /// A site's exported label reads back as the comment the classifier saw: every field it
    /// reads, with the site as the source; an invalid author e-mail in a dataset is refused
    /// like one sent to the service.
    #[test]
    fn a_dataset_line_reads_back_as_the_same_comment() {
        let comment = Comment {
            site_id: "blog.example".into(),
            comment_id: "c-17".into(),
            content: "Great post \"quoted\"\nsecond line, سلام".into(),
            author_name: "Ann".into(),
            author_email: "ann@mail.example".into(),
            author_url: "https://ann.example/".into(),
            author_ip: "192.0.2.7".into(),
            user_agent: "Mozilla/5.0".into(),
            permalink: "https://blog.example/2026/11/post".into(),
            submitted_at: Some(Timestamp(1_764_300_000_123_456)),
        };
        let line = dataset_line(&comment, true);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.contains(r#""date":"2025-11-28T03:20:00.123456Z""#),
            "{line}"
        );
        let read = parse_dataset(line.as_bytes(), "labels.jsonl").unwrap();
        assert_eq!(read.len(), 1);
        assert!(read[0].is_spam);
        assert_eq!(read[0].source, "blog.example");
        assert_eq!(
            read[0].comment,
            Comment {
                author_ip: String::new(),
                user_agent: String::new(),
                submitted_at: None,
                ..comment.clone()
            }
        );
        assert_eq!(
            features::extract(&read[0].comment).len(),
            features::extract(&comment).len()
        );

        // Empty fields are left out rather than written as "".
        let bare = Comment {
            site_id: "s".into(),
            comment_id: "1".into(),
            content: "hi".into(),
            ..Comment::default()
        };
        assert_eq!(
            dataset_line(&bare, false),
            r#"{"id":"1","text":"hi","label":"ham","source":"s"}"#
        );

        let bad_email = r#"{"id": "a", "text": "hi", "label": "ham", "author_email": "not an address", "source": "s"}"#;
        let err = parse_dataset(bad_email.as_bytes(), "labels.jsonl").unwrap_err();
        assert!(
            format!("{err:#}").contains("`author_email` \"not an address\" is not an e-mail"),
            "{err:#}"
        );
    }

    /// A record's own permalink is read and kept; a pages file gives one to the records of
    /// its sources that have none, and refuses lines it cannot use.
    #[test]
    fn comments_are_placed_on_their_pages() {
        let records = r#"{"id": "a", "text": "hi", "label": "ham", "source": "yt/Psy"}
{"id": "b", "text": "hi", "label": "ham", "source": "yt/Psy", "permalink": "https://own.example/p"}
{"id": "c", "text": "hi", "label": "spam", "source": "yt/Other"}"#;
        let mut examples = parse_dataset(records.as_bytes(), "data.jsonl").unwrap();
        assert_eq!(examples[1].comment.permalink, "https://own.example/p");

        let pages = Pages::parse(
            "# the videos\n\nyt/Psy\thttps://www.youtube.com/watch?v=9bZkp7q19f0\n  yt/Gone  https://x.example/ \n"
                .as_bytes(),
            "pages",
        )
        .unwrap();
        assert_eq!(pages.place(&mut examples), 1);
        let permalinks: Vec<&str> = examples
            .iter()
            .map(|e| e.comment.permalink.as_str())
            .collect();
        assert_eq!(
            permalinks,
            [
                "https://www.youtube.com/watch?v=9bZkp7q19f0",
                "https://own.example/p",
                ""
            ]
        );

        // The shipped file gives each of the YouTube set's five videos its watch page.
        let shipped = Pages::read(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/youtube-spam.pages"
        )))
        .unwrap();
        let videos: Vec<&str> = shipped.0.keys().map(String::as_str).collect();
        assert_eq!(
            videos,
            ["Eminem", "KatyPerry", "LMFAO", "Psy", "Shakira"].map(|v| format!("youtube-spam/{v}"))
        );
        assert!(
            shipped
                .0
                .values()
                .all(|page| page.starts_with("https://www.youtube.com/watch?v="))
        );

        let long = format!(
            "a https://x.example/{}",
            "p".repeat(crate::comment::MAX_FIELD_BYTES)
        );
        for (text, expected) in [
            ("a", "pages:1: expected `source permalink`, got \"a\""),
            (
                "a b c",
                "pages:1: expected `source permalink`, got \"a b c\"",
            ),
            (
                "\na http://",
                "pages:2: \"http://\" is not an absolute http(s) address with a host name",
            ),
            (
                "a /2026/11/post/",
                "pages:1: \"/2026/11/post/\" is not an absolute http(s) address with a host name",
            ),
            (
                "a http://x.example\na http://y.example",
                "pages:2: source \"a\" has a page already",
            ),
            (
                long.as_str(),
                "pages:1: the permalink is longer than 2048 bytes",
            ),
            ("# only a comment\n\n", "pages: no `source permalink` line"),
        ] {
            let err = Pages::parse(text.as_bytes(), "pages").unwrap_err();
            assert_eq!(format!("{err:#}"), expected);
        }
    }

    fn options() -> TrainOptions {
        TrainOptions {
            alpha: 1.0,
            batch_size: 16,
            silence_linfa_debug: false,
            seed: 5,
        }
    }

    fn info() -> ModelInfo {
        ModelInfo {
            name: "x".into(),
            created: String::new(),
            training_data: String::new(),
        }
    }

    fn train_on(examples: &[Example], options: &TrainOptions) -> anyhow::Result<Trained> {
        let samples: Vec<Sample> = examples.iter().map(Sample::new).collect();
        train(examples, &samples, options, &Budget::default(), info())
    }

    #[test]
    fn training_refuses_a_missing_class_and_bad_alpha() {
        let spam_only: Vec<Example> = fixture().into_iter().filter(|e| e.is_spam).collect();
        let err = train_on(&spam_only, &options()).unwrap_err();
        assert!(err.to_string().contains("no ham examples"), "{err:#}");
        let bad = TrainOptions {
            alpha: 0.0,
            ..options()
        };
        let err = train_on(&fixture(), &bad).unwrap_err();
        assert!(format!("{err:#}").contains("alpha"), "{err:#}");

        let samples: Vec<Sample> = fixture().iter().map(Sample::new).collect();
        let all: Vec<&Sample> = samples.iter().collect();
        let short = vec![1.0; all.len() - 1];
        let err = fit_counts(&all, &short, &options()).unwrap_err();
        assert!(err.to_string().contains("weights for"), "{err:#}");
        let mut negative = vec![1.0; all.len()];
        negative[3] = -1.0;
        let err = fit_counts(&all, &negative, &options()).unwrap_err();
        assert!(err.to_string().contains("not negative"), "{err:#}");
    }

    /// The model is the sum of its calibration folds' fits, each with discriminative weights
    /// learned on that fold alone: what makes every held-out fold's scores honest, and what
    /// the card describes.
    #[test]
    fn the_model_sums_each_calibration_folds_weighted_fit() {
        let examples = fixture();
        let samples: Vec<Sample> = examples.iter().map(Sample::new).collect();
        let model = train_on(&examples, &options()).unwrap().model;
        let (folds, split) = calibration_folds(&examples, options().seed);
        let parts: Vec<[ClassCounts; 2]> = (0..split.folds())
            .map(|fold| fit_part(&members(&samples, &folds, fold), &options()).unwrap())
            .collect();
        assert_eq!(
            model.ham,
            ClassCounts::sum(parts.iter().map(|[ham, _]| ham))
        );
        assert_eq!(
            model.spam,
            ClassCounts::sum(parts.iter().map(|[_, spam]| spam))
        );

        let all: Vec<&Sample> = samples.iter().collect();
        let [plain_ham, plain_spam] = fit_counts(&all, &vec![1.0; all.len()], &options()).unwrap();
        assert_eq!(model.ham.indices, plain_ham.indices, "the same vocabulary");
        let far_apart = |a: &ClassCounts, b: &ClassCounts| {
            a.counts
                .iter()
                .zip(&b.counts)
                .any(|(x, y)| (x - y).abs() > 0.01)
        };
        assert!(far_apart(&model.ham, &plain_ham), "weighted, not plain");
        assert!(far_apart(&model.spam, &plain_spam), "weighted, not plain");
    }

    #[test]
    fn discriminative_weights_stay_positive_even_when_the_counts_are_certain() {
        let samples: Vec<Sample> = fixture().iter().map(Sample::new).collect();
        let all: Vec<&Sample> = samples.iter().collect();
        // A tiny alpha makes unseen features all but impossible, so the counts are sure of
        // nearly every comment after one pass.
        let weights = discriminative_weights(&all, 1e-200, 3);
        assert!(
            weights.iter().all(|&w| w >= MIN_WEIGHT && w.is_finite()),
            "{weights:?}"
        );
        assert_eq!(
            weights,
            discriminative_weights(&all, 1e-200, 3),
            "deterministic"
        );
        let one_class: Vec<&Sample> = all.iter().copied().filter(|s| s.is_spam).collect();
        assert!(
            discriminative_weights(&one_class, 0.5, 3)
                .iter()
                .all(|&w| w == 1.0)
        );
    }

    /// One order's weights carry its luck: retrained with another seed, a model moved
    /// YouTube's held-out MCC by up to 0.005. Averaged over the orders, two seeds' weights
    /// must lie far closer together than two single orders' do.
    #[test]
    fn averaging_over_orders_takes_out_most_of_the_seeds_luck() {
        let samples: Vec<Sample> = fixture().iter().map(Sample::new).collect();
        let all: Vec<&Sample> = samples.iter().collect();
        let apart = |orders: usize| {
            let [a, b] = [1, 2].map(|seed| averaged_over_orders(&all, 0.5, seed, orders));
            a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f64>()
        };
        let (one, averaged) = (apart(1), apart(DISCRIMINATIVE_ORDERS));
        assert!(one > 0.0, "the seed must change one order's weights");
        assert!(averaged < one / 2.0, "{averaged} vs {one}");
        assert_eq!(
            discriminative_weights(&all, 0.5, 1),
            averaged_over_orders(&all, 0.5, 1, DISCRIMINATIVE_ORDERS)
        );
    }

    /// rspamd and SpamAssassin refuse to use Bayes below 200 learned messages per class;
    /// comments need a filter that learns from the first label of each kind.
    #[test]
    fn classifies_from_the_first_label_of_each_class_and_two_word_comments() {
        let examples = parse_dataset(
            concat!(
                r#"{"id": "1", "text": "subscribe to my channel", "label": "spam", "source": "s"}"#,
                "\n",
                r#"{"id": "2", "text": "lovely song, great voice", "label": "ham", "source": "s"}"#,
            )
            .as_bytes(),
            "two.jsonl",
        )
        .unwrap();
        let trained = train_on(&examples, &options()).unwrap();
        assert!(trained.held_out.is_empty());
        assert_eq!(trained.model.budget, None);
        assert_eq!(trained.model.thresholds, Thresholds::UNMEASURED);
        let classifier = Classifier::from_model(&trained.model, 0);
        let spam = classifier.score(&crate::comment::sample("my channel"));
        let ham = classifier.score(&crate::comment::sample("great song"));
        assert!(spam.spam_probability > 0.5, "{spam:?}");
        assert!(ham.spam_probability < 0.5, "{ham:?}");
        assert!(spam.contributions.iter().any(|c| c.feature == "'channel'"));
    }

    #[test]
    fn calibrated_training_holds_data_out_and_measures_thresholds() {
        let examples = fixture();
        let trained = train_on(&examples, &options()).unwrap();
        assert_eq!(trained.held_out.len(), examples.len());
        assert!(trained.held_out.iter().all(|p| (0.0..=1.0).contains(p)));
        let model = &trained.model;
        assert_eq!(model.budget, Some(Budget::default()));
        assert!(
            model.calibration.slopes().any(|a| *a > 0.0),
            "{:?}",
            model.calibration
        );
        let t = model.thresholds;
        assert!(t.hold <= t.reject && t.reject <= t.trusted_reject, "{t:?}");
        // Retraining with the same seed reproduces the model exactly.
        assert_eq!(&train_on(&examples, &options()).unwrap().model, model);
    }

    /// Cross-validation sums per-fold counts instead of refitting; that is only sound if
    /// linfa's counts are additive over disjoint sets.
    #[test]
    fn counts_of_parts_sum_to_the_counts_of_the_whole() {
        let samples: Vec<Sample> = fixture().iter().map(Sample::new).collect();
        let all: Vec<&Sample> = samples.iter().collect();
        let (left, right) = all.split_at(all.len() / 3);
        let weights: Vec<f64> = (0..all.len()).map(|i| 0.25 + i as f64 / 7.0).collect();
        let (weights_l, weights_r) = weights.split_at(left.len());
        let [ham_l, spam_l] = fit_counts(left, weights_l, &options()).unwrap();
        let [ham_r, spam_r] = fit_counts(right, weights_r, &options()).unwrap();
        let [ham, spam] = fit_counts(&all, &weights, &options()).unwrap();
        let close = |a: &ClassCounts, b: &ClassCounts| {
            a.documents == b.documents
                && a.indices == b.indices
                && a.counts
                    .iter()
                    .zip(&b.counts)
                    .all(|(x, y)| (x - y).abs() < 1e-9)
        };
        assert!(close(&ClassCounts::sum([&ham_l, &ham_r]), &ham));
        assert!(close(&ClassCounts::sum([&spam_l, &spam_r]), &spam));
    }

    #[test]
    fn calibration_leaves_out_sources_only_when_each_is_sizable() {
        let example = |source: &str, is_spam: bool| Example {
            comment: crate::comment::sample("text"),
            is_spam,
            source: source.into(),
        };
        let sized = |per_class: usize, sources: &[&str]| -> Vec<Example> {
            sources
                .iter()
                .flat_map(|s| (0..2 * per_class).map(move |i| example(s, i % 2 == 0)))
                .collect()
        };
        let videos = ["yt/a", "yt/b", "yt/c"];
        let examples = sized(MIN_CALIBRATION_EXAMPLES, &videos);
        let (folds, split) = calibration_folds(&examples, 1);
        assert_eq!(split, CalibrationSplit::BySource(3));
        for (e, fold) in examples.iter().zip(&folds) {
            assert_eq!(videos[*fold], e.source);
        }
        let stratified = CalibrationSplit::Stratified(CALIBRATION_FOLDS);
        // One spam short in one source: stratified folds instead.
        let mut short = examples.clone();
        let at = short
            .iter()
            .position(|e| e.source == "yt/c" && e.is_spam)
            .unwrap();
        short.remove(at);
        assert_eq!(calibration_folds(&short, 1).1, stratified);
        // Sources from two collections: stratified folds.
        let mut mixed = examples.clone();
        mixed.extend(sized(MIN_CALIBRATION_EXAMPLES, &["sms/x"]));
        assert_eq!(calibration_folds(&mixed, 1).1, stratified);
        // Too few sources: stratified folds.
        let two = sized(MIN_CALIBRATION_EXAMPLES, &videos[..2]);
        assert_eq!(calibration_folds(&two, 1).1, stratified);
    }

    #[test]
    fn folds_are_stratified_deterministic_and_balanced() {
        let examples = fixture();
        let folds = stratified_folds(&examples, 4, 7);
        assert_eq!(folds, stratified_folds(&examples, 4, 7));
        for fold in 0..4 {
            let members: Vec<&Example> = examples
                .iter()
                .zip(&folds)
                .filter(|&(_, &f)| f == fold)
                .map(|(e, _)| e)
                .collect();
            let spam = members.iter().filter(|e| e.is_spam).count();
            assert!(members.len().abs_diff(examples.len() / 4) <= 1);
            assert!(spam > 0 && spam < members.len());
        }
    }
}
