//! commentguard: a self-hosted comment-moderation and spam-filtering service.
//!
//! A blog backend sends each comment over gRPC; commentguard validates it, runs the site's
//! rule filters and a naive-Bayes classifier, stores the decision in sled and answers
//! approve, hold or reject with its reasons. Operators resolve held comments; their
//! resolutions and backends' feedback become training labels.
//!
//! # Layout
//! - [`comment`], [`verdict`]: the domain's nouns and their validation.
//! - [`rules`]: the blog owner's filters, compiled per site into a `Policy`.
//! - [`classifier`]: normalisation, features, the linfa-bayes model, calibration, its file
//!   format and training.
//! - [`evaluation`]: held-out measurement (cross-validation, metrics, charts).
//! - [`moderation`]: the pure decision step (rules + score → verdict + reasons).
//! - [`moderator`], [`review`]: the use cases of backends and operators.
//! - [`store`]: everything in sled; the only module that knows it.
//! - [`api`]: the gRPC boundary; the only module that knows protobuf.
//! - [`server`]: assembles tonic with health, reflection, auth and shutdown.
//! - [`config`], [`auth`], [`telemetry`], [`error`]: cross-cutting pieces.
//! - [`cli_check`], [`cli_train`], [`cli_eval`], [`cli_labels`]: the `check`, `train`, `eval`
//!   and `labels` subcommands.

// Unsafe code only where a module allows it and says why: today one prefetch hint
// (`classifier::prefetch`).
#![deny(unsafe_code)]

pub mod api;
pub mod auth;
pub mod classifier;
pub mod cli_check;
pub mod cli_eval;
pub mod cli_labels;
pub mod cli_train;
pub mod comment;
pub mod config;
pub mod console;
pub mod error;
pub mod evaluation;
pub mod moderation;
pub mod moderator;
pub mod review;
pub mod rules;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod verdict;
