//! Classifying comments in-process: normalise, extract features, score, explain.
//!
//! Runs over the shipped corpora (`../shared/datasets`, the YouTube and SMS collections)
//! with the shipped model, and reports comments per second on one core. YouTube comments are
//! placed on their videos' pages (`models/youtube-spam.pages`), as the service gets them,
//! so the check for links to the page is timed too. Falls back to the test fixture when the
//! corpora are not next to the checkout, and says so.
//!
//! `cargo bench --bench classify`

use std::hint::black_box;
use std::path::Path;

use commentguard::classifier::train::{Pages, read_dataset};
use commentguard::classifier::{Classifier, features};
use commentguard::comment::Comment;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The allocator the server binary uses (see `src/main.rs`), so the figure is the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpus() -> Vec<Comment> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/datasets");
    let files = [
        shared.join("youtube-spam/comments.jsonl"),
        shared.join("sms-spam/messages.jsonl"),
    ];
    let files: Vec<_> = if files.iter().all(|f| f.exists()) {
        files.to_vec()
    } else {
        eprintln!(
            "corpora not found under {}; using the test fixture",
            shared.display()
        );
        vec![root.join("tests/fixtures/train.jsonl")]
    };
    let pages = Pages::read(&root.join("models/youtube-spam.pages")).expect("readable pages");
    files
        .iter()
        .flat_map(|f| {
            let mut examples = read_dataset(f).expect("readable dataset");
            pages.place(&mut examples);
            examples
        })
        .map(|e| e.comment)
        .collect()
}

fn classify(c: &mut Criterion) {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default.cgm");
    let classifier = Classifier::load(&model).expect("the shipped model loads");
    let comments = corpus();
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(comments.len() as u64));
    group.bench_function("score_and_explain", |b| {
        b.iter(|| {
            for comment in &comments {
                black_box(classifier.score(black_box(comment)));
            }
        })
    });
    group.bench_function("extract_features", |b| {
        b.iter(|| {
            for comment in &comments {
                black_box(features::extract(black_box(comment)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, classify);
criterion_main!(benches);
