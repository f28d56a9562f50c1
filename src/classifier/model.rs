//! The `.cgm` model file: what a trained model is on disk, and how it is checked on load.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `CGMODEL\0` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 8 | payload length in bytes |
//! | 4 | CRC32 (IEEE) of the payload |
//! | n | payload: UTF-8 JSON of [`TrainedModel`] |
//!
//! The payload stores the *sufficient statistics* of multinomial naive Bayes — per-class
//! document counts and sparse per-bucket (weighted) feature counts — rather than
//! log-probabilities: only the few hundred thousand buckets that occur are stored, so a
//! 2^20-wide model is a few MB, the file holds exactly what training counted, and a later
//! version can change smoothing without retraining. The vocabulary is implied: the buckets
//! with a non-zero count in some class; [`FeatureKeys`] says which features filled each of
//! them, so that one sharing the bucket is not taken for them. JSON keeps the payload inspectable with
//! `tail -c +25 model.cgm | jq`; the binary header makes corruption and truncation
//! detectable before any parsing happens.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::calibration::{Budget, Calibration, Thresholds};
use super::features::{FEATURE_SCHEME, N_FEATURES};

/// First bytes of every model file.
pub const MAGIC: [u8; 8] = *b"CGMODEL\0";
/// The container layout version this build reads and writes.
pub const FORMAT_VERSION: u32 = 5;
/// Magic + version + payload length + CRC32.
const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// Why a model file could not be loaded or saved. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model file {path}: not a commentguard model (bad magic bytes)")]
    BadMagic { path: PathBuf },
    #[error(
        "model file {path}: format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("model file {path}: truncated, expected {expected} bytes but found {found}")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error(
        "model file {path}: checksum mismatch (stored {stored:08x}, computed {computed:08x}); the file is corrupted"
    )]
    ChecksumMismatch {
        path: PathBuf,
        stored: u32,
        computed: u32,
    },
    #[error("model file {path}: corrupted: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("model file {path}: incompatible with this build: {reason}")]
    Incompatible { path: PathBuf, reason: String },
}

/// Sufficient statistics of one class, as learned by linfa-bayes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCounts {
    /// Training documents of this class (the prior's numerator).
    pub documents: u64,
    /// Buckets with a non-zero count, strictly increasing.
    pub indices: Vec<u32>,
    /// Summed feature counts of those buckets over the class's documents.
    pub counts: Vec<f64>,
}

impl ClassCounts {
    /// A class with no documents yet.
    pub fn empty() -> ClassCounts {
        ClassCounts {
            documents: 0,
            indices: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// The counts of several disjoint training sets together. Multinomial naive Bayes'
    /// statistics are sums over documents, so this is exactly what fitting all of them at
    /// once gives (linfa-bayes' own `fit_with` adds batches the same way).
    pub fn sum<'a>(parts: impl IntoIterator<Item = &'a ClassCounts>) -> ClassCounts {
        let mut documents = 0;
        let mut merged: std::collections::BTreeMap<u32, f64> = Default::default();
        for part in parts {
            documents += part.documents;
            for (&index, &count) in part.indices.iter().zip(&part.counts) {
                *merged.entry(index).or_insert(0.0) += count;
            }
        }
        let (indices, counts) = merged.into_iter().unzip();
        ClassCounts {
            documents,
            indices,
            counts,
        }
    }

    /// Total feature count of the class (the likelihood denominator before smoothing).
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }
}

/// The features a model learned, each as its bucket and [`Feature::check`]: what tells a
/// feature it was trained on from an unseen one that shares the bucket. Sorted by bucket,
/// then check, with no repeats; two parallel lists, so the JSON stays small.
///
/// [`Feature::check`]: super::features::Feature::check
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureKeys {
    pub buckets: Vec<u32>,
    pub checks: Vec<u16>,
}

impl FeatureKeys {
    /// The keys of `pairs`, in any order and with repeats.
    pub fn of(pairs: impl IntoIterator<Item = (u32, u16)>) -> FeatureKeys {
        let mut pairs: Vec<(u32, u16)> = pairs.into_iter().collect();
        pairs.sort_unstable();
        pairs.dedup();
        let (buckets, checks) = pairs.into_iter().unzip();
        FeatureKeys { buckets, checks }
    }

    /// The keys of several training sets together.
    pub fn union<'a>(parts: impl IntoIterator<Item = &'a FeatureKeys>) -> FeatureKeys {
        FeatureKeys::of(parts.into_iter().flat_map(FeatureKeys::iter))
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, u16)> + '_ {
        self.buckets
            .iter()
            .copied()
            .zip(self.checks.iter().copied())
    }
}

/// Multinomial naive Bayes' smoothed log-probability of one feature in a class, as
/// linfa-bayes estimates it: `ln((count + α) / (class_total + α · vocabulary))`. Serving and
/// training's discriminative weights both use it, so the two estimates cannot drift apart.
pub fn smoothed_log_probability(
    count: f64,
    class_total: f64,
    alpha: f64,
    vocabulary: usize,
) -> f64 {
    (count + alpha).ln() - (class_total + alpha * vocabulary as f64).ln()
}

/// Everything a `.cgm` payload holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedModel {
    /// Short name, the first half of the model version (`default`).
    pub name: String,
    /// UTC creation time, RFC 3339.
    pub created: String,
    /// Human-readable description of the training data (files, counts, provenance).
    pub training_data: String,
    /// [`FEATURE_SCHEME`] at training time.
    pub feature_scheme: u32,
    /// Width of the hashed feature space (not the vocabulary size); must match this build.
    pub n_features: usize,
    /// Additive (Laplace/Lidstone) smoothing, applied over the vocabulary.
    pub alpha: f64,
    pub ham: ClassCounts,
    pub spam: ClassCounts,
    /// The features behind the counts' buckets.
    pub keys: FeatureKeys,
    /// Maps the naive-Bayes log-odds to a calibrated spam probability.
    pub calibration: Calibration,
    /// The thresholds the false-positive budget gave on held-out training data; the
    /// service's defaults, unless the config overrides them.
    pub thresholds: Thresholds,
    /// The budget `thresholds` were chosen for; `None` when there was too little data to
    /// hold any out, and `thresholds` are [`Thresholds::UNMEASURED`].
    pub budget: Option<Budget>,
}

impl TrainedModel {
    /// Serialises into the `.cgm` container.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = serde_json::to_vec(self)
            .expect("plain structs of strings and numbers always serialise to JSON");
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Parses and validates a `.cgm` container; `path` is only used in error messages.
    /// Returns the model and the payload checksum, which identifies the model's version.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<(TrainedModel, u32), ModelError> {
        let path_buf = || path.to_path_buf();
        let truncated = |expected: u64| ModelError::Truncated {
            path: path_buf(),
            expected,
            found: bytes.len() as u64,
        };
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            // A short file that starts like ours was cut; anything else is not ours.
            return Err(if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
                truncated(HEADER_LEN as u64)
            } else {
                ModelError::BadMagic { path: path_buf() }
            });
        }
        if bytes.len() < HEADER_LEN {
            return Err(truncated(HEADER_LEN as u64));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4-byte slice"));
        if version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion {
                path: path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let payload_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8-byte slice"));
        let stored = u32::from_le_bytes(bytes[20..24].try_into().expect("4-byte slice"));
        let expected = (HEADER_LEN as u64).saturating_add(payload_len);
        let found = bytes.len() as u64;
        if found < expected {
            return Err(truncated(expected));
        }
        if found > expected {
            return Err(ModelError::Corrupt {
                path: path_buf(),
                reason: format!("{} unexpected byte(s) after the payload", found - expected),
            });
        }
        let payload = &bytes[HEADER_LEN..];
        let computed = crc32fast::hash(payload);
        if computed != stored {
            return Err(ModelError::ChecksumMismatch {
                path: path_buf(),
                stored,
                computed,
            });
        }
        let model: TrainedModel =
            serde_json::from_slice(payload).map_err(|e| ModelError::Corrupt {
                path: path_buf(),
                reason: format!("payload is not a valid model: {e}"),
            })?;
        model.validate(path)?;
        Ok((model, computed))
    }

    /// Reads and validates a model file.
    pub fn read(path: &Path) -> Result<(TrainedModel, u32), ModelError> {
        let bytes = fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        TrainedModel::from_bytes(&bytes, path)
    }

    /// Writes the model via a temporary file and a rename, so a crash mid-write never leaves
    /// a half-written model where a server would pick it up. Returns the checksum.
    pub fn write(&self, path: &Path) -> Result<u32, ModelError> {
        let io = |source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = self.to_bytes();
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let mut file = fs::File::create(&tmp).map_err(io)?;
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, path).map_err(io)?;
        Ok(crc32fast::hash(&bytes[HEADER_LEN..]))
    }

    /// Checks the invariants the scorer relies on; a checksum only proves the bytes are the
    /// ones written, not that the writer was right.
    fn validate(&self, path: &Path) -> Result<(), ModelError> {
        let corrupt = |reason: String| ModelError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let incompatible = |reason: String| ModelError::Incompatible {
            path: path.to_path_buf(),
            reason,
        };
        if self.feature_scheme != FEATURE_SCHEME {
            return Err(incompatible(format!(
                "trained with feature scheme {}, this build extracts scheme {FEATURE_SCHEME}",
                self.feature_scheme
            )));
        }
        if self.n_features != N_FEATURES {
            return Err(incompatible(format!(
                "hashed into {} features, this build uses {N_FEATURES}",
                self.n_features
            )));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(corrupt(format!(
                "smoothing alpha {} is not positive",
                self.alpha
            )));
        }
        for (label, class) in [("ham", &self.ham), ("spam", &self.spam)] {
            if class.documents == 0 {
                return Err(corrupt(format!("class {label} has no training documents")));
            }
            if class.indices.len() != class.counts.len() {
                return Err(corrupt(format!(
                    "class {label} has {} indices but {} counts",
                    class.indices.len(),
                    class.counts.len()
                )));
            }
            if class.indices.windows(2).any(|w| w[0] >= w[1])
                || class
                    .indices
                    .last()
                    .is_some_and(|&i| i as usize >= N_FEATURES)
            {
                return Err(corrupt(format!(
                    "class {label} feature indices are not increasing within 0..{N_FEATURES}"
                )));
            }
            if class.counts.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
                return Err(corrupt(format!(
                    "class {label} has a count that is not a positive number"
                )));
            }
        }
        let keys = &self.keys;
        let pairs_in_order = keys.buckets.len() == keys.checks.len()
            && keys.iter().zip(keys.iter().skip(1)).all(|(a, b)| a < b);
        let mut vocabulary: Vec<u32> = self.ham.indices.clone();
        vocabulary.extend(&self.spam.indices);
        vocabulary.sort_unstable();
        vocabulary.dedup();
        let mut keyed = keys.buckets.clone();
        keyed.dedup();
        if !(pairs_in_order
            && keyed == vocabulary
            && keys
                .checks
                .iter()
                .all(|&c| u32::from(c) < 1 << super::features::CHECK_BITS))
        {
            return Err(corrupt(
                "feature keys are not one sorted (bucket, check) list covering exactly the \
                 counted buckets"
                    .into(),
            ));
        }
        let calibration = &self.calibration;
        if !(calibration.slopes().all(|a| a.is_finite() && *a >= 0.0)
            && calibration.intercept.is_finite())
        {
            return Err(corrupt(format!(
                "calibration slopes {:?} and {:?} must be non-negative numbers and intercept {} \
                 finite",
                calibration.spam_slopes, calibration.ham_slopes, calibration.intercept
            )));
        }
        let Thresholds {
            hold,
            reject,
            trusted_reject,
        } = self.thresholds;
        if !(0.0 <= hold && hold <= reject && reject <= trusted_reject && trusted_reject <= 1.0) {
            return Err(corrupt(format!(
                "thresholds hold {hold}, reject {reject}, trusted reject {trusted_reject} are not ordered within 0..=1"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_model() -> TrainedModel {
        TrainedModel {
            name: "tiny".into(),
            created: "2026-01-01T00:00:00Z".into(),
            training_data: "hand-made".into(),
            feature_scheme: FEATURE_SCHEME,
            n_features: N_FEATURES,
            alpha: 1.0,
            ham: ClassCounts {
                documents: 3,
                indices: vec![1, 5, 900],
                counts: vec![2.0, 1.0, 4.0],
            },
            spam: ClassCounts {
                documents: 2,
                indices: vec![5, 70_000],
                counts: vec![3.0, 1.0],
            },
            // Two features share bucket 5.
            keys: FeatureKeys::of([(1, 11), (5, 2), (5, 9), (900, 0), (70_000, 32_767)]),
            calibration: Calibration {
                spam_slopes: [0.3, 0.2, 0.3, 0.5, 0.4, 0.1, 0.0, 0.3, 0.6, 0.2],
                ham_slopes: [0.2, 0.2, 0.1, 0.5, 0.3, 0.1, 0.1, 0.2, 0.6, 0.4],
                intercept: -0.5,
            },
            thresholds: Thresholds {
                hold: 0.4,
                reject: 0.97,
                trusted_reject: 0.995,
            },
            budget: Some(Budget::default()),
        }
    }

    #[test]
    fn sums_counts_of_parts() {
        let model = tiny_model();
        let sum = ClassCounts::sum([&model.ham, &model.spam, &ClassCounts::empty()]);
        assert_eq!(sum.documents, 5);
        assert_eq!(sum.indices, [1, 5, 900, 70_000]);
        assert_eq!(sum.counts, [2.0, 4.0, 4.0, 1.0]);
    }

    fn path() -> &'static Path {
        Path::new("models/x.cgm")
    }

    #[test]
    fn round_trips() {
        let model = tiny_model();
        let bytes = model.to_bytes();
        let (back, crc) = TrainedModel::from_bytes(&bytes, path()).unwrap();
        assert_eq!(back, model);
        assert_eq!(crc, crc32fast::hash(&bytes[HEADER_LEN..]));
    }

    #[test]
    fn refuses_every_truncation() {
        let bytes = tiny_model().to_bytes();
        for len in 0..bytes.len() {
            let err = TrainedModel::from_bytes(&bytes[..len], path()).unwrap_err();
            assert!(
                matches!(err, ModelError::Truncated { .. }),
                "cut at {len}: {err}"
            );
            assert!(err.to_string().contains("models/x.cgm"), "{err}");
        }
    }

    #[test]
    fn refuses_every_flipped_byte() {
        let bytes = tiny_model().to_bytes();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x20;
            let err = TrainedModel::from_bytes(&bad, path()).unwrap_err();
            let expected = match i {
                0..8 => matches!(err, ModelError::BadMagic { .. }),
                8..12 => matches!(err, ModelError::UnsupportedVersion { .. }),
                // A larger length reads as truncation, a smaller one as trailing garbage.
                12..20 => matches!(
                    err,
                    ModelError::Truncated { .. } | ModelError::Corrupt { .. }
                ),
                _ => matches!(err, ModelError::ChecksumMismatch { .. }),
            };
            assert!(expected, "byte {i}: {err}");
        }
    }

    #[test]
    fn refuses_trailing_bytes_and_foreign_files() {
        let mut bytes = tiny_model().to_bytes();
        bytes.push(b'\n');
        let err = TrainedModel::from_bytes(&bytes, path()).unwrap_err();
        assert!(err.to_string().contains("1 unexpected byte(s)"), "{err}");
        let err = TrainedModel::from_bytes(b"{\"name\": \"json\"}", path()).unwrap_err();
        assert!(matches!(err, ModelError::BadMagic { .. }), "{err}");
    }

    #[test]
    fn refuses_invalid_content_with_a_valid_checksum() {
        type Mutation = fn(&mut TrainedModel);
        let cases: Vec<(Mutation, &str)> = vec![
            (|m| m.feature_scheme += 1, "feature scheme"),
            (|m| m.n_features = 1024, "1024 features"),
            (|m| m.alpha = 0.0, "alpha"),
            (|m| m.spam.documents = 0, "no training documents"),
            (|m| m.ham.counts.truncate(2), "3 indices but 2 counts"),
            (|m| m.ham.indices = vec![5, 1, 900], "not increasing"),
            (|m| m.spam.indices[1] = N_FEATURES as u32, "not increasing"),
            (|m| m.spam.counts[0] = -1.0, "not a positive number"),
            (|m| _ = m.keys.checks.pop(), "feature keys"),
            (|m| m.keys.buckets.swap(0, 1), "feature keys"),
            (|m| m.keys.checks[0] = 1 << 15, "feature keys"),
            (
                |m| m.keys = FeatureKeys::of([(1, 11), (5, 2), (900, 0)]),
                "feature keys",
            ),
            (
                |m| m.keys = FeatureKeys::union([&m.keys, &FeatureKeys::of([(7, 1)])]),
                "feature keys",
            ),
            (
                |m| m.calibration.spam_slopes[2] = -1.0,
                "calibration slopes",
            ),
            (|m| m.calibration.ham_slopes[7] = -0.5, "calibration slopes"),
            (|m| m.thresholds.hold = 0.99, "not ordered"),
            (|m| m.thresholds.trusted_reject = 1.5, "not ordered"),
        ];
        for (mutate, needle) in cases {
            let mut model = tiny_model();
            mutate(&mut model);
            let err = TrainedModel::from_bytes(&model.to_bytes(), path()).unwrap_err();
            assert!(err.to_string().contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn writes_atomically_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.cgm");
        let crc = tiny_model().write(&file).unwrap();
        let (back, read_crc) = TrainedModel::read(&file).unwrap();
        assert_eq!((back, read_crc), (tiny_model(), crc));
        assert!(!dir.path().join("m.cgm.tmp").exists());
        let err = TrainedModel::read(&dir.path().join("missing.cgm")).unwrap_err();
        assert!(matches!(err, ModelError::Io { .. }));
        assert!(err.to_string().contains("missing.cgm"), "{err}");
    }
}
