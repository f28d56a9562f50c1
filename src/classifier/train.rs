//! Training: reading labelled JSONL datasets, fitting linfa-bayes' `MultinomialNb` in
//! mini-batches, and honest held-out evaluation by stratified k-fold cross-validation.
//!
//! linfa-bayes only trains on dense matrices. A dense row over all 2^18 hashed buckets is
//! 2 MiB, so a 64-row batch would be 128 MiB and mostly zeros. Instead each fit first
//! collects the buckets that actually occur in its training rows (ten thousand or so, the
//! model's vocabulary) and trains on those columns only, then maps the learned counts back
//! to their buckets. That is exactly the model a [`Classifier`] evaluates: it smooths over
//! the same vocabulary and ignores buckets outside it (a unit test compares it with linfa).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, bail, ensure};
use linfa::Dataset;
use linfa::ParamGuard;
use linfa::traits::FitWith;
use linfa_bayes::{MultinomialNb, MultinomialNbParams};
use ndarray::{Array1, Array2};
use serde::Deserialize;

use super::Classifier;
use super::features::{self, FEATURE_SCHEME, N_FEATURES};
use super::model::{ClassCounts, TrainedModel};
use crate::comment::Comment;

/// linfa label of legitimate comments.
pub const HAM: usize = 0;
/// linfa label of spam.
pub const SPAM: usize = 1;

/// Spam-probability thresholds reported by the evaluation, chosen to bracket plausible
/// "hold for moderation" and "reject outright" settings.
pub const THRESHOLDS: [f64; 6] = [0.5, 0.7, 0.9, 0.95, 0.99, 0.999];

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

/// One line of the dataset format (see the datasets README). `date` is accepted but not
/// used: no feature depends on it yet.
#[derive(Deserialize)]
struct Record {
    id: String,
    text: String,
    label: Label,
    #[serde(default)]
    author: Option<String>,
    source: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Label {
    Spam,
    Ham,
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
        if line.trim().is_empty() {
            continue;
        }
        let record: Record =
            serde_json::from_str(&line).with_context(|| format!("{}: invalid record", at()))?;
        let comment = Comment {
            site_id: record.source.clone(),
            comment_id: record.id,
            content: record.text,
            author_name: record.author.unwrap_or_default(),
            ..Comment::default()
        };
        comment
            .validate(usize::MAX)
            .with_context(|| format!("{}: invalid record", at()))?;
        examples.push(Example {
            comment,
            is_spam: matches!(record.label, Label::Spam),
            source: record.source,
        });
    }
    Ok(examples)
}

/// An example reduced to what training needs: its sparse feature row (bucket, count),
/// sorted by bucket, and its label. Computed once and reused by every fold.
#[derive(Debug, Clone)]
pub struct Sample {
    pub row: Vec<(usize, f64)>,
    pub is_spam: bool,
}

impl Sample {
    pub fn new(example: &Example) -> Sample {
        let mut row: BTreeMap<usize, f64> = BTreeMap::new();
        for f in features::extract(&example.comment) {
            // Distinct keys can share a bucket; the model only sees buckets.
            *row.entry(f.index).or_insert(0.0) += f.count;
        }
        Sample {
            row: row.into_iter().collect(),
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
}

/// Descriptive fields stored with a trained model.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub name: String,
    pub created: String,
    pub training_data: String,
}

/// Fits multinomial naive Bayes to `samples` with linfa-bayes, one mini-batch at a time,
/// and returns the learned counts as a storable model.
pub fn fit(
    samples: &[&Sample],
    options: &TrainOptions,
    info: ModelInfo,
) -> anyhow::Result<TrainedModel> {
    ensure!(
        options.alpha.is_finite() && options.alpha > 0.0,
        "smoothing alpha must be a positive number, got {}",
        options.alpha
    );
    ensure!(options.batch_size > 0, "batch size must be at least 1");
    ensure!(!samples.is_empty(), "no training samples");
    let columns: Vec<usize> = samples
        .iter()
        .flat_map(|s| s.row.iter().map(|&(bucket, _)| bucket))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    ensure!(
        !columns.is_empty(),
        "the training data has no features at all"
    );
    let column_of: HashMap<usize, usize> =
        columns.iter().enumerate().map(|(c, &b)| (b, c)).collect();

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
    for batch in samples.chunks(options.batch_size) {
        let mut x = Array2::<f64>::zeros((batch.len(), columns.len()));
        for (r, sample) in batch.iter().enumerate() {
            for &(bucket, count) in &sample.row {
                x[[r, column_of[&bucket]]] = count;
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
    let [ham, spam] = learned_counts(&model, |column| columns[column])?;
    Ok(TrainedModel {
        name: info.name,
        created: info.created,
        training_data: info.training_data,
        feature_scheme: FEATURE_SCHEME,
        n_features: N_FEATURES,
        alpha: options.alpha,
        ham,
        spam,
    })
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
/// column mapped to its hash bucket by `bucket_of`. Fails if a class never occurred.
pub(crate) fn learned_counts(
    model: &MultinomialNb<f64, usize>,
    bucket_of: impl Fn(usize) -> usize,
) -> anyhow::Result<[ClassCounts; 2]> {
    let json = serde_json::to_value(model).context("cannot serialise the linfa model")?;
    let mirror: NbMirror = serde_json::from_value(json)
        .context("linfa-bayes' serialised MultinomialNb no longer has the expected layout")?;
    let class = |label: usize, name: &str| -> anyhow::Result<ClassCounts> {
        let Some(histogram) = mirror.class_info.get(&label) else {
            bail!("the training data has no {name} examples");
        };
        let (indices, counts) = histogram
            .feature_count
            .iter()
            .enumerate()
            .filter(|&(_, &count)| count != 0.0)
            .map(|(column, &count)| (bucket_of(column) as u32, count))
            .unzip();
        Ok(ClassCounts {
            documents: histogram.class_count as u64,
            indices,
            counts,
        })
    };
    Ok([class(HAM, "ham")?, class(SPAM, "spam")?])
}

/// The held-out verdict on one example.
#[derive(Debug, Clone)]
pub struct HeldOut {
    pub spam_probability: f64,
    pub is_spam: bool,
    /// [`Example::group`] of the example.
    pub group: String,
}

/// Stratified k-fold cross-validation: every example is scored exactly once, by a model
/// that never saw it. Strata are (source group, label), so each fold mirrors the mix of
/// datasets and classes. `progress` is told about each finished fold.
pub fn cross_validate(
    examples: &[Example],
    samples: &[Sample],
    k: usize,
    seed: u64,
    options: &TrainOptions,
    mut progress: impl FnMut(usize, usize, usize),
) -> anyhow::Result<Vec<HeldOut>> {
    ensure!(k >= 2, "cross-validation needs at least 2 folds, got {k}");
    ensure!(
        examples.len() >= k,
        "cannot split {} examples into {k} folds",
        examples.len()
    );
    let folds = assign_folds(examples, k, seed);
    let mut held_out = Vec::with_capacity(examples.len());
    for fold in 0..k {
        let training: Vec<&Sample> = samples
            .iter()
            .zip(&folds)
            .filter(|&(_, &f)| f != fold)
            .map(|(s, _)| s)
            .collect();
        let info = ModelInfo {
            name: format!("cv-fold-{}", fold + 1),
            created: String::new(),
            training_data: String::new(),
        };
        let model =
            fit(&training, options, info).with_context(|| format!("fold {} of {k}", fold + 1))?;
        let classifier = Classifier::from_model(&model, 0);
        let before = held_out.len();
        held_out.extend(
            examples
                .iter()
                .zip(&folds)
                .filter(|&(_, &f)| f == fold)
                .map(|(e, _)| HeldOut {
                    spam_probability: classifier.score(&e.comment).spam_probability,
                    is_spam: e.is_spam,
                    group: e.group().to_string(),
                }),
        );
        progress(fold + 1, training.len(), held_out.len() - before);
    }
    Ok(held_out)
}

/// Fold of each example: every stratum is shuffled with a seeded generator and dealt out
/// round-robin, continuing where the previous stratum stopped so fold sizes stay within one.
fn assign_folds(examples: &[Example], k: usize, seed: u64) -> Vec<usize> {
    let mut strata: BTreeMap<(&str, bool), Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        strata.entry((e.group(), e.is_spam)).or_default().push(i);
    }
    let mut rng = SplitMix64(seed);
    let mut folds = vec![0; examples.len()];
    let mut dealt = 0;
    for members in strata.values_mut() {
        for i in (1..members.len()).rev() {
            members.swap(i, rng.below(i + 1));
        }
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
}

/// Held-out quality of a set of verdicts, classifying as spam at probability ≥ 0.5.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub ham: usize,
    pub spam: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    /// `(threshold, ham ≥ threshold, spam ≥ threshold)` counts for [`THRESHOLDS`].
    pub thresholds: Vec<(f64, usize, usize)>,
}

impl Metrics {
    pub fn compute<'a>(verdicts: impl IntoIterator<Item = &'a HeldOut>) -> Metrics {
        let verdicts: Vec<&HeldOut> = verdicts.into_iter().collect();
        let spam = verdicts.iter().filter(|v| v.is_spam).count();
        let at_least = |t: f64, is_spam: bool| {
            verdicts
                .iter()
                .filter(|v| v.is_spam == is_spam && v.spam_probability >= t)
                .count()
        };
        Metrics {
            ham: verdicts.len() - spam,
            spam,
            true_positives: at_least(0.5, true),
            false_positives: at_least(0.5, false),
            thresholds: THRESHOLDS
                .iter()
                .map(|&t| (t, at_least(t, false), at_least(t, true)))
                .collect(),
        }
    }

    /// Share of correct verdicts; `None` for an empty set.
    pub fn accuracy(&self) -> Option<f64> {
        let total = self.ham + self.spam;
        let true_negatives = self.ham - self.false_positives;
        (total > 0).then(|| (self.true_positives + true_negatives) as f64 / total as f64)
    }

    /// Spam precision; `None` when nothing was flagged.
    pub fn precision(&self) -> Option<f64> {
        let flagged = self.true_positives + self.false_positives;
        (flagged > 0).then(|| self.true_positives as f64 / flagged as f64)
    }

    /// Spam recall; `None` when there is no spam.
    pub fn recall(&self) -> Option<f64> {
        (self.spam > 0).then(|| self.true_positives as f64 / self.spam as f64)
    }

    /// Harmonic mean of precision and recall; `None` when either is undefined or both are 0.
    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        (p + r > 0.0).then(|| 2.0 * p * r / (p + r))
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
                "data.jsonl:1: invalid record",
            ),
            (
                good.replace("\"a\"", "\"\""),
                "data.jsonl:1: invalid record",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_dataset(text.as_bytes(), "data.jsonl").unwrap_err();
            assert!(format!("{err:#}").starts_with(expected), "{err:#}");
        }
        let parsed = parse_dataset(good.as_bytes(), "data.jsonl").unwrap();
        assert_eq!(parsed[0].group(), "x");
        assert_eq!(parsed[0].comment.comment_id, "a");
    }

    #[test]
    fn fit_refuses_single_class_and_bad_alpha() {
        let examples: Vec<Example> = fixture().into_iter().filter(|e| e.is_spam).collect();
        let samples: Vec<Sample> = examples.iter().map(Sample::new).collect();
        let refs: Vec<&Sample> = samples.iter().collect();
        let info = || ModelInfo {
            name: "x".into(),
            created: String::new(),
            training_data: String::new(),
        };
        let mut options = TrainOptions {
            alpha: 1.0,
            batch_size: 64,
            silence_linfa_debug: false,
        };
        let err = fit(&refs, &options, info()).unwrap_err();
        assert!(err.to_string().contains("no ham examples"), "{err:#}");
        options.alpha = 0.0;
        let err = fit(&refs, &options, info()).unwrap_err();
        assert!(err.to_string().contains("alpha"), "{err:#}");
    }

    #[test]
    fn folds_are_stratified_deterministic_and_balanced() {
        let examples = fixture();
        let folds = assign_folds(&examples, 4, 7);
        assert_eq!(folds, assign_folds(&examples, 4, 7));
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

    #[test]
    fn cross_validation_scores_every_example_once() {
        let examples = fixture();
        let samples: Vec<Sample> = examples.iter().map(Sample::new).collect();
        let options = TrainOptions {
            alpha: 1.0,
            batch_size: 16,
            silence_linfa_debug: false,
        };
        let mut folds_seen = Vec::new();
        let held_out = cross_validate(&examples, &samples, 4, 1, &options, |fold, train, test| {
            folds_seen.push((fold, train + test))
        })
        .unwrap();
        assert_eq!(held_out.len(), examples.len());
        assert_eq!(
            folds_seen,
            (1..=4).map(|f| (f, examples.len())).collect::<Vec<_>>()
        );
        let metrics = Metrics::compute(&held_out);
        assert_eq!(metrics.ham + metrics.spam, examples.len());
        assert!(metrics.accuracy().unwrap() > 0.5, "{metrics:?}");
    }

    #[test]
    fn metrics_arithmetic() {
        let v = |p: f64, is_spam: bool| HeldOut {
            spam_probability: p,
            is_spam,
            group: "g".into(),
        };
        let m = Metrics::compute(&[v(0.1, false), v(0.6, false), v(0.95, true), v(0.4, true)]);
        assert_eq!(
            (m.ham, m.spam, m.true_positives, m.false_positives),
            (2, 2, 1, 1)
        );
        assert_eq!(m.accuracy(), Some(0.5));
        assert_eq!(
            (m.precision(), m.recall(), m.f1()),
            (Some(0.5), Some(0.5), Some(0.5))
        );
        assert_eq!(m.thresholds[0], (0.5, 1, 1));
        assert_eq!(m.thresholds[3], (0.95, 0, 1));
        assert_eq!(Metrics::compute(&[]).accuracy(), None);
        let none = Metrics::compute(&[v(0.1, false)]);
        assert_eq!(
            (none.precision(), none.recall(), none.f1()),
            (None, None, None)
        );
    }
}
