//! ReviewService handlers: translate, call [`ReviewQueue`], translate back.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use tracing::field::Empty;

use super::convert::verdict_from_pb;
use super::pb::review_service_server::ReviewService;
use super::pb::{
    HeldComment, ListHeldRequest, ListHeldResponse, ResolveHeldRequest, ResolveHeldResponse,
};
use super::{loggable, traced};
use crate::review::ReviewQueue;

pub struct ReviewApi {
    queue: Arc<ReviewQueue>,
}

impl ReviewApi {
    pub fn new(queue: Arc<ReviewQueue>) -> Self {
        ReviewApi { queue }
    }
}

#[tonic::async_trait]
impl ReviewService for ReviewApi {
    async fn list_held(
        &self,
        request: Request<ListHeldRequest>,
    ) -> Result<Response<ListHeldResponse>, Status> {
        let ListHeldRequest {
            site_id,
            page_size,
            page_token,
        } = request.into_inner();
        let span = tracing::info_span!("ListHeld", site_id = %loggable(&site_id), page_size, verdict = Empty, latency_us = Empty);
        let work = self.queue.list(&site_id, page_size, &page_token);
        let page = traced(span, work, |_| None).await?;
        Ok(Response::new(ListHeldResponse {
            held: page
                .held
                .into_iter()
                .map(|record| HeldComment {
                    comment: Some(record.comment.into()),
                    decision: Some(record.decision.into()),
                })
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn resolve_held(
        &self,
        request: Request<ResolveHeldRequest>,
    ) -> Result<Response<ResolveHeldResponse>, Status> {
        let ResolveHeldRequest {
            site_id,
            comment_id,
            verdict,
        } = request.into_inner();
        let span = tracing::info_span!("ResolveHeld", site_id = %loggable(&site_id), comment_id = %loggable(&comment_id), verdict = Empty, latency_us = Empty);
        let work = async {
            let verdict = verdict_from_pb(verdict, "verdict")?;
            self.queue.resolve(&site_id, &comment_id, verdict).await
        };
        let decision = traced(span, work, |d| d.resolution.map(|r| r.verdict)).await?;
        Ok(Response::new(ResolveHeldResponse {
            decision: Some(decision.into()),
        }))
    }
}
