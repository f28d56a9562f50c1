//! Honest measurement of the classifier: every comment scored by a model that was trained,
//! calibrated and thresholded without it, and the numbers a blog owner needs read off those
//! scores. `commentguard eval` and the model card of `commentguard train` both come from
//! here, so they cannot disagree about what "accuracy" means.

pub mod metrics;
pub mod plot;
pub mod summary;

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use crate::classifier::Classifier;
use crate::classifier::calibration::{Budget, Thresholds};
use crate::classifier::train::{self, Example, ModelInfo, Sample, TrainOptions};
use crate::verdict::Verdict;

/// The held-out verdict on one example.
#[derive(Debug, Clone)]
pub struct HeldOut {
    /// Calibrated, by the calibration of the model that scored it.
    pub spam_probability: f64,
    pub is_spam: bool,
    /// What that model's own thresholds made of it.
    pub verdict: Verdict,
}

/// One train/test split and what the model trained on it chose.
#[derive(Debug, Clone)]
pub struct Fold {
    /// The held-out source for leave-one-source-out, else `fold N`.
    pub name: String,
    pub trained_on: usize,
    pub thresholds: Thresholds,
    /// Indices (into the evaluated examples) of the comments this fold held out.
    pub members: Vec<usize>,
}

/// The outcome of an evaluation: a held-out verdict for every evaluated example, in order.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub held_out: Vec<HeldOut>,
    pub folds: Vec<Fold>,
    /// Time to score every held-out comment once (normalise, extract, score, explain), on
    /// one thread, training excluded: the sum over folds of each fold's median pass.
    pub scoring: Duration,
}

/// Cross-validation: `folds[i]` is example `i`'s fold in `0..names.len()`; each fold is
/// scored by a model trained on all the others. `progress` hears of every finished fold.
pub fn cross_validate(
    examples: &[Example],
    samples: &[Sample],
    folds: &[usize],
    names: &[String],
    options: &TrainOptions,
    budget: &Budget,
    mut progress: impl FnMut(&Fold),
) -> anyhow::Result<Evaluation> {
    ensure!(
        names.len() >= 2,
        "cross-validation needs at least 2 folds, got {}",
        names.len()
    );
    let mut held_out: Vec<Option<HeldOut>> = vec![None; examples.len()];
    let mut evaluation = Evaluation {
        held_out: Vec::new(),
        folds: Vec::new(),
        scoring: Duration::ZERO,
    };
    for (fold, name) in names.iter().enumerate() {
        let (train_part, test_part): (Vec<usize>, Vec<usize>) =
            (0..examples.len()).partition(|&i| folds[i] != fold);
        let pick = |indices: &[usize]| -> (Vec<Example>, Vec<Sample>) {
            indices
                .iter()
                .map(|&i| (examples[i].clone(), samples[i].clone()))
                .unzip()
        };
        let (train_examples, train_samples) = pick(&train_part);
        let test: Vec<&Example> = test_part.iter().map(|&i| &examples[i]).collect();
        let (classifier, scored, took) = train_and_score(
            &train_examples,
            &train_samples,
            &test,
            options,
            budget,
            name,
        )?;
        for (&i, verdict) in test_part.iter().zip(scored) {
            held_out[i] = Some(verdict);
        }
        evaluation.scoring += took;
        let summary = Fold {
            name: name.clone(),
            trained_on: train_part.len(),
            thresholds: classifier.thresholds(),
            members: test_part,
        };
        progress(&summary);
        evaluation.folds.push(summary);
    }
    evaluation.held_out = held_out
        .into_iter()
        .map(|h| h.context("an example belongs to no fold"))
        .collect::<anyhow::Result<_>>()?;
    Ok(evaluation)
}

/// Why cross-validating over `folds` cannot work, if it cannot: the first fold that holds
/// no example (more folds than examples), so its row would report on nothing, or whose
/// training part (every other fold) lacks a class, since naive Bayes needs an example of
/// each. Checked on the folds themselves, because stratification deals each collection's
/// examples separately, and two spam of two collections can share a fold.
pub fn unusable_fold(examples: &[Example], folds: &[usize], names: &[String]) -> Option<String> {
    names.iter().enumerate().find_map(|(fold, name)| {
        if !folds.contains(&fold) {
            return Some(format!(
                "{name} would hold no example to test: {} folds need at least {} examples",
                names.len(),
                names.len()
            ));
        }
        let has = |spam: bool| {
            examples
                .iter()
                .zip(folds)
                .any(|(e, &f)| f != fold && e.is_spam == spam)
        };
        let missing = [(false, "ham"), (true, "spam")]
            .into_iter()
            .find(|&(spam, _)| !has(spam))?
            .1;
        Some(format!(
            "the model for {name} would be trained without any {missing}: every {missing} \
             example is in that fold"
        ))
    })
}

/// `evaluation` and its evaluated `examples` without the ones `left_out` marks: each held-out
/// verdict and each fold's members re-indexed to what remains. The folds' models and
/// thresholds are unchanged; only what is reported on shrinks. The scoring time becomes the
/// kept comments' share of it, so the reported rate stays the measured one.
pub fn leave_out(
    examples: Vec<Example>,
    evaluation: Evaluation,
    left_out: &[bool],
) -> (Vec<Example>, Evaluation) {
    let total = examples.len();
    let mut new_index = vec![None; total];
    let mut kept = 0;
    for (i, &out) in left_out.iter().enumerate() {
        if !out {
            new_index[i] = Some(kept);
            kept += 1;
        }
    }
    let examples = not_left_out(examples, left_out);
    let held_out = not_left_out(evaluation.held_out, left_out);
    let folds = evaluation
        .folds
        .into_iter()
        .map(|fold| Fold {
            members: fold.members.iter().filter_map(|&i| new_index[i]).collect(),
            ..fold
        })
        .collect();
    (
        examples,
        Evaluation {
            held_out,
            folds,
            scoring: evaluation
                .scoring
                .mul_f64(kept as f64 / total.max(1) as f64),
        },
    )
}

/// The items `left_out` does not mark, in order.
fn not_left_out<T>(items: Vec<T>, left_out: &[bool]) -> Vec<T> {
    items
        .into_iter()
        .zip(left_out)
        .filter(|&(_, &out)| !out)
        .map(|(item, _)| item)
        .collect()
}

/// Trains on one set and scores another.
pub fn holdout(
    train_examples: &[Example],
    train_samples: &[Sample],
    test: &[Example],
    options: &TrainOptions,
    budget: &Budget,
) -> anyhow::Result<Evaluation> {
    let test_refs: Vec<&Example> = test.iter().collect();
    let (classifier, held_out, scoring) = train_and_score(
        train_examples,
        train_samples,
        &test_refs,
        options,
        budget,
        "test",
    )?;
    Ok(Evaluation {
        held_out,
        folds: vec![Fold {
            name: "test".into(),
            trained_on: train_examples.len(),
            thresholds: classifier.thresholds(),
            members: (0..test.len()).collect(),
        }],
        scoring,
    })
}

fn train_and_score(
    train_examples: &[Example],
    train_samples: &[Sample],
    test: &[&Example],
    options: &TrainOptions,
    budget: &Budget,
    name: &str,
) -> anyhow::Result<(Classifier, Vec<HeldOut>, Duration)> {
    let info = ModelInfo {
        name: "evaluation".into(),
        created: String::new(),
        training_data: String::new(),
    };
    let trained = train::train(train_examples, train_samples, options, budget, info)
        .with_context(|| format!("training for {name}"))?;
    let classifier = Classifier::from_model(&trained.model, 0);
    let thresholds = classifier.thresholds();
    let scores: Vec<_> = test.iter().map(|e| classifier.score(&e.comment)).collect();
    let took = median_scoring_time(&classifier, test);
    let held_out = scores
        .into_iter()
        .zip(test)
        .map(|(score, e)| HeldOut {
            spam_probability: score.spam_probability,
            is_spam: e.is_spam,
            verdict: score.verdict(&thresholds),
        })
        .collect();
    Ok((classifier, held_out, took))
}

/// One pass over a few hundred comments takes milliseconds, too short to time alone, so
/// passes are repeated for at least [`SCORING_TIME`] and the median pass is kept.
fn median_scoring_time(classifier: &Classifier, test: &[&Example]) -> Duration {
    let mut passes = Vec::new();
    let started = Instant::now();
    while passes.len() < 3 || started.elapsed() < SCORING_TIME {
        let pass = Instant::now();
        for e in test {
            std::hint::black_box(classifier.score(&e.comment));
        }
        passes.push(pass.elapsed());
    }
    passes.sort_unstable();
    passes[passes.len() / 2]
}

/// How long each fold's scoring is timed for.
const SCORING_TIME: Duration = Duration::from_millis(300);

/// Leave-one-source-out folds: one fold per distinct `source` (e.g. each YouTube video),
/// so a model is always tested on a source it has never seen. Returns the fold of each
/// example and the fold names, in order of first appearance.
pub fn by_source(examples: &[Example]) -> (Vec<usize>, Vec<String>) {
    let mut names: Vec<String> = Vec::new();
    let folds = examples
        .iter()
        .map(|e| match names.iter().position(|n| *n == e.source) {
            Some(fold) => fold,
            None => {
                names.push(e.source.clone());
                names.len() - 1
            }
        })
        .collect();
    (folds, names)
}

/// Stratified k-fold, named `fold 1` … `fold k`.
pub fn kfold(examples: &[Example], k: usize, seed: u64) -> (Vec<usize>, Vec<String>) {
    (
        train::stratified_folds(examples, k, seed),
        (1..=k).map(|f| format!("fold {f}")).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (Vec<Example>, Vec<Sample>) {
        let examples = train::parse_dataset(
            include_str!("../../tests/fixtures/train.jsonl").as_bytes(),
            "train.jsonl",
        )
        .unwrap();
        let samples = examples.iter().map(Sample::new).collect();
        (examples, samples)
    }

    fn options() -> TrainOptions {
        TrainOptions {
            alpha: 1.0,
            batch_size: 16,
            silence_linfa_debug: false,
            seed: 3,
        }
    }

    #[test]
    fn cross_validation_scores_every_example_once_without_seeing_it() {
        let (examples, samples) = fixture();
        let (folds, names) = kfold(&examples, 4, 1);
        let mut seen = Vec::new();
        let evaluation = cross_validate(
            &examples,
            &samples,
            &folds,
            &names,
            &options(),
            &Budget::default(),
            |fold| seen.push((fold.name.clone(), fold.trained_on + fold.members.len())),
        )
        .unwrap();
        assert_eq!(evaluation.held_out.len(), examples.len());
        assert_eq!(
            seen,
            (1..=4)
                .map(|f| (format!("fold {f}"), examples.len()))
                .collect::<Vec<_>>()
        );
        let mut members: Vec<usize> = evaluation
            .folds
            .iter()
            .flat_map(|f| f.members.clone())
            .collect();
        members.sort_unstable();
        assert_eq!(members, (0..examples.len()).collect::<Vec<_>>());
        for (i, h) in evaluation.held_out.iter().enumerate() {
            assert_eq!(h.is_spam, examples[i].is_spam);
        }
    }

    #[test]
    fn leave_one_source_out_holds_out_whole_sources() {
        let (mut examples, _) = fixture();
        for (i, e) in examples.iter_mut().enumerate() {
            e.source = format!("set/{}", ["a", "b", "c"][i % 3]);
        }
        let (folds, names) = by_source(&examples);
        assert_eq!(names, ["set/a", "set/b", "set/c"]);
        for (e, &f) in examples.iter().zip(&folds) {
            assert_eq!(e.source, names[f]);
        }
    }

    #[test]
    fn holdout_scores_the_test_set_with_the_trained_thresholds() {
        let (examples, samples) = fixture();
        let (train_part, test_part) = examples.split_at(30);
        let evaluation = holdout(
            train_part,
            &samples[..30],
            test_part,
            &options(),
            &Budget::default(),
        )
        .unwrap();
        assert_eq!(evaluation.held_out.len(), test_part.len());
        let thresholds = evaluation.folds[0].thresholds;
        // The thresholds' verdict, except that links alone never reject (`Score::verdict`).
        for h in &evaluation.held_out {
            match thresholds.verdict(h.spam_probability) {
                Verdict::Reject => assert!(h.verdict >= Verdict::Hold, "{h:?}"),
                verdict => assert_eq!(h.verdict, verdict, "{h:?}"),
            }
        }
    }
}
