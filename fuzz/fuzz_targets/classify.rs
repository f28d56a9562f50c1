//! Any comment a platform can send is scored and explained without panicking: the byte-level
//! reader, the normaliser, link and pattern parsing, scoring and naming the contributions.
//! Input: up to four fields separated by 0xFF (never a byte of UTF-8), read lossily as UTF-8:
//! content, author URL, author e-mail, author name.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use commentguard::classifier::Classifier;
use commentguard::comment::Comment;
use commentguard::verdict::Verdict;
use libfuzzer_sys::fuzz_target;

fn classifier() -> &'static Classifier {
    static MODEL: OnceLock<Classifier> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/default.cgm");
        Classifier::load(&path).expect("the shipped model loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|&b| b == 0xFF).map(String::from_utf8_lossy);
    let mut next = || fields.next().map(|f| f.into_owned()).unwrap_or_default();
    let comment = Comment {
        content: next(),
        author_url: next(),
        author_email: next(),
        author_name: next(),
        ..Comment::default()
    };
    let classifier = classifier();
    let score = classifier.score(&comment);
    assert!((0.0..=1.0).contains(&score.spam_probability), "{score:?}");
    assert!(
        score
            .contributions
            .iter()
            .all(|c| c.weight.is_finite() && !c.feature.is_empty())
    );
    // Links alone never reject: a rejection needs the reject threshold with the links and
    // the hold threshold without them.
    let thresholds = classifier.thresholds();
    if score.verdict(&thresholds) == Verdict::Reject {
        assert!(score.spam_probability >= thresholds.reject, "{score:?}");
        assert!(
            score.spam_probability_without_links >= thresholds.hold,
            "{score:?}"
        );
    }
});
