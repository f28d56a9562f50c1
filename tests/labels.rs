//! The retraining loop as an operator runs it: labels taught over gRPC (a backend's feedback,
//! an operator's resolution) are exported by `commentguard labels` once the server has
//! stopped, and `train` and `eval` read the file.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use commentguard::api::pb::{Label, SubmitFeedbackRequest, Verdict};
use commentguard::classifier::train::read_dataset;
use common::{TestServer, check, comment, resolve};

const BIN: &str = env!("CARGO_BIN_EXE_commentguard");

fn labels(data_dir: &Path, out: &Path, site: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command
        .arg("labels")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--out")
        .arg(out);
    if let Some(site) = site {
        command.args(["--site", site]);
    }
    command.output().unwrap()
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_labels_export_for_train_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server =
        TestServer::start(&data, "[policy]\nmoderation_terms = [\"please review\"]\n").await;
    let mut moderation = server.moderation().await;
    let mut review = server.review().await;

    // A spam the filter never saw, reported by the backend with its author's details.
    let mut missed = comment("blog", "missed", "Cheap watches at my shop, visit today");
    missed.author_url = "https://watches.example/".into();
    missed.author_email = "sales@watches.example".into();
    missed.permalink = "https://blog.example/2026/11/clocks".into();
    missed.submitted_at = Some(prost_types::Timestamp {
        seconds: 1_764_300_000,
        nanos: 0,
    });
    moderation
        .submit_feedback(SubmitFeedbackRequest {
            site_id: "blog".into(),
            comment_id: "missed".into(),
            label: Label::Spam as i32,
            comment: Some(missed.clone()),
        })
        .await
        .unwrap();
    // A held comment an operator approved, and another site's feedback.
    let held = check(
        &mut moderation,
        comment("blog", "held", "please review my question about the clocks"),
    )
    .await;
    assert_eq!(held.verdict(), Verdict::Hold, "{held:?}");
    resolve(&mut review, "blog", "held", Verdict::Approve)
        .await
        .unwrap();
    for (site, id, text) in [
        ("shop", "s1", "Arrived quickly, works as described"),
        ("news|tech", "n1", "Good summary of the hearing"),
    ] {
        moderation
            .submit_feedback(SubmitFeedbackRequest {
                site_id: site.into(),
                comment_id: id.into(),
                label: Label::Ham as i32,
                comment: Some(comment(site, id, text)),
            })
            .await
            .unwrap();
    }
    // Checked but never labelled: not a training example.
    check(
        &mut moderation,
        comment("blog", "plain", "Lovely photos of the clock tower"),
    )
    .await;

    // The running server holds the database: the export says so and writes nothing.
    let out = dir.path().join("blog.jsonl");
    let refused = labels(&data, &out, Some("blog"));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("in use by another process"), "{stderr}");
    assert!(!out.exists());
    server.stop().await;

    // Nothing is written over the database's own files, nor over an earlier export when
    // this one would be empty, nor left half-written when the file cannot be put in place
    // (`--out` is a folder here).
    let earlier = dir.path().join("earlier.jsonl");
    std::fs::write(&earlier, "an earlier export\n").unwrap();
    for (out, expected) in [
        (data.join("db"), "inside the data folder"),
        (data.join("blobs/x.jsonl"), "inside the data folder"),
        (
            dir.path().join("typo.jsonl"),
            "no labels are stored for site \"blgo\"",
        ),
        (dir.path().to_path_buf(), "cannot write"),
        (dir.path().join("none/x.jsonl"), "no folder"),
    ] {
        let site = expected.contains("blgo").then_some("blgo");
        let refused = labels(&data, &out, site);
        assert!(!refused.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(expected), "{out:?}: {stderr}");
        let mut partial = out.into_os_string();
        partial.push(".partial");
        assert!(!Path::new(&partial).exists(), "{partial:?}");
    }
    assert_eq!(
        std::fs::read_to_string(&earlier).unwrap(),
        "an earlier export\n"
    );

    let report = succeeded(&labels(&data, &out, Some("blog")));
    assert!(
        report.starts_with("wrote 2 labels (1 spam, 1 ham) from site \"blog\""),
        "{report}"
    );
    let exported = read_dataset(&out).unwrap();
    let summary: Vec<(&str, &str, bool)> = exported
        .iter()
        .map(|e| (e.source.as_str(), e.comment.comment_id.as_str(), e.is_spam))
        .collect();
    assert_eq!(summary, [("blog", "held", false), ("blog", "missed", true)]);
    let spam = &exported[1].comment;
    assert_eq!(spam.content, missed.content);
    assert_eq!(spam.author_url, missed.author_url);
    assert_eq!(spam.author_email, missed.author_email);
    assert_eq!(spam.permalink, missed.permalink);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains(r#""date":"2025-11-28T03:20:00.000000Z""#),
        "{text}"
    );

    let all = dir.path().join("all.jsonl");
    let report = succeeded(&labels(&data, &all, None));
    assert!(
        report.starts_with("wrote 4 labels (1 spam, 3 ham) from all sites"),
        "{report}"
    );
    let report = succeeded(&labels(&data, &dir.path().join("shop.jsonl"), Some("shop")));
    assert!(
        report.starts_with("wrote 1 label (0 spam, 1 ham)"),
        "{report}"
    );

    // `train` and `eval` take the export beside other labelled data.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/train.jsonl");
    let model = dir.path().join("mine");
    succeeded(
        &Command::new(BIN)
            .args(["train", "--data"])
            .arg(&fixture)
            .arg(&all)
            .arg("--out")
            .arg(&model)
            .output()
            .unwrap(),
    );
    assert!(model.with_extension("cgm").is_file());
    let eval = succeeded(
        &Command::new(BIN)
            .args(["eval", "--train"])
            .arg(&fixture)
            .arg("--test")
            .arg(&all)
            .output()
            .unwrap(),
    );
    // Each site is a row of the breakdown; a `|` in a site's id does not break the table.
    assert!(eval.contains("| blog |"), "{eval}");
    assert!(eval.contains("| news\\|tech |"), "{eval}");

    // A folder that holds no database is refused, and none is created there.
    let missing = dir.path().join("typo");
    let refused = labels(&missing, &dir.path().join("x.jsonl"), None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("holds no commentguard database"));
    assert!(!missing.exists());
}
