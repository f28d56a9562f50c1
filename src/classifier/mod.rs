//! The naive-Bayes spam classifier: a loaded model that scores comments and explains why.
//!
//! Training (see [`train`]) runs linfa-bayes' `MultinomialNb` and keeps only its sufficient
//! statistics; serving re-derives the same log-probabilities on load, as one log-odds per
//! bucket, and evaluates them sparsely. A comment has a few dozen features out of 2^20
//! buckets, so summing `weight × log-odds` over just those is orders of magnitude cheaper
//! than linfa's dense dot product, and it never exponentiates, so long comments cannot
//! underflow to NaN the way linfa's own `predict_log_proba` does. A unit test pins the fast
//! path to linfa's results. The log-odds then go through the model's calibration.
//!
//! The model's vocabulary is the set of buckets seen in training, as with a fitted
//! `CountVectorizer`: features outside it are ignored. Scoring them would not be neutral:
//! an unseen bucket's smoothed probability is `α / (N_c + α·|V|)`, which is larger for the
//! class with fewer training tokens (spam), so every unfamiliar word would push toward spam,
//! and on-topic blog vocabulary is mostly unfamiliar to a model trained on YouTube and SMS.

pub mod calibration;
pub mod features;
pub mod link;
pub mod model;
pub mod normalize;
pub mod page;
pub mod train;

use std::path::Path;

use fnv::FnvHashMap;

use crate::comment::Comment;
use crate::verdict::Verdict;
use calibration::{Calibration, Evidence, Thresholds};
use features::{Feature, FeatureKind, Features, N_FEATURES};
pub use model::ModelError;
use model::{TrainedModel, smoothed_log_probability};

/// How many features an explanation lists.
pub const TOP_CONTRIBUTIONS: usize = 5;

/// A loaded, immutable model. Cheap to share: wrap it in an `Arc` and score from any thread.
#[derive(Debug, Clone)]
pub struct Classifier {
    version: String,
    /// `ln P(spam) − ln P(ham)`.
    prior_log_odds: f64,
    /// For each of the [`N_FEATURES`] buckets, what the model learned there. Dense so that a
    /// feature costs one memory access: the log-odds and the check share a cache line (a
    /// table of each, 8 and 2 MiB, made classification a fifth slower).
    buckets: Box<[Bucket]>,
    /// The checks of the buckets that more training features share than a [`Bucket`] holds.
    /// Keyed by FNV, not SipHash: the map is built once from the model and never grows with
    /// input, so there is no flooding for SipHash to resist. The shipped model has one such
    /// bucket, and 9,312 that two to four features share.
    crowded: FnvHashMap<u32, Vec<u16>>,
    calibration: Calibration,
    thresholds: Thresholds,
}

/// One bucket of [`Classifier::buckets`], 16 bytes, so none straddles two cache lines.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(16))]
struct Bucket {
    /// `ln P(bucket | spam) − ln P(bucket | ham)`, or NaN when the bucket is outside the
    /// vocabulary. Single precision measured no faster, and double keeps the scores equal
    /// to linfa's.
    log_odds: f64,
    /// The [`Feature::check`]s of the training features in the bucket, then [`UNUSED`]; or
    /// [`CROWDED`] first when there were more than fit ([`Classifier::crowded`]). A comment's
    /// feature is known only if the model learned that very feature, not merely its bucket.
    /// An eighth of a comment's features land in a bucket that two training features share;
    /// with their checks in a map, looking them up was 2% of a classification's
    /// instructions, and a second scattered memory access for each.
    checks: [u16; INLINE_CHECKS],
}

/// As many checks as fill a [`Bucket`] after its log-odds.
const INLINE_CHECKS: usize = 4;

/// In [`Bucket::checks`]: no training feature. Checks have [`features::CHECK_BITS`] bits,
/// so neither marker is one.
const UNUSED: u16 = u16::MAX;
/// First in [`Bucket::checks`]: more training features than fit.
const CROWDED: u16 = 1 << features::CHECK_BITS;

/// A comment's features inside the model's vocabulary, each with its log-odds
/// `ln P(f | spam) − ln P(f | ham)`, and the weight each group's features have in this
/// comment ([`features::weights_of_counts`]). Weights are by group, not by feature, so they
/// are looked up as features are scored rather than written into every one.
struct Known<'f> {
    features: Vec<(&'f Feature, f64)>,
    weights: [f64; features::GROUPS],
}

impl<'f> Known<'f> {
    /// Each known feature with its weight and log-odds.
    fn iter(&self) -> impl Iterator<Item = (&'f Feature, f64, f64)> + '_ {
        self.features
            .iter()
            .map(|&(f, delta)| (f, self.weights[f.group()], delta))
    }
}

/// The classifier's verdict on one comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Calibrated probability that the comment is spam, in `[0, 1]`.
    pub spam_probability: f64,
    /// The same, with the evidence of the comment's links (their domains, TLDs and count)
    /// left out; see [`Score::verdict`].
    pub spam_probability_without_links: f64,
    /// The features that moved the verdict most, strongest first (at most
    /// [`TOP_CONTRIBUTIONS`]).
    pub contributions: Vec<Contribution>,
}

/// One feature's share of a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// Readable name, e.g. `word 'subscribe'`, `link to bit.ly`.
    pub feature: String,
    /// Calibrated log-odds this feature added toward spam (`+`) or ham (`-`).
    pub weight: f64,
}

impl Score {
    /// What `thresholds` make of this score, with one guard: links alone never reject. The
    /// training data (YouTube comments, SMS) have links almost only in spam, so a blog
    /// comment citing one source carries "one link +2.6" of spam evidence it did not earn,
    /// and a plain citation of Reuters measured at 0.92, past the reject threshold. A comment
    /// is rejected only if, without its links' evidence, it would still be held; otherwise
    /// it is held, so an operator sees it and nothing is lost. Shorteners, raw-IP links and
    /// "a link to this page" are patterns, not link evidence: they still count.
    pub fn verdict(&self, thresholds: &Thresholds) -> Verdict {
        match thresholds.verdict(self.spam_probability) {
            Verdict::Reject if self.links_alone_reject(thresholds) => Verdict::Hold,
            verdict => verdict,
        }
    }

    /// Whether the score reaches the reject threshold only thanks to its links.
    pub fn links_alone_reject(&self, thresholds: &Thresholds) -> bool {
        self.spam_probability >= thresholds.reject
            && self.spam_probability_without_links < thresholds.hold
    }
}

impl Classifier {
    /// Loads a `.cgm` model file, refusing truncated, corrupted or incompatible ones.
    pub fn load(path: &Path) -> Result<Classifier, ModelError> {
        let (model, checksum) = TrainedModel::read(path)?;
        Ok(Classifier::from_model(&model, checksum))
    }

    /// Builds the log-probability tables from a model's counts. `checksum` is the payload
    /// CRC32 that becomes the second half of [`Classifier::version`].
    pub(crate) fn from_model(model: &TrainedModel, checksum: u32) -> Classifier {
        let mut vocabulary: Vec<u32> = model
            .ham
            .indices
            .iter()
            .chain(&model.spam.indices)
            .copied()
            .collect();
        vocabulary.sort_unstable();
        vocabulary.dedup();
        // Same arithmetic as linfa-bayes trained on the vocabulary's columns, so the fast
        // path reproduces its numbers: prior = n_c / n and
        // θ_cj = (count_cj + α) / (Σ_j count_cj + α · |V|).
        let documents = (model.ham.documents + model.spam.documents) as f64;
        let mut log_prob: [Vec<f64>; 2] = [vec![f64::NAN; N_FEATURES], vec![f64::NAN; N_FEATURES]];
        let mut log_prior = [0.0; 2];
        for (class, counts) in [(train::HAM, &model.ham), (train::SPAM, &model.spam)] {
            log_prior[class] = (counts.documents as f64 / documents).ln();
            let total = counts.total();
            let log_probability =
                |count| smoothed_log_probability(count, total, model.alpha, vocabulary.len());
            let unseen = log_probability(0.0);
            // Validated on load: buckets are below N_FEATURES.
            for &bucket in &vocabulary {
                log_prob[class][bucket as usize] = unseen;
            }
            for (&bucket, &count) in counts.indices.iter().zip(&counts.counts) {
                log_prob[class][bucket as usize] = log_probability(count);
            }
        }
        let [ham, spam] = log_prob;
        let mut buckets: Box<[Bucket]> = spam
            .iter()
            .zip(&ham)
            .map(|(s, h)| Bucket {
                log_odds: s - h,
                checks: [UNUSED; INLINE_CHECKS],
            })
            .collect();
        let mut crowded: FnvHashMap<u32, Vec<u16>> = FnvHashMap::default();
        // Validated on load: sorted, buckets below N_FEATURES, checks below CROWDED.
        for (bucket, check) in model.keys.iter() {
            let checks = &mut buckets[bucket as usize].checks;
            if checks[0] == CROWDED {
                crowded.entry(bucket).or_default().push(check);
            } else if let Some(free) = checks.iter_mut().find(|c| **c == UNUSED) {
                *free = check;
            } else {
                crowded.insert(bucket, [&checks[..], &[check]].concat());
                *checks = [CROWDED, UNUSED, UNUSED, UNUSED];
            }
        }
        Classifier {
            version: format!("{}-{checksum:08x}", model.name),
            prior_log_odds: log_prior[train::SPAM] - log_prior[train::HAM],
            buckets,
            crowded,
            calibration: model.calibration,
            thresholds: model.thresholds,
        }
    }

    /// The thresholds the model was trained to, from its false-positive budget.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// The uncalibrated naive-Bayes evidence, by feature group: what calibration is fitted
    /// on.
    pub fn evidence(&self, comment: &Comment) -> Evidence {
        let features = self.extract_prefetching(comment);
        self.sum_evidence(&self.known(&features))
    }

    /// Model name plus the payload checksum, e.g. `default-3f2a9c1b`; changes whenever the
    /// model does, so stored verdicts can say which model produced them.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Scores a comment. Pure and allocation-light: one feature extraction, one pass over
    /// the comment's features to look them up, one to weigh and rank them.
    pub fn score(&self, comment: &Comment) -> Score {
        let features = self.extract_prefetching(comment);
        let Known {
            features: mut known,
            weights,
        } = self.known(&features);
        let calibration = &self.calibration;
        let mut evidence = self.prior_evidence();
        // Rank first, describe after: only the few shown get a readable name allocated. The
        // few are found in two steps, neither with a branch on each feature: one pass keeps
        // the few largest magnitudes (a sorting network of `max` and `min`), and the features
        // at least as strong as the smallest of those are sorted. Keeping the few in a sorted
        // list as the features came, as before, branched one way or the other on each: this
        // takes 2.5% fewer instructions and is 1.10 to 1.13 times as fast (alternating runs
        // on comments the model was, and was not, trained on).
        let mut largest = [f64::NEG_INFINITY; TOP_CONTRIBUTIONS];
        for (f, value) in &mut known {
            let (group, delta) = (f.group(), *value);
            let weight = weights[group];
            // The same sums, in the same order, as `sum_evidence`.
            evidence.add(group, weight * delta);
            *value = calibration.slope(group, delta) * weight * delta;
            let mut magnitude = value.abs();
            for top in &mut largest {
                // Not `f64::max`, which also handles NaN (there is none): as written, each
                // is one `maxsd` or `minsd`.
                (*top, magnitude) = if *top > magnitude {
                    (*top, magnitude)
                } else {
                    (magnitude, *top)
                };
            }
        }
        let floor = largest[TOP_CONTRIBUTIONS - 1];
        known.retain(|(_, weight)| weight.abs() >= floor);
        // Strongest first; between equally strong features, by kind and then text, so the
        // explanation does not depend on the order the comment names them in.
        known.sort_unstable_by(|&(fa, a), &(fb, b)| {
            b.abs()
                .total_cmp(&a.abs())
                .then_with(|| (fa.kind(), features.text(fa)).cmp(&(fb.kind(), features.text(fb))))
        });
        known.truncate(TOP_CONTRIBUTIONS);
        let contributions = known
            .into_iter()
            .map(|(f, weight)| Contribution {
                feature: features.describe(f),
                weight,
            })
            .collect();
        Score {
            spam_probability: self.calibration.probability(&evidence),
            spam_probability_without_links: self.calibration.probability(&without_links(evidence)),
            contributions,
        }
    }

    /// The comment's features, with each one's log-odds fetched toward the cache as soon as
    /// its bucket is known. The table is 16 MiB and its lookups in [`Classifier::known`] are
    /// scattered: they were a seventh of a classification, nearly all of it waiting on
    /// memory (perf). Fetching while extraction goes on hides about half of that wait: in
    /// three runs of 30 interleaved rounds over both corpora, in one process linking both
    /// versions, a classification was 1.07 to 1.10 times as fast. Loading the entry instead
    /// of prefetching it made classification slower (0.90): a load cannot retire until its
    /// data arrives, and the instructions after it wait for it to.
    fn extract_prefetching(&self, comment: &Comment) -> Features {
        features::extract_with(comment, |bucket| {
            if let Some(entry) = self.buckets.get(bucket as usize) {
                prefetch(entry);
            }
        })
    }

    /// The comment's features inside the vocabulary, and their groups' weights.
    ///
    /// Without a branch on whether each feature is known: on comments the model was not
    /// trained on, that changes from one feature to the next, and the branch mispredicted.
    /// Scoring half of the corpora with a model trained on the other half, this loop takes
    /// 3.8% more instructions a classification and is 1.039 times as fast (20 alternating
    /// runs); on comments the model was trained on, where nearly every feature is known, it
    /// is as fast as the branch (0.998).
    fn known<'f>(&self, features: &'f Features) -> Known<'f> {
        let mut counts = [0; features::GROUPS];
        let mut known = match features.iter().next() {
            // Every feature is written, and only the known ones are kept: each overwrites the
            // slot of the unknown one before it.
            Some(first) => vec![(first, 0.0); features.len()],
            None => Vec::new(),
        };
        let mut kept = 0;
        for f in features {
            let Bucket {
                log_odds: delta,
                checks,
            } = self.buckets[f.index as usize];
            let learned = !delta.is_nan() & self.learned(f, checks);
            counts[f.group()] += u32::from(learned);
            known[kept] = (f, delta);
            kept += usize::from(learned);
        }
        known.truncate(kept);
        Known {
            features: known,
            weights: features::weights_of_counts(&counts),
        }
    }

    /// Whether the model was trained on this feature, and not only on others in its bucket,
    /// whose [`Bucket::checks`] are `checks`.
    #[inline]
    fn learned(&self, f: &Feature, checks: [u16; INLINE_CHECKS]) -> bool {
        // All four compared at once, as lanes of a u64: a lane of `diff` is zero where a
        // check is the feature's, and `(x - 1) & !x` sets a lane's top bit for the lowest
        // zero lane (borrows only ever start at one).
        const LANES: u64 = 0x0001_0001_0001_0001;
        let packed = checks.iter().rev().fold(0, |p, &c| p << 16 | u64::from(c));
        let diff = packed ^ (u64::from(f.check) * LANES);
        let inline = diff.wrapping_sub(LANES) & !diff & (LANES << 15) != 0;
        match checks[0] {
            CROWDED => self.crowded[&f.index].contains(&f.check),
            _ => inline,
        }
    }

    /// The naive-Bayes log-odds of spam, `ln P(spam | x) − ln P(ham | x)`, as the prior's
    /// plus each group's weighted sum of its known features'. A difference of two joint
    /// log-likelihoods needs no normalising, so no exponent is ever taken and long comments
    /// cannot underflow (as linfa's own `predict_log_proba` does, to NaN).
    fn sum_evidence(&self, known: &Known) -> Evidence {
        let mut evidence = self.prior_evidence();
        for (f, weight, delta) in known.iter() {
            evidence.add(f.group(), weight * delta);
        }
        evidence
    }

    /// Evidence before any feature: the prior's alone.
    fn prior_evidence(&self) -> Evidence {
        Evidence {
            prior: self.prior_log_odds,
            ..Evidence::default()
        }
    }
}

/// The evidence of a comment's links (their domains, top-level domains and count) left out,
/// for [`Score::spam_probability_without_links`].
fn without_links(evidence: Evidence) -> Evidence {
    [
        FeatureKind::LinkDomain,
        FeatureKind::LinkSuffix,
        FeatureKind::LinkCount,
    ]
    .into_iter()
    .fold(evidence, |e, kind| e.without(kind.group()))
}

/// Asks the CPU to bring `value` into its caches, without waiting for it.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch<T>(value: &T) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: the intrinsic needs SSE, which every x86_64 target has. A prefetch is a hint:
    // it reads nothing into the program, never faults, and changes no memory. The pointer
    // comes from a live reference in any case.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast::<i8>()) }
}

/// Elsewhere stable Rust has no prefetch, and the lookups simply wait.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn prefetch<T>(_: &T) {}

#[cfg(test)]
mod tests {
    use linfa::Dataset;
    use linfa::ParamGuard;
    use linfa::traits::FitWith;
    use linfa_bayes::{MultinomialNbParams, NaiveBayes};
    use ndarray::{Array1, Array2, s};

    use super::*;
    use crate::comment::sample as comment;
    use calibration::Budget;
    use model::FeatureKeys;
    use train::{Example, ModelInfo, Sample, TrainOptions};

    const FIXTURE: &str = include_str!("../../tests/fixtures/train.jsonl");

    fn fixture() -> Vec<Example> {
        train::parse_dataset(FIXTURE.as_bytes(), "tests/fixtures/train.jsonl").unwrap()
    }

    fn options() -> TrainOptions {
        TrainOptions {
            alpha: 0.5,
            batch_size: 7,
            silence_linfa_debug: false,
            seed: 1,
        }
    }

    fn info() -> ModelInfo {
        ModelInfo {
            name: "fixture".into(),
            created: "2026-01-01T00:00:00Z".into(),
            training_data: "tests/fixtures/train.jsonl".into(),
        }
    }

    fn fixture_model() -> TrainedModel {
        trained_on(&fixture())
    }

    fn trained_on(examples: &[Example]) -> TrainedModel {
        let samples: Vec<Sample> = examples.iter().map(Sample::new).collect();
        train::train(examples, &samples, &options(), &Budget::default(), info())
            .unwrap()
            .model
    }

    /// A feature the model never saw is unknown even when another feature shares its bucket:
    /// it neither borrows that feature's weight nor is named with it. (Before the model kept
    /// its features' checks, "buy cheap viagra" was explained by "words starting 'viagr'
    /// -0.7": the shipped model has no such feature, but has the ham word 'accounts' in
    /// that bucket.)
    #[test]
    fn a_bucket_shared_with_a_trained_feature_lends_it_nothing() {
        let examples = fixture();
        let classifier = Classifier::from_model(&trained_on(&examples), 0);
        let trained: std::collections::HashSet<u32> = examples
            .iter()
            .flat_map(|e| {
                features::extract(&e.comment)
                    .iter()
                    .map(|f| f.index)
                    .collect::<Vec<_>>()
            })
            .collect();
        // Five-letter words, so none has a stem or letter grams: one word feature each.
        let words = (0..26u32 * 26 * 26).map(|i| {
            let letter = |n: u32| char::from(b'a' + (n % 26) as u8);
            format!("qx{}{}{}", letter(i / 676), letter(i / 26), letter(i))
        });
        let (colliding, clear): (Vec<String>, Vec<String>) =
            words.partition(|w| trained.contains(&features::bucket(FeatureKind::Word, w)));
        assert!(
            !colliding.is_empty(),
            "no five-letter word shares a bucket here"
        );
        for word in &colliding {
            let score = classifier.score(&comment(word));
            let alike = classifier.score(&comment(&clear[0]));
            assert_eq!(score.spam_probability, alike.spam_probability, "{word}");
            assert!(
                score
                    .contributions
                    .iter()
                    .all(|c| !c.feature.contains(word.as_str())),
                "{word}: {:?}",
                score.contributions
            );
        }
    }

    /// However many training features share its bucket, up to past what a [`Bucket`] holds,
    /// a feature the model learned stays known with its own weight, and one it did not stays
    /// unknown.
    #[test]
    fn a_learned_feature_is_known_however_crowded_its_bucket() {
        let model = fixture_model();
        let word = comment("subscribe");
        let extracted = features::extract(&word);
        let subscribe = extracted
            .iter()
            .find(|f| f.kind() == FeatureKind::Word)
            .unwrap();
        let name = extracted.describe(subscribe);
        let (bucket, check) = (subscribe.index, subscribe.check);
        let named = |score: &Score| score.contributions.iter().any(|c| c.feature == name);
        let alone = Classifier::from_model(&model, 0).score(&word);
        assert!(named(&alone), "{alone:?}");
        // Other checks for the same bucket, just below the word's own, so that the word's
        // comes last in the bucket as the keys are sorted.
        assert!(check > 9, "the word's check is {check}: pick another word");
        let others = |n: u16| (1..=n).map(move |k| (bucket, check - k));
        let mut unknown = Vec::new();
        for n in [1, INLINE_CHECKS as u16 - 1, INLINE_CHECKS as u16, 9] {
            let keys = |with_word: bool| {
                let own = model
                    .keys
                    .iter()
                    .filter(|&key| with_word || key != (bucket, check));
                FeatureKeys::of(own.chain(others(n)))
            };
            let with_word = TrainedModel {
                keys: keys(true),
                ..model.clone()
            };
            let score = Classifier::from_model(&with_word, 0).score(&word);
            assert_eq!(score, alone, "{n} other features in the bucket");
            let without_word = TrainedModel {
                keys: keys(false),
                ..model.clone()
            };
            let score = Classifier::from_model(&without_word, 0).score(&word);
            assert!(!named(&score), "{n} others: {score:?}");
            unknown.push(score.spam_probability);
        }
        assert!(
            unknown
                .iter()
                .all(|&p| p == unknown[0] && p != alone.spam_probability)
        );
    }

    fn probes() -> Vec<Comment> {
        let mut probes: Vec<Comment> = fixture().into_iter().map(|e| e.comment).collect();
        probes.push(comment("never seen tokens zqxw vrrp"));
        probes.push(comment("!!!"));
        probes.push(Comment {
            author_email: "x@mail.ru".into(),
            author_url: "https://cheap-pills.example.com".into(),
            ..comment("Subscribe to my channel http://bit.ly/free")
        });
        probes
    }

    /// The fast sparse path must be linfa-bayes, only faster. Train linfa directly, in two
    /// `fit_with` batches, on dense rows over the fixture's vocabulary weighted as
    /// [`weights`] weighs them and scaled by each comment's discriminative weight, then check
    /// (a) that training learned linfa's counts and (b) every log-probability against
    /// linfa's `predict_log_proba` on the same rows, with out-of-vocabulary features dropped
    /// as the classifier does.
    #[test]
    fn fast_path_equals_linfa_predict_log_proba() {
        let examples = fixture();
        let samples: Vec<Sample> = examples.iter().map(Sample::new).collect();
        let all: Vec<&Sample> = samples.iter().collect();
        let weights = train::discriminative_weights(&all, options().alpha, options().seed);
        let [ham, spam] = train::fit_counts(&all, &weights, &options()).unwrap();
        let ours = TrainedModel {
            ham,
            spam,
            ..fixture_model()
        };
        let classifier = Classifier::from_model(&ours, 0);
        let vocabulary: Vec<usize> = examples
            .iter()
            .flat_map(|e| {
                features::extract(&e.comment)
                    .iter()
                    .map(|f| f.index as usize)
                    .collect::<Vec<_>>()
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let rows = |comments: &[Comment]| {
            let mut x = Array2::<f64>::zeros((comments.len(), vocabulary.len()));
            for (r, c) in comments.iter().enumerate() {
                let features = features::extract(c);
                for (f, weight, _) in classifier.known(&features).iter() {
                    let column = vocabulary.binary_search(&(f.index as usize)).unwrap();
                    x[[r, column]] = weight;
                }
            }
            x
        };
        let comments: Vec<Comment> = examples.iter().map(|e| e.comment.clone()).collect();
        let mut x = rows(&comments);
        for (mut row, weight) in x.rows_mut().into_iter().zip(&weights) {
            row *= *weight;
        }
        let y: Array1<usize> = examples
            .iter()
            .map(|e| if e.is_spam { train::SPAM } else { train::HAM })
            .collect();
        let params = MultinomialNbParams::new().alpha(0.5).check().unwrap();
        let half = examples.len() / 2;
        let batch = |from: usize, to: usize| {
            Dataset::new(
                x.slice(s![from..to, ..]).to_owned(),
                y.slice(s![from..to]).to_owned(),
            )
        };
        let linfa = params.fit_with(None, &batch(0, half)).unwrap();
        let linfa = params
            .fit_with(Some(linfa), &batch(half, examples.len()))
            .unwrap();

        let [ham, spam] = train::learned_counts(&linfa, |column| vocabulary[column]).unwrap();
        for (theirs, ours) in [(&ham, &ours.ham), (&spam, &ours.spam)] {
            assert_eq!(theirs.documents, ours.documents);
            assert_eq!(theirs.indices, ours.indices);
            for (a, b) in theirs.counts.iter().zip(&ours.counts) {
                assert!((a - b).abs() < 1e-9, "{a} vs {b}");
            }
        }

        let probes = probes();
        let (linfa_log_proba, classes) = linfa.predict_log_proba(rows(&probes).view());
        assert_eq!(classes, [&train::HAM, &train::SPAM]);
        for (probe, expected) in probes.iter().zip(linfa_log_proba.rows()) {
            let features = features::extract(probe);
            let ours = classifier
                .sum_evidence(&classifier.known(&features))
                .naive();
            let theirs = expected[train::SPAM] - expected[train::HAM];
            assert!(
                (ours - theirs).abs() < 1e-9,
                "{:?}: ours {ours}, linfa {theirs}",
                probe.content
            );
        }
    }

    /// Discriminative weights exist to fix what counting every comment once gets wrong, so
    /// the model they give must fit its own training comments better, and the comments
    /// plain counts get most wrong must count the most.
    #[test]
    fn discriminative_weights_fit_the_training_comments_better_than_plain_counts() {
        let examples = fixture();
        let samples: Vec<Sample> = examples.iter().map(Sample::new).collect();
        let all: Vec<&Sample> = samples.iter().collect();
        let losses = |weights: &[f64]| -> Vec<f64> {
            let [ham, spam] = train::fit_counts(&all, weights, &options()).unwrap();
            let model = TrainedModel {
                ham,
                spam,
                ..fixture_model()
            };
            let classifier = Classifier::from_model(&model, 0);
            examples
                .iter()
                .map(|e| {
                    let z = classifier.evidence(&e.comment).naive();
                    let p_spam = 1.0 / (1.0 + (-z).exp());
                    -(if e.is_spam { p_spam } else { 1.0 - p_spam }).ln()
                })
                .collect()
        };
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let weights = train::discriminative_weights(&all, options().alpha, options().seed);
        let passes = train::DISCRIMINATIVE_PASSES as f64;
        assert!(
            weights.iter().all(|&w| w > 0.0 && w <= passes),
            "{weights:?}"
        );
        let plain = losses(&vec![1.0; all.len()]);
        let weighted = losses(&weights);
        assert!(mean(&weighted) < mean(&plain), "{weighted:?} vs {plain:?}");
        let worst = (0..plain.len())
            .max_by(|&a, &b| plain[a].total_cmp(&plain[b]))
            .unwrap();
        assert!(weights[worst] > mean(&weights), "{weights:?}");
    }

    /// Unseen words, domains and authors say nothing: only the comment's shape (its
    /// length, its lack of links), which every comment has, may speak.
    #[test]
    fn unseen_features_are_neutral() {
        let classifier = Classifier::from_model(&fixture_model(), 0);
        let unseen = Comment {
            author_email: "someone@never-seen.example".into(),
            ..comment("zqxw vrrp")
        };
        let score = classifier.score(&unseen);
        let shape_only = classifier.score(&comment(""));
        assert_eq!(score.spam_probability, shape_only.spam_probability);
        assert!(
            score
                .contributions
                .iter()
                .all(|c| ["no links", "1-2 words", "up to 20 characters"]
                    .contains(&c.feature.as_str())),
            "{score:?}"
        );
    }

    /// Training saw only `subscribe`; its other forms still count as spam evidence, through
    /// the stem they share.
    #[test]
    fn an_unseen_inflection_counts_through_its_stem() {
        let classifier = Classifier::from_model(&fixture_model(), 0);
        let score = classifier.score(&comment("subscribing"));
        let stem = score
            .contributions
            .iter()
            .find(|c| c.feature == "words starting 'subsc'")
            .unwrap_or_else(|| panic!("no stem in {score:?}"));
        assert!(stem.weight > 0.0, "{score:?}");
    }

    #[test]
    fn long_comments_do_not_underflow() {
        let classifier = Classifier::from_model(&fixture_model(), 0);
        let long = comment(&"subscribe my channel please thanks ".repeat(2000));
        let score = classifier.score(&long);
        assert!(score.spam_probability.is_finite());
        assert!(score.spam_probability > 0.5, "{score:?}");
    }

    #[test]
    fn separates_spammy_from_clean_and_explains() {
        let classifier = Classifier::from_model(&fixture_model(), 0);
        let spammy = classifier.score(&comment(
            "Check out my channel and subscribe!! Free gift cards at http://bit.ly/freegift",
        ));
        assert!(spammy.spam_probability > 0.5, "{spammy:?}");
        assert!(spammy.contributions.len() <= TOP_CONTRIBUTIONS);
        assert!(spammy.contributions[0].weight > 0.0, "{spammy:?}");
        let weights: Vec<f64> = spammy
            .contributions
            .iter()
            .map(|c| c.weight.abs())
            .collect();
        assert!(weights.windows(2).all(|w| w[0] >= w[1]), "{weights:?}");

        let clean = classifier.score(&comment(
            "I love this song, her voice is beautiful. Reminds me of summer.",
        ));
        assert!(clean.spam_probability < 0.5, "{clean:?}");
        assert!(clean.contributions.iter().any(|c| c.weight < 0.0));
    }

    /// Calibration is fitted on [`Classifier::evidence`], and `score` sums the same evidence
    /// in its ranking loop: the two must agree to the last bit, or the fitted slopes would
    /// be applied to numbers they were not fitted on.
    #[test]
    fn score_sums_the_evidence_calibration_is_fitted_on() {
        let classifier = Classifier::from_model(&fixture_model(), 0);
        for probe in probes() {
            let evidence = classifier.evidence(&probe);
            let score = classifier.score(&probe);
            assert_eq!(
                score.spam_probability.to_bits(),
                classifier.calibration.probability(&evidence).to_bits(),
                "{:?}",
                probe.content
            );
            assert_eq!(
                score.spam_probability_without_links.to_bits(),
                classifier
                    .calibration
                    .probability(&without_links(evidence))
                    .to_bits()
            );
        }
    }

    /// The explanation shows the strongest of *all* the comment's known features, whatever
    /// order they were extracted in, with weights that are their shares of the calibrated
    /// log-odds: all of them, plus the prior and the intercept, add up to it.
    #[test]
    fn contributions_are_the_strongest_features_strongest_first() {
        let classifier = Classifier::from_model(&fixture_model(), 0);
        let c = classifier.calibration;
        assert_ne!(c, Calibration::IDENTITY, "the fixture model is calibrated");
        for probe in probes() {
            let features = features::extract(&probe);
            let contributions: Vec<f64> = classifier
                .known(&features)
                .iter()
                .map(|(f, weight, delta)| c.slope(f.group(), delta) * weight * delta)
                .collect();
            let logit = c.logit(&classifier.evidence(&probe));
            let total = classifier.prior_log_odds + c.intercept + contributions.iter().sum::<f64>();
            assert!((logit - total).abs() < 1e-9, "{logit} vs {total}");
            // Sorted in full, strongest first and equals by kind and text: many features
            // of the fixture model were seen once, so equal weights are common.
            let known = classifier.known(&features);
            let mut all: Vec<(&Feature, f64)> = known
                .iter()
                .zip(contributions)
                .map(|((f, _, _), weight)| (f, weight))
                .collect();
            all.sort_by(|(fa, a), (fb, b)| {
                b.abs().total_cmp(&a.abs()).then_with(|| {
                    (fa.kind(), features.text(fa)).cmp(&(fb.kind(), features.text(fb)))
                })
            });
            let expected: Vec<Contribution> = all
                .into_iter()
                .take(TOP_CONTRIBUTIONS)
                .map(|(f, weight)| Contribution {
                    feature: features.describe(f),
                    weight,
                })
                .collect();
            assert_eq!(classifier.score(&probe).contributions, expected);
        }
    }

    #[test]
    fn save_then_load_gives_identical_scores() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fixture.cgm");
        let model = fixture_model();
        let checksum = model.write(&path).unwrap();
        let loaded = Classifier::load(&path).unwrap();
        let in_memory = Classifier::from_model(&model, checksum);
        assert_eq!(loaded.version(), format!("fixture-{checksum:08x}"));
        for probe in probes() {
            assert_eq!(loaded.score(&probe), in_memory.score(&probe));
        }
    }

    /// A news blog on Iranian politics gets Persian comments, and spam written to dodge word
    /// lists: Arabic letter variants, tatweel, harakat, Persian digits. Scripts without
    /// spaces (Chinese, Thai) must work too.
    #[test]
    fn non_latin_spam_and_ham_survive_their_spelling_variants() {
        let examples = train::parse_dataset(
            include_str!("../../tests/fixtures/multilingual.jsonl").as_bytes(),
            "multilingual.jsonl",
        )
        .unwrap();
        let classifier = Classifier::from_model(&trained_on(&examples), 0);
        let p = |text: &str| classifier.score(&comment(text)).spam_probability;
        // Arabic kaf and yeh (ك, ي) for the Persian ones, tatweel and a kasra.
        let disguised = "كانال تلگرام ما را دنبال كنيد، جايزه رايگــــان بِگیرید";
        assert!(p(disguised) > 0.5, "{disguised}: {}", p(disguised));
        assert_eq!(
            p(disguised),
            p("کانال تلگرام ما را دنبال کنید، جایزه رایگان بگیرید")
        );
        let persian_ham = "تحلیل شما درباره تحریم‌ها و انتخابات دقیق بود";
        assert!(p(persian_ham) < 0.5, "{persian_ham}: {}", p(persian_ham));
        assert!(p("加微信领取免费优惠券") > 0.5);
        assert!(p("分析很有道理，写得很好") < 0.5);
        assert!(p("รับเงินฟรี คลิกเลย") > 0.5);
        assert!(p("Очень интересный анализ, спасибо") < 0.5);
        // The explanation names the words as unified: Persian kaf and yeh, no tatweel.
        let explained = classifier.score(&comment(disguised));
        let named: Vec<&str> = explained
            .contributions
            .iter()
            .map(|c| c.feature.as_str())
            .collect();
        assert!(
            ["'کانال'", "'کنید'", "'جایزه'", "'رایگان'"]
                .iter()
                .any(|word| named.contains(word)),
            "{named:?}"
        );
        assert!(
            named.iter().all(|f| !f.contains(['ك', 'ي', 'ـ'])),
            "{named:?}"
        );
    }

    #[test]
    fn classifier_is_send_and_sync() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Classifier>();
    }
}
