//! The moderation use cases blog backends drive: check a comment, look a decision up, report
//! feedback. Orchestrates validation, the store's history, the classifier and the pure
//! decision step; knows nothing of gRPC. Store calls go through [`Store::blocking`], off the
//! async workers; scoring (microseconds of arithmetic) stays on them.

use std::sync::Arc;

use crate::classifier::Classifier;
use crate::comment::{Comment, validate_id};
use crate::config::Config;
use crate::error::Error;
use crate::moderation;
use crate::store::{LabelOrigin, LabeledComment, Record, Store};
use crate::verdict::{Decision, Label, Timestamp};

pub struct Moderator {
    store: Arc<Store>,
    classifier: Arc<Classifier>,
    config: Arc<Config>,
}

impl Moderator {
    pub fn new(store: Arc<Store>, classifier: Arc<Classifier>, config: Arc<Config>) -> Self {
        Moderator {
            store,
            classifier,
            config,
        }
    }

    /// Decides a comment, or returns the stored decision when the same comment with the same
    /// content was decided before (so retries are safe and change nothing). The decision is
    /// durable when this returns.
    pub async fn check(&self, comment: Comment) -> Result<Decision, Error> {
        comment.validate(self.config.max_content_bytes)?;
        if let Some(existing) = self.stored(&comment.site_id, &comment.comment_id).await?
            && existing.comment.content == comment.content
        {
            // The first attempt may have stored this and failed to flush, or still be
            // flushing: the answer must not get ahead of the disk.
            self.store.flush().await?;
            return Ok(existing.decision);
        }
        let now = Timestamp::now();
        let signals = {
            let (comment, config) = (comment.clone(), Arc::clone(&self.config));
            self.store
                .blocking(move |store| {
                    store.observe(&comment, config.policy(&comment.site_id), now)
                })
                .await?
        };
        let policy = self.config.policy(&comment.site_id);
        let score = self.classifier.score(&comment);
        let assessment = moderation::decide(policy, &comment, &signals, &score);
        let decision = Decision {
            site_id: comment.site_id.clone(),
            comment_id: comment.comment_id.clone(),
            verdict: assessment.verdict,
            spam_probability: score.spam_probability,
            reasons: assessment.reasons,
            model_version: self.classifier.version().to_string(),
            decided_at: now,
            resolution: None,
        };
        let record = self
            .store
            .blocking(move |store| store.put_decision(comment, decision))
            .await?;
        self.store.flush().await?;
        Ok(record.decision)
    }

    pub async fn decision(&self, site_id: &str, comment_id: &str) -> Result<Decision, Error> {
        validate_id("site_id", site_id)?;
        validate_id("comment_id", comment_id)?;
        self.stored(site_id, comment_id)
            .await?
            .map(|record| record.decision)
            .ok_or_else(|| not_checked(site_id, comment_id))
    }

    /// Records a backend's report that a comment is spam or ham. The comment text comes from
    /// the request when given (it may be newer), else from the stored decision. Returns
    /// whether a different earlier label was replaced.
    pub async fn feedback(
        &self,
        site_id: &str,
        comment_id: &str,
        label: Label,
        comment: Option<Comment>,
    ) -> Result<bool, Error> {
        validate_id("site_id", site_id)?;
        validate_id("comment_id", comment_id)?;
        let comment = match comment {
            Some(c) => {
                if c.site_id != site_id || c.comment_id != comment_id {
                    return Err(Error::invalid(
                        "comment",
                        "ids must match the request's site_id and comment_id",
                    ));
                }
                c.validate(self.config.max_content_bytes)?;
                c
            }
            None => match self.stored(site_id, comment_id).await? {
                Some(record) => record.comment,
                None => {
                    return Err(Error::NotFound(format!(
                        "{}; include the comment in the request to label it",
                        not_checked(site_id, comment_id)
                    )));
                }
            },
        };
        let labeled = LabeledComment {
            comment,
            label,
            origin: LabelOrigin::Feedback,
            labeled_at: Timestamp::now(),
        };
        let previous = self
            .store
            .blocking(move |store| store.put_label(&labeled))
            .await?;
        self.store.flush().await?;
        Ok(previous.is_some_and(|p| p != label))
    }

    /// The stored record of a comment, if it was checked.
    async fn stored(&self, site_id: &str, comment_id: &str) -> Result<Option<Record>, Error> {
        let (site_id, comment_id) = (site_id.to_string(), comment_id.to_string());
        self.store
            .blocking(move |store| store.get(&site_id, &comment_id))
            .await
    }
}

fn not_checked(site_id: &str, comment_id: &str) -> Error {
    Error::NotFound(format!(
        "comment {comment_id:?} of site {site_id:?} was never checked"
    ))
}
