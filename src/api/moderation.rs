//! ModerationService handlers: translate, call [`Moderator`], translate back.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::field::Empty;

use super::convert::{comment_from_pb, label_from_pb, required};
use super::pb::moderation_service_server::ModerationService;
use super::pb::{
    CheckCommentRequest, CheckCommentResponse, GetDecisionRequest, GetDecisionResponse,
    SubmitFeedbackRequest, SubmitFeedbackResponse,
};
use super::{loggable, traced};
use crate::moderator::Moderator;

pub struct ModerationApi {
    moderator: Arc<Moderator>,
}

impl ModerationApi {
    pub fn new(moderator: Arc<Moderator>) -> Self {
        ModerationApi { moderator }
    }
}

#[tonic::async_trait]
impl ModerationService for ModerationApi {
    async fn check_comment(
        &self,
        request: Request<CheckCommentRequest>,
    ) -> Result<Response<CheckCommentResponse>, Status> {
        let CheckCommentRequest { comment } = request.into_inner();
        let (site_id, comment_id) = comment
            .as_ref()
            .map(|c| (c.site_id.clone(), c.comment_id.clone()))
            .unwrap_or_default();
        let span = tracing::info_span!("CheckComment", site_id = %loggable(&site_id), comment_id = %loggable(&comment_id), verdict = Empty, latency_us = Empty);
        let work = async {
            let comment = comment_from_pb(required(comment, "comment")?)?;
            self.moderator.check(comment).await
        };
        let decision = traced(span, work, |d| Some(d.verdict)).await?;
        Ok(Response::new(CheckCommentResponse {
            decision: Some(decision.into()),
        }))
    }

    async fn get_decision(
        &self,
        request: Request<GetDecisionRequest>,
    ) -> Result<Response<GetDecisionResponse>, Status> {
        let GetDecisionRequest {
            site_id,
            comment_id,
        } = request.into_inner();
        let span = tracing::info_span!("GetDecision", site_id = %loggable(&site_id), comment_id = %loggable(&comment_id), verdict = Empty, latency_us = Empty);
        let work = self.moderator.decision(&site_id, &comment_id);
        let decision = traced(span, work, |d| Some(d.verdict)).await?;
        Ok(Response::new(GetDecisionResponse {
            decision: Some(decision.into()),
        }))
    }

    async fn submit_feedback(
        &self,
        request: Request<SubmitFeedbackRequest>,
    ) -> Result<Response<SubmitFeedbackResponse>, Status> {
        let SubmitFeedbackRequest {
            site_id,
            comment_id,
            label,
            comment,
        } = request.into_inner();
        let span = tracing::info_span!("SubmitFeedback", site_id = %loggable(&site_id), comment_id = %loggable(&comment_id), label, verdict = Empty, latency_us = Empty);
        let work = async {
            let label = label_from_pb(label, "label")?;
            let comment = comment.map(comment_from_pb).transpose()?;
            self.moderator
                .feedback(&site_id, &comment_id, label, comment)
                .await
        };
        let replaced = traced(span, work, |_| None).await?;
        Ok(Response::new(SubmitFeedbackResponse {
            replaced_previous_label: replaced,
        }))
    }
}
