//! A model file whose container is intact (magic, version, length and checksum all right)
//! but whose payload is anything at all is refused with an error, never a panic, and a
//! payload that is accepted loads into a classifier that scores. The fuzzer's input is the
//! payload; this target writes the container around it, since a fuzzer would almost never
//! get past the checksum by itself.
#![no_main]

use std::io::Write;

use commentguard::classifier::Classifier;
use commentguard::classifier::model::{FORMAT_VERSION, MAGIC};
use commentguard::comment::Comment;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    let mut bytes = Vec::with_capacity(24 + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(&bytes).expect("written");
    if let Ok(classifier) = Classifier::load(file.path()) {
        let comment = Comment {
            content: "subscribe to my channel http://bit.ly/x".into(),
            ..Comment::default()
        };
        let p = classifier.score(&comment).spam_probability;
        assert!((0.0..=1.0).contains(&p), "{p}");
    }
});
