//! `commentguard train`: cross-validates, trains and writes a model plus its model card.
//!
//! The card is generated, not hand-written, so that the numbers in it are always the ones
//! this exact run measured on held-out data, next to the exact command that produced them.
//! Everything the command prints about quality is also what ends up in the card.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{Context, ensure};

use crate::classifier::Classifier;
use crate::classifier::calibration::Budget;
use crate::classifier::features::{
    self, FEATURE_SCHEME, FeatureKind, GROUP_NAMES, HASH_BITS, SCHEME_DESCRIPTION,
};
use crate::classifier::model::{FORMAT_VERSION, TrainedModel};
use crate::classifier::train::{self, CalibrationSplit, Example, ModelInfo, Sample, TrainOptions};
use crate::evaluation::{self, summary::Summary};

/// Train a spam model from labelled JSONL files.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// JSONL datasets: one {"id", "text", "label": "spam"|"ham", "author"?, "permalink"?,
    /// "source"} per line.
    #[arg(long = "data", required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// `source permalink` lines giving the page each source's comments were posted on, for
    /// records without a `permalink` (e.g. `models/youtube-spam.pages`).
    #[arg(long)]
    pages: Option<PathBuf>,
    /// Output path without extension; writes OUT.cgm (the model) and OUT.md (its card).
    #[arg(long)]
    out: PathBuf,
    /// Model name, the first half of the model version; defaults to OUT's file name.
    #[arg(long)]
    name: Option<String>,
    /// Folds of the stratified cross-validation that measures held-out quality.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=100))]
    cv: u32,
    /// Additive smoothing of the naive Bayes feature probabilities, over the vocabulary.
    #[arg(long, default_value_t = train::DEFAULT_ALPHA)]
    alpha: f64,
    /// Rows per dense training batch; bounds memory.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    batch_size: u32,
    /// Seed of the fold assignment, so a rerun reproduces the same numbers.
    #[arg(long, default_value_t = 20_261_126)]
    seed: u64,
    /// Provenance (origin, licence, citation) of the data, recorded in the model and card.
    #[arg(long)]
    data_note: Option<String>,
    /// Markdown appended to the card as it is, e.g. the table `bench/peers` wrote
    /// (`bench/results/results.md`), so the card carries the comparison with other filters.
    #[arg(long)]
    card_appendix: Option<PathBuf>,
}

/// Counts of one input file, for the model's training-data description.
struct FileSummary {
    path: PathBuf,
    spam: usize,
    ham: usize,
    /// Examples `--pages` gave a permalink.
    placed: usize,
    /// Examples that link to their own page, `[ham, spam]`: all the model has to learn
    /// [`features::LINK_TO_PAGE`] from.
    linking: [usize; 2],
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    // `m/` names a folder: the files would be the hidden `m/.cgm` and `m/.md`.
    ensure!(
        !args
            .out
            .as_os_str()
            .to_string_lossy()
            .ends_with(std::path::is_separator),
        "--out must end in a file name, got {} (a folder)",
        args.out.display()
    );
    let out = match args.out.extension() {
        Some(ext) if ext == "cgm" => args.out.with_extension(""),
        _ => args.out.clone(),
    };
    let name = match &args.name {
        Some(name) => name.clone(),
        None => out
            .file_name()
            .context("--out must end in a file name")?
            .to_string_lossy()
            .into_owned(),
    };
    ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
        "model name {name:?} must be non-empty ASCII letters, digits, '-', '_' or '.'"
    );
    let model_path = with_suffix(&out, ".cgm");
    let card_path = with_suffix(&out, ".md");
    // Everything that can fail for want of a file is settled before minutes of training,
    // and before an earlier model at `--out` is touched.
    let appendix = match &args.card_appendix {
        Some(path) => Some(
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => None,
    };
    if let Some(dir) = model_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // A rename onto a folder would fail, perhaps after the model's had succeeded.
    for path in [&model_path, &card_path] {
        ensure!(
            !path.is_dir(),
            "cannot write {}: it is a folder",
            path.display()
        );
    }

    let pages = train::Pages::read_option(args.pages.as_deref())?;
    let mut examples: Vec<Example> = Vec::new();
    let mut files = Vec::new();
    for path in &args.data {
        let mut read = train::read_dataset(path)?;
        let placed = pages.place(&mut read);
        let spam = read.iter().filter(|e| e.is_spam).count();
        crate::report!(
            "read {}: {} examples ({spam} spam, {} ham, {placed} placed on their page)",
            path.display(),
            read.len(),
            read.len() - spam
        );
        let mut linking = [0; 2];
        for e in read.iter().filter(|e| links_to_its_page(e)) {
            linking[usize::from(e.is_spam)] += 1;
        }
        files.push(FileSummary {
            path: path.clone(),
            spam,
            ham: read.len() - spam,
            placed,
            linking,
        });
        examples.extend(read);
    }
    let spam = examples.iter().filter(|e| e.is_spam).count();
    let ham = examples.len() - spam;
    ensure!(
        spam > 0 && ham > 0,
        "the --data files hold {spam} spam and {ham} ham examples: training needs at least one of each"
    );
    let samples: Vec<Sample> = examples.iter().map(Sample::new).collect();
    let options = TrainOptions {
        alpha: args.alpha,
        batch_size: args.batch_size as usize,
        silence_linfa_debug: true,
        seed: args.seed,
    };
    let budget = Budget::default();

    let k = args.cv as usize;
    let (folds, names) = evaluation::kfold(&examples, k, args.seed);
    let evaluation = if let Some(reason) = evaluation::unusable_fold(&examples, &folds, &names) {
        // The model is still trained, on everything, as the service learns from its first
        // labels; only the measurement is impossible.
        let why = format!(
            "Not measured: with {spam} spam and {ham} ham in {k} stratified folds, {reason}."
        );
        crate::report!("{why}");
        CardEvaluation::Skipped(why)
    } else {
        crate::report!("{k}-fold stratified cross-validation (seed {}):", args.seed);
        let started = Instant::now();
        let held_out = evaluation::cross_validate(
            &examples,
            &samples,
            &folds,
            &names,
            &options,
            &budget,
            |fold| {
                crate::report!(
                    "  {}/{k}: trained on {}, scored {} held-out",
                    fold.name,
                    fold.trained_on,
                    fold.members.len()
                );
            },
        )?;
        crate::report!("  done in {:.1} s", started.elapsed().as_secs_f64());
        let tables = Summary::new(&held_out, &examples).markdown();
        crate::report!("\n{tables}");
        CardEvaluation::Measured(tables)
    };

    let created = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let training_data = describe_data(&files, args.data_note.as_deref());
    let started = Instant::now();
    let trained = train::train(
        &examples,
        &samples,
        &options,
        &budget,
        ModelInfo {
            name: name.clone(),
            created: created.clone(),
            training_data,
        },
    )
    .context("training the final model")?;
    let model = &trained.model;
    let train_seconds = started.elapsed().as_secs_f64();
    // Model and card are written beside their places and renamed into them together, so a
    // failure leaves an earlier model and its card as they were, never a new model next to
    // the old card.
    let staged_model = with_suffix(&model_path, ".new");
    let staged_card = with_suffix(&card_path, ".new");
    let written = write_model_and_card(
        model,
        &staged_model,
        &staged_card,
        |classifier, size, load_ms| {
            crate::report!(
                "trained on all {} examples in {train_seconds:.1} s: {size} bytes, version {}, loads in {load_ms:.1} ms",
                examples.len(),
                classifier.version()
            );
            let card = render_card(&CardFacts {
                version: classifier.version(),
                file_name: &model_path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                size,
                load_ms,
                created: &created,
                files: &files,
                data_note: args.data_note.as_deref(),
                examples: &examples,
                args: &args,
                evaluation: &evaluation,
                model,
                split: trained.split,
                vocabulary: model
                    .ham
                    .indices
                    .iter()
                    .chain(&model.spam.indices)
                    .collect::<BTreeSet<_>>()
                    .len(),
                ham_buckets: model.ham.indices.len(),
                spam_buckets: model.spam.indices.len(),
            });
            match &appendix {
                Some(appendix) => format!("{card}\n{appendix}"),
                None => card,
            }
        },
    )
    .and_then(|()| {
        fs::rename(&staged_model, &model_path)
            .with_context(|| format!("cannot write {}", model_path.display()))?;
        fs::rename(&staged_card, &card_path)
            .with_context(|| format!("cannot write {}", card_path.display()))
    });
    if written.is_err() {
        // Including the model writer's own staging file, left when its write failed.
        for staged in [
            &staged_model,
            &staged_card,
            &with_suffix(&staged_model, ".tmp"),
        ] {
            let _ = fs::remove_file(staged);
        }
    }
    written?;
    crate::report!("wrote {} and {}", model_path.display(), card_path.display());
    Ok(())
}

/// The card's held-out evaluation: its tables, or why there are none.
enum CardEvaluation {
    Measured(String),
    Skipped(String),
}

/// Writes the model to `model_path`, loads it back as a server would (proving the file
/// round-trips and measuring the start-up cost the card reports), and writes the card that
/// `card` renders from the loaded classifier, the file's size and the load time in ms.
fn write_model_and_card(
    model: &TrainedModel,
    model_path: &Path,
    card_path: &Path,
    card: impl FnOnce(&Classifier, u64, f64) -> String,
) -> anyhow::Result<()> {
    model.write(model_path)?;
    let started = Instant::now();
    let classifier = Classifier::load(model_path)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let size = fs::metadata(model_path)
        .with_context(|| format!("cannot stat {}", model_path.display()))?
        .len();
    let card = card(&classifier, size, load_ms);
    fs::write(card_path, card).with_context(|| format!("cannot write {}", card_path.display()))
}

/// `path` with `suffix` appended to its last component (`models/v1.2` → `models/v1.2.cgm`;
/// `Path::with_extension` would replace the `.2`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether the example's comment links to the page it is posted on.
fn links_to_its_page(example: &Example) -> bool {
    !example.comment.permalink.is_empty() && {
        let found = features::extract(&example.comment);
        found
            .iter()
            .any(|f| f.kind() == FeatureKind::Pattern && found.text(f) == features::LINK_TO_PAGE)
    }
}

fn describe_data(files: &[FileSummary], note: Option<&str>) -> String {
    let mut text = files
        .iter()
        .map(|f| {
            format!(
                "{}: {} examples ({} spam, {} ham)",
                f.path.display(),
                f.spam + f.ham,
                f.spam,
                f.ham
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(note) = note {
        text.push_str(". ");
        text.push_str(note);
    }
    text
}

struct CardFacts<'a> {
    version: &'a str,
    file_name: &'a str,
    size: u64,
    load_ms: f64,
    created: &'a str,
    files: &'a [FileSummary],
    data_note: Option<&'a str>,
    examples: &'a [Example],
    args: &'a TrainArgs,
    evaluation: &'a CardEvaluation,
    model: &'a TrainedModel,
    split: CalibrationSplit,
    vocabulary: usize,
    ham_buckets: usize,
    spam_buckets: usize,
}

fn render_card(f: &CardFacts) -> String {
    let a = f.args;
    let mut data = String::new();
    for file in f.files {
        let _ = write!(
            data,
            "- `{}`: {} examples ({} spam, {} ham)",
            file.path.display(),
            file.spam + file.ham,
            file.spam,
            file.ham
        );
        if let Some(pages) = a.pages.as_ref().filter(|_| file.placed > 0) {
            let _ = write!(
                data,
                "; {} placed on their page by `--pages {}`",
                file.placed,
                pages.display()
            );
        }
        if let [ham, spam] = file.linking
            && ham + spam > 0
        {
            let _ = write!(
                data,
                "; {} link to their page ({ham} ham, {spam} spam)",
                ham + spam
            );
        }
        data.push('\n');
    }
    let [ham_linking, spam_linking] = f.files.iter().fold([0, 0], |[h, s], file| {
        [h + file.linking[0], s + file.linking[1]]
    });
    let page_links = if ham_linking + spam_linking == 0 {
        "No training comment links to the page it is posted on (none has a permalink, or \
         none links to it), so \"a link to this page\" is not in the vocabulary: such a link \
         is left out of the link evidence and counts for nothing else."
            .to_string()
    } else {
        format!(
            "\"A link to this page\" is learned from the {} training comments that link to the \
             page they are posted on ({ham_linking} ham, {spam_linking} spam): too few for its \
             own weight to mean much. What matters more is that such a link is left out of the \
             link evidence (domain, top-level domain, link count).",
            ham_linking + spam_linking
        )
    };
    if let Some(note) = f.data_note {
        let _ = write!(data, "\nProvenance: {note}\n");
    }
    let with =
        |field: fn(&Example) -> &str| f.examples.iter().filter(|e| !field(e).is_empty()).count();
    let (emails, urls) = (
        with(|e| &e.comment.author_email),
        with(|e| &e.comment.author_url),
    );
    let author_fields = if emails + urls == 0 {
        "No training example has an author web address or e-mail address, so those features \
         are not in the vocabulary and are ignored until training data has them."
            .to_string()
    } else {
        format!(
            "{emails} training examples have an author e-mail address and {urls} an author web \
             address: a domain seen in only a few of them is thin evidence."
        )
    };
    let weights_learned = match f.split {
        CalibrationSplit::Uncalibrated => {
            "With too few examples to calibrate, the weights are learned on all examples at \
             once."
        }
        _ => {
            "The weights are learned separately inside each of the calibration folds below, and \
             the model's counts are the sum of the folds' fits, each fold's weights learned on \
             that fold."
        }
    };
    let calibration = match f.split {
        CalibrationSplit::Uncalibrated => format!(
            "{}\nIts spam_probability is then naive Bayes' own posterior, `σ(z₀ + Σ_g z_g)` (the \
             prior's log-odds plus every feature group's weighted log-odds), which overstates \
             its certainty.",
            describe_thresholds(f.model)
        ),
        split => {
            let folds = match split {
                CalibrationSplit::BySource(n) => format!(
                    "A leave-one-source-out cross-validation inside the training data ({n} \
                     folds, one per source)"
                ),
                _ => format!(
                    "A {}-fold cross-validation inside the training data",
                    split.folds()
                ),
            };
            format!(
                "Naive Bayes' raw log-odds are overconfident (words, their pairs and their letter \
                 n-grams are counted as independent evidence). {folds} gives every training \
                 example held-out evidence: the prior's log-odds `z₀` and, per feature group, the \
                 weighted log-odds of its features that point toward spam, `s_g`, and toward \
                 ham, `h_g`. Platt scaling with one slope per group and direction (each shrunk \
                 toward the common slope, none negative) maps it to `spam_probability = σ(z₀ \
                 {intercept} + Σ_g (spam slope_g · s_g + ham slope_g · h_g))`:\n\n{slopes}\n\
                 The thresholds are read off the same calibrated held-out scores under a \
                 false-positive budget, and are the service's defaults unless the config sets its \
                 own:\n\n{thresholds}\n\
                 The held-out evaluation below repeats this whole procedure inside every fold, so \
                 its breakdown shows what the budget delivers on comments that chose neither the \
                 calibration nor the thresholds.",
                intercept = signed(f.model.calibration.intercept),
                slopes = describe_slopes(f.model),
                thresholds = describe_thresholds(f.model),
            )
        }
    };
    let (probability, calibration_limits) = match f.split {
        CalibrationSplit::Uncalibrated => (
            "naive Bayes' own (uncalibrated) probability",
            format!(
                "The model is uncalibrated and its thresholds unmeasured: train it again once \
                 there are {} labelled examples of each class.",
                train::MIN_CALIBRATION_EXAMPLES
            ),
        ),
        _ => (
            "the calibrated probability",
            "Calibration is one slope per feature group and direction and one intercept: it fixes \
             overconfidence on average, not for every kind of comment; the reliability table \
             shows how far it holds on this data."
                .to_string(),
        ),
    };
    let evaluation = match f.evaluation {
        CardEvaluation::Measured(tables) => format!(
            "Stratified {}-fold cross-validation (strata: source group × label, seed {}): every \
             example was scored once by a model trained on the other folds, with the same code \
             path the service uses. No number below comes from data the scoring model was \
             trained on.\n\n{tables}",
            a.cv, a.seed
        ),
        CardEvaluation::Skipped(why) => format!("{why}\n"),
    };
    format!(
        "\
# Model card: `{version}`

Naive-Bayes spam classifier for commentguard. Given a comment, it returns {probability} \
 that the comment is spam and the features that pushed the verdict most.

| | |
|---|---|
| model file | `{file_name}`, {size} bytes, `.cgm` format {FORMAT_VERSION} |
| version | `{version}` (name + CRC32 of the payload) |
| created | {created} |
| feature scheme | {FEATURE_SCHEME} |
| vocabulary | {vocabulary} hash buckets seen in training (of 2^{HASH_BITS}): {ham_buckets} in ham, {spam_buckets} in spam |
| load time | {load_ms:.1} ms, measured by the training command right after writing the file |

## Training data

{examples} labelled examples:

{data}
## Features

{SCHEME_DESCRIPTION}

## Training method

Multinomial naive Bayes (`linfa_bayes::MultinomialNb<f64, usize>`, linfa-bayes 0.8.1), \
additive smoothing alpha = {alpha} over the vocabulary (the hash buckets seen in training), \
labels ham = 0 and spam = 1, fitted incrementally with \
`fit_with` over mini-batches of {batch} dense rows whose columns are the vocabulary. Each row \
is scaled by a weight learned by discriminative frequency estimation (Su et al., 2008): \
{passes} shuffled passes in which a comment adds its features in proportion to how wrong the \
counts so far are about it, so comments the model already gets right stop counting and hard \
ones count more; a comment's weight is what it added, averaged over {orders} runs in different \
orders. The class prior stays the share of comments. {weights_learned} The learned \
per-class counts are stored sparsely and the log-probabilities recomputed on load; features \
outside the vocabulary are ignored when scoring.

## Calibration and thresholds

{calibration}

## Command

```sh
{command}
```

## Held-out evaluation

{evaluation}
## Limitations

- The model has learned only from the training data above. Comments unlike it (another \
kind of site, another language, another year's spam) are scored less accurately until \
labelled examples of them are added; `commentguard labels` exports a site's own.
- {author_fields} Display names are not a feature: an ordinary name that a spammer also used \
would count against everyone who writes under it.
- Words the training data associates with spam for reasons of its own can be common in \
another site's legitimate comments; every verdict's explanation names the words that \
pushed it, so watch the review queue.
- {calibration_limits}
- {page_links}
",
        version = f.version,
        file_name = f.file_name,
        size = f.size,
        created = f.created,
        vocabulary = f.vocabulary,
        ham_buckets = f.ham_buckets,
        spam_buckets = f.spam_buckets,
        load_ms = f.load_ms,
        examples = f.examples.len(),
        alpha = a.alpha,
        batch = a.batch_size,
        passes = train::DISCRIMINATIVE_PASSES,
        orders = train::DISCRIMINATIVE_ORDERS,
        command = command_line(),
    )
}

/// `+ 0.7974` or `− 1.0059`, for a term of a sum.
fn signed(x: f64) -> String {
    let sign = if x < 0.0 { '−' } else { '+' };
    format!("{sign} {:.4}", x.abs())
}

fn describe_slopes(model: &TrainedModel) -> String {
    let c = &model.calibration;
    let mut table =
        String::from("| feature group | slope toward spam | slope toward ham |\n|---|---:|---:|\n");
    for (g, name) in GROUP_NAMES.iter().enumerate() {
        let _ = writeln!(
            table,
            "| {name} | {:.4} | {:.4} |",
            c.spam_slopes[g], c.ham_slopes[g]
        );
    }
    table
}

fn describe_thresholds(model: &TrainedModel) -> String {
    let t = model.thresholds;
    match model.budget {
        Some(b) => format!(
            "| threshold | value | chosen so that, on held-out training data |\n|---|---:|---|\n\
             | reject | {:.6} | at most {}% of ham is rejected |\n\
             | hold | {:.6} | spam is at least as likely as not, lowered to catch {}% of spam, but \
             at most {}% of ham held |\n\
             | reject, trusted author | {:.6} | no held-out ham at all |\n",
            t.reject,
            b.reject_ham * 100.0,
            t.hold,
            b.hold_spam * 100.0,
            b.hold_ham * 100.0,
            t.trusted_reject
        ),
        None => format!(
            "Too few examples to hold any out (fewer than {} of a class): uncalibrated, with \
             unmeasured default thresholds hold {}, reject {}, trusted reject {}.\n",
            train::MIN_CALIBRATION_EXAMPLES,
            t.hold,
            t.reject,
            t.trusted_reject
        ),
    }
}

/// The command as typed, with the program reduced to its file name and arguments quoted
/// for a POSIX shell, so the card's command can be pasted to reproduce the model.
fn command_line() -> String {
    let mut argv = std::env::args();
    let program = argv
        .next()
        .and_then(|p| {
            Path::new(&p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "commentguard".to_string());
    std::iter::once(program)
        .chain(argv)
        .map(|arg| shell_quote(&arg))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--data"), "--data");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn suffixes_keep_dots() {
        assert_eq!(
            with_suffix(Path::new("m/v1.2"), ".cgm"),
            Path::new("m/v1.2.cgm")
        );
    }

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/train.jsonl");

    /// Runs `train` with these arguments, as the command line would, one run at a time:
    /// `run` redirects the process's stderr around linfa-bayes' debug output, and two
    /// redirections at once fail ("Redirect already exists").
    fn train_with(args: &[&str]) -> anyhow::Result<()> {
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            train: TrainArgs,
        }
        let cli = Cli::try_parse_from(std::iter::once("commentguard").chain(args.iter().copied()))?;
        let mut args = cli.train;
        args.batch_size = 16;
        run(args)
    }

    /// A dataset file of `lines` in `dir`.
    fn dataset(dir: &Path, name: &str, lines: impl IntoIterator<Item = String>) -> String {
        let path = dir.join(name);
        fs::write(&path, lines.into_iter().collect::<Vec<_>>().join("\n")).unwrap();
        path.to_str().unwrap().to_string()
    }

    fn record(id: usize, text: &str, spam: bool, source: &str, extra: &str) -> String {
        let label = if spam { "spam" } else { "ham" };
        format!(
            r#"{{"id": "r{id}", "text": "{text}", "label": "{label}", "source": "{source}"{extra}}}"#
        )
    }

    #[test]
    fn trains_end_to_end_on_the_fixture() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fx");
        train_with(&[
            "--data",
            FIXTURE,
            "--out",
            out.to_str().unwrap(),
            "--cv",
            "3",
            "--data-note",
            "hand-made fixture",
        ])
        .unwrap();
        let card = fs::read_to_string(dir.path().join("fx.md")).unwrap();
        assert!(card.contains("## Held-out evaluation"), "{card}");
        assert!(card.contains("hand-made fixture"));
        assert!(card.contains("| reject |"), "{card}");
        assert!(card.contains("spam_probability = σ("), "{card}");
        // Two collections: calibrated on stratified folds, and the card says so.
        assert!(
            card.contains("A 5-fold cross-validation inside the training data"),
            "{card}"
        );
        assert!(card.contains("No training example has an author"), "{card}");
        let classifier = Classifier::load(&dir.path().join("fx.cgm")).unwrap();
        assert!(card.contains(classifier.version()));
        assert!(classifier.version().starts_with("fx-"));
    }

    /// The card describes the calibration that was done: one fold per source when the data
    /// is one collection of sources large enough to hold out, and the author fields the
    /// data has.
    #[test]
    fn the_card_says_how_the_model_was_calibrated() {
        let dir = tempfile::tempdir().unwrap();
        let lines = ["a", "b", "c"].into_iter().flat_map(|video| {
            (0..2 * train::MIN_CALIBRATION_EXAMPLES).map(move |i| {
                let source = format!("videos/{video}");
                if i % 2 == 0 {
                    let text = format!("subscribe to my channel {i} for free gifts");
                    let email = r#", "author_email": "x@spam.example""#;
                    record(i, &text, true, &source, email)
                } else {
                    let text = format!("this song brings back memories of {i} summers");
                    record(i, &text, false, &source, "")
                }
            })
        });
        let data = dataset(dir.path(), "videos.jsonl", lines);
        let out = dir.path().join("v");
        train_with(&["--data", &data, "--out", out.to_str().unwrap()]).unwrap();
        let card = fs::read_to_string(dir.path().join("v.md")).unwrap();
        assert!(
            card.contains(
                "A leave-one-source-out cross-validation inside the training data (3 folds, one \
                 per source)"
            ),
            "{card}"
        );
        assert!(!card.contains("5-fold cross-validation inside"), "{card}");
        // The fitted formula and a slope per group and direction, with the intercept's
        // sign written as a term's.
        assert!(card.contains("`spam_probability = σ(z₀ "), "{card}");
        assert!(!card.contains("+ -"), "{card}");
        assert!(
            card.contains("| feature group | slope toward spam | slope toward ham |"),
            "{card}"
        );
        assert_eq!(
            GROUP_NAMES
                .iter()
                .filter(|name| card.contains(&format!("| {name} | ")))
                .count(),
            GROUP_NAMES.len(),
            "{card}"
        );
        assert!(
            card.contains(
                "30 training examples have an author e-mail address and 0 an author web address"
            ),
            "{card}"
        );
    }

    #[test]
    fn a_term_of_a_sum_carries_its_own_sign() {
        assert_eq!(signed(0.79741), "+ 0.7974");
        assert_eq!(signed(-1.00589), "− 1.0059");
        assert_eq!(signed(0.0), "+ 0.0000");
    }

    /// The service learns from the first label of each class, and so does `train`: with one
    /// spam there is nothing to cross-validate (the fold holding it would have no spam to
    /// learn from), so the card says so, and the model is written, uncalibrated.
    #[test]
    fn one_example_of_a_class_trains_an_uncalibrated_model() {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = vec![record(0, "free money at my channel", true, "s", "")];
        lines.extend((1..20).map(|i| record(i, &format!("nice post number {i}"), false, "s", "")));
        let data = dataset(dir.path(), "few.jsonl", lines);
        let out = dir.path().join("few");
        train_with(&["--data", &data, "--out", out.to_str().unwrap()]).unwrap();
        let card = fs::read_to_string(dir.path().join("few.md")).unwrap();
        assert!(
            card.contains("Not measured: with 1 spam and 19 ham"),
            "{card}"
        );
        assert!(card.contains("naive Bayes' own posterior"), "{card}");
        assert!(!card.contains("Platt scaling"), "{card}");
        assert!(
            card.contains("returns naive Bayes' own (uncalibrated)"),
            "{card}"
        );
        let classifier = Classifier::load(&dir.path().join("few.cgm")).unwrap();
        let spam = classifier.score(&crate::comment::sample("free money at my channel"));
        let ham = classifier.score(&crate::comment::sample("nice post"));
        assert!(spam.spam_probability > ham.spam_probability);

        // Two spam, but of two collections: stratification deals each collection apart,
        // and both land in one fold, so that fold's model would have no spam either.
        let lines = ["a/x", "b/x"]
            .into_iter()
            .enumerate()
            .flat_map(|(g, source)| {
                (0..5).map(move |i| {
                    let text = format!("comment {i} of {source}");
                    record(10 * g + i, &text, i == 0, source, "")
                })
            });
        let groups = dataset(dir.path(), "groups.jsonl", lines);
        train_with(&["--data", &groups, "--out", out.to_str().unwrap()]).unwrap();
        let grouped = fs::read_to_string(dir.path().join("few.md")).unwrap();
        assert!(
            grouped.contains("would be trained without any spam"),
            "{grouped}"
        );

        // More folds than examples: the model is trained, nothing is measured.
        let six = dataset(
            dir.path(),
            "six.jsonl",
            (0..6).map(|i| record(i, &format!("comment number {i}"), i % 2 == 0, "s", "")),
        );
        train_with(&["--data", &six, "--out", out.to_str().unwrap(), "--cv", "10"]).unwrap();
        let surplus = fs::read_to_string(dir.path().join("few.md")).unwrap();
        assert!(
            surplus.contains("Not measured: with 3 spam and 3 ham in 10 stratified folds")
                && surplus.contains("10 folds need at least 10 examples"),
            "{surplus}"
        );
        assert!(!surplus.contains("| fold 7 |"), "{surplus}");

        let only_ham = dataset(dir.path(), "ham.jsonl", [record(0, "hi", false, "s", "")]);
        let err = train_with(&["--data", &only_ham, "--out", out.to_str().unwrap()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("hold 0 spam and 1 ham examples: training needs at least one of each"),
            "{err:#}"
        );
    }

    /// `--out m/` would write the hidden files `m/.cgm` and `m/.md`; a run that fails leaves
    /// an earlier model and its card as they were, and no half-written file beside them.
    #[test]
    fn a_failed_run_leaves_the_earlier_model_and_card() {
        let dir = tempfile::tempdir().unwrap();
        let folder = format!("{}/", dir.path().display());
        let err = train_with(&["--data", FIXTURE, "--out", &folder]).unwrap_err();
        assert!(
            err.to_string().contains("--out must end in a file name"),
            "{err:#}"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);

        let out = dir.path().join("m");
        let out = out.to_str().unwrap();
        train_with(&["--data", FIXTURE, "--out", out, "--cv", "2"]).unwrap();
        let (model, card) = (dir.path().join("m.cgm"), dir.path().join("m.md"));
        let before = (fs::read(&model).unwrap(), fs::read(&card).unwrap());
        let missing = dir.path().join("missing.md");
        let err = train_with(&[
            "--data",
            FIXTURE,
            "--out",
            out,
            "--cv",
            "3",
            "--card-appendix",
            missing.to_str().unwrap(),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err:#}");
        assert_eq!(
            (fs::read(&model).unwrap(), fs::read(&card).unwrap()),
            before
        );
        // Only the earlier model and card are in the folder: nothing staged is left behind.
        let only_model_and_card = || {
            let mut left: Vec<_> = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            left.sort();
            assert_eq!(left, ["m.cgm", "m.md"]);
        };
        only_model_and_card();

        // A failure while staging (a folder where the staged model goes): the earlier files
        // stay, and the model writer's own staging file is cleaned up.
        let blocker = dir.path().join("m.cgm.new");
        fs::create_dir_all(blocker.join("x")).unwrap();
        let err = train_with(&["--data", FIXTURE, "--out", out, "--cv", "3"]).unwrap_err();
        assert!(format!("{err:#}").contains("m.cgm.new"), "{err:#}");
        assert_eq!(
            (fs::read(&model).unwrap(), fs::read(&card).unwrap()),
            before
        );
        fs::remove_dir_all(&blocker).unwrap();
        only_model_and_card();
    }
}
