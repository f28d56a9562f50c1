//! `commentguard eval` as an operator runs it: cross-validation or a test set, a table on
//! stdout, and the JSON, predictions and charts it was asked to write.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_commentguard");
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/train.jsonl");
const MULTILINGUAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/multilingual.jsonl"
);

fn eval(args: &[&str]) -> Output {
    Command::new(BIN).arg("eval").args(args).output().unwrap()
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn kfold_writes_json_predictions_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("eval.json");
    let predictions = dir.path().join("predictions.jsonl");
    let charts = dir.path().join("charts");
    let stdout = succeeded(&eval(&[
        "--train",
        FIXTURE,
        "--kfold",
        "3",
        "--json",
        json.to_str().unwrap(),
        "--predictions",
        predictions.to_str().unwrap(),
        "--plot",
        charts.to_str().unwrap(),
    ]));
    assert!(stdout.contains("| all |"), "{stdout}");
    assert!(stdout.contains("ham rejected"), "{stdout}");
    assert!(stdout.contains("comments/s"), "{stdout}");

    let report = read_json(&json);
    assert_eq!(report["split"], "stratified 3-fold, seed 20261126");
    let overall = &report["overall"];
    assert_eq!(
        overall["ham"].as_u64().unwrap() + overall["spam"].as_u64().unwrap(),
        42
    );
    for metric in [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "mcc",
        "auc",
        "brier",
    ] {
        let value = overall[metric].as_f64().unwrap_or(f64::NAN);
        assert!((-1.0..=1.0).contains(&value), "{metric}: {value}");
    }
    for class in ["ham_verdicts", "spam_verdicts"] {
        let shares = &overall[class];
        let total: f64 = ["approved", "held", "rejected"]
            .iter()
            .map(|k| shares[k].as_f64().unwrap())
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{class}: {shares}");
    }
    assert!(!overall["reliability"].as_array().unwrap().is_empty());
    assert_eq!(report["folds"].as_array().unwrap().len(), 3);
    assert!(report["groups"]["fixture-sms"].is_object(), "{report}");
    assert!(report["scoring"]["per_second"].as_f64().unwrap() > 0.0);

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&predictions)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 42);
    assert!(
        lines
            .iter()
            .all(|l| l["fold"].as_str().unwrap().starts_with("fold "))
    );
    assert!(lines.iter().any(|l| l["verdict"] == "approve"));

    for chart in ["roc.svg", "histogram.svg", "reliability.svg"] {
        let svg = std::fs::read_to_string(charts.join(chart)).unwrap();
        assert!(svg.starts_with("<svg"), "{chart}");
    }
}

#[test]
fn leave_one_source_out_and_a_test_set() {
    let by_source = succeeded(&eval(&["--train", FIXTURE, "--by-source"]));
    assert!(
        by_source.contains("leave one source out: 2 folds"),
        "{by_source}"
    );
    assert!(
        by_source.contains("| fixture-youtube/Test |"),
        "{by_source}"
    );

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("eval.json");
    succeeded(&eval(&[
        "--train",
        FIXTURE,
        "--test",
        MULTILINGUAL,
        "--json",
        json.to_str().unwrap(),
    ]));
    let report = read_json(&json);
    assert_eq!(report["split"], "test set");
    assert_eq!(report["folds"][0]["trained_on"], 42);
    assert_eq!(report["folds"][0]["tested"], 20);
}

#[test]
fn refuses_missing_splits_and_bad_files_with_a_reason() {
    let out = eval(&["--train", FIXTURE]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--by-source"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"a\", \"text\": \"hi\", \"label\": \"eggs\", \"source\": \"s\"}\n",
    )
    .unwrap();
    let out = eval(&["--train", bad.to_str().unwrap(), "--kfold", "2"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.jsonl:1: invalid record"), "{stderr}");

    // An output that cannot be written is refused before the evaluation, not after it.
    let nowhere = dir.path().join("missing/eval.json");
    let out = eval(&[
        "--train",
        FIXTURE,
        "--kfold",
        "2",
        "--json",
        nowhere.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no folder"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("folds"));
    let folder = dir.path().to_str().unwrap();
    let out = eval(&["--train", FIXTURE, "--kfold", "2", "--predictions", folder]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("it is a folder"));
    // A chart folder that cannot be made (here, under a file) is found before the folds run.
    let under_a_file = Path::new(FIXTURE).join("charts");
    let out = eval(&[
        "--train",
        FIXTURE,
        "--kfold",
        "2",
        "--plot",
        under_a_file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot create the chart folder"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("folds"));
}

/// Dataset lines with new ids and texts, so that a model trained on the originals has seen
/// none of them.
fn reworded(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = format!("{} (posted again)", record["text"].as_str().unwrap());
            record["text"] = text.into();
            record["id"] = format!("{}-again", record["id"].as_str().unwrap()).into();
            record.to_string()
        })
        .collect()
}

/// `--pages` places the records of each listed source on its page, in the training and the
/// test files alike, and says how many, none included; a pages file it cannot use is
/// refused, naming the line.
#[test]
fn pages_place_comments_and_bad_pages_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("pages");
    std::fs::write(
        &pages,
        "# the fixture's video\nfixture-youtube/Test https://www.youtube.com/watch?v=abcdefghijk\n",
    )
    .unwrap();
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    let test = dir.path().join("test.jsonl");
    let lines: Vec<&str> = fixture.lines().collect();
    std::fs::write(&test, reworded(&lines).join("\n")).unwrap();
    let stdout = succeeded(&eval(&[
        "--train",
        FIXTURE,
        "--test",
        test.to_str().unwrap(),
        "--pages",
        pages.to_str().unwrap(),
    ]));
    assert_eq!(
        stdout.matches("24 comments placed on their page").count(),
        2,
        "{stdout}"
    );

    // None of the fixture's sources is a YouTube video, and the report says so.
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/models/youtube-spam.pages");
    let stdout = succeeded(&eval(&[
        "--train", FIXTURE, "--kfold", "2", "--pages", shipped,
    ]));
    assert!(
        stdout.contains("train.jsonl: 0 comments placed on their page"),
        "{stdout}"
    );

    std::fs::write(&pages, "fixture-youtube/Test\n").unwrap();
    let out = eval(&[
        "--train",
        FIXTURE,
        "--kfold",
        "2",
        "--pages",
        pages.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pages:1: expected `source permalink`"),
        "{stderr}"
    );
}

/// A test set of ham alone: the spam shares are nothing ("n/a", `null`), not 0% each, and
/// the ROC chart draws no curve; a test comment also in training is left out of every
/// figure, counted and said.
#[test]
fn a_one_class_test_set_has_no_spam_shares_and_no_roc_curve() {
    let dir = tempfile::tempdir().unwrap();
    let ham_only = dir.path().join("ham.jsonl");
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    let ham: Vec<&str> = fixture.lines().filter(|l| l.contains("\"ham\"")).collect();
    // The fixture's ham, reworded so that training has not seen them.
    let unseen = reworded(&ham);
    std::fs::write(&ham_only, unseen.join("\n")).unwrap();
    let json = dir.path().join("eval.json");
    let charts = dir.path().join("charts");
    let stdout = succeeded(&eval(&[
        "--train",
        FIXTURE,
        "--test",
        ham_only.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--plot",
        charts.to_str().unwrap(),
    ]));
    let row = stdout
        .lines()
        .skip_while(|l| !l.contains("ham approved"))
        .nth(2)
        .unwrap();
    assert!(row.ends_with("| n/a | n/a | n/a |"), "{row}");
    let report = read_json(&json);
    assert!(report["overall"]["spam_verdicts"].is_null(), "{report}");
    assert!(report["overall"]["ham_verdicts"]["approved"].is_f64());
    let roc = std::fs::read_to_string(charts.join("roc.svg")).unwrap();
    assert!(roc.contains("no ROC points"));

    assert!(!stdout.contains("left out"), "{stdout}");
    assert_eq!(report["seen_in_training"], 0);

    // Two test comments are in the training file: left out of the figures, said, counted.
    let mixed = dir.path().join("mixed.jsonl");
    std::fs::write(
        &mixed,
        format!("{}\n{}\n{}", unseen.join("\n"), ham[0], ham[1]),
    )
    .unwrap();
    let stdout = succeeded(&eval(&[
        "--train",
        FIXTURE,
        "--test",
        mixed.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]));
    assert!(
        stdout.contains(&format!(
            "left out 2 of the {} evaluated comments: the model that scored each was trained \
             on a comment of the same text",
            ham.len() + 2
        )),
        "{stdout}"
    );
    let report = read_json(&json);
    assert_eq!(report["seen_in_training"], 2);
    assert_eq!(report["overall"]["ham"], ham.len(), "{report}");

    // Every test comment is in the training file: nothing honest is left to report.
    let copies = dir.path().join("copies.jsonl");
    std::fs::write(&copies, ham.join("\n")).unwrap();
    let out = eval(&["--train", FIXTURE, "--test", copies.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("so nothing is left to report"), "{stderr}");
}

/// Copies of a comment in different folds are counted too; and a split that cannot work is
/// refused with the reason, not with a failure inside a fold.
#[test]
fn repeated_texts_are_reported_and_impossible_splits_explained() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    let twice = dir.path().join("twice.jsonl");
    let again: Vec<&str> = fixture.lines().take(6).collect();
    std::fs::write(&twice, format!("{fixture}\n{}", again.join("\n"))).unwrap();
    let stdout = succeeded(&eval(&["--train", twice.to_str().unwrap(), "--kfold", "3"]));
    assert!(stdout.contains("left out "), "{stdout}");
    let clean = succeeded(&eval(&["--train", FIXTURE, "--kfold", "3"]));
    assert!(!clean.contains("left out "), "{clean}");

    let youtube = dir.path().join("youtube.jsonl");
    let one_source: Vec<&str> = fixture
        .lines()
        .filter(|l| l.contains("fixture-youtube/Test"))
        .collect();
    std::fs::write(&youtube, one_source.join("\n")).unwrap();
    let out = eval(&["--train", youtube.to_str().unwrap(), "--by-source"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--by-source needs at least 2 sources")
            && stderr.contains("fixture-youtube/Test"),
        "{stderr}"
    );

    let one_spam = dir.path().join("one-spam.jsonl");
    let mut lines: Vec<&str> = fixture.lines().filter(|l| l.contains("\"ham\"")).collect();
    lines.extend(fixture.lines().find(|l| l.contains("\"spam\"")));
    std::fs::write(&one_spam, lines.join("\n")).unwrap();
    let out = eval(&["--train", one_spam.to_str().unwrap(), "--kfold", "3"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot cross-validate 1 spam and 22 ham")
            && stderr.contains("would be trained without any spam"),
        "{stderr}"
    );

    // More folds than examples: the surplus folds would report on nothing.
    let six = dir.path().join("six.jsonl");
    let mut lines: Vec<&str> = fixture
        .lines()
        .filter(|l| l.contains("\"ham\""))
        .take(3)
        .collect();
    lines.extend(fixture.lines().filter(|l| l.contains("\"spam\"")).take(3));
    std::fs::write(&six, lines.join("\n")).unwrap();
    let out = eval(&["--train", six.to_str().unwrap(), "--kfold", "10"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot cross-validate 3 spam and 3 ham")
            && stderr.contains("would hold no example to test: 10 folds need at least 10"),
        "{stderr}"
    );
}
