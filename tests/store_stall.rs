//! A store call that has to wait must not stall the server's other requests. sled's calls
//! block their thread, so the service makes them on tokio's blocking pool; made on an async
//! worker, one waiting call would freeze every request that worker serves.
//!
//! sled 0.34 guards every database in a process with one reader-writer lock
//! (`concurrency_control.rs`): a transaction holds it exclusively while its closure runs, and
//! every read, write and sled's background flusher share it. A transaction that waits, on
//! the flusher's fsync in the service or on this test in [`hold_sled`], so makes every store
//! call wait. The test
//! runs on tokio's single-threaded runtime, where the server, its clients and the test share
//! one worker: while sled is held, each RPC that touches the store must stay pending and a
//! health check (which does not) must still be answered.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use commentguard::api::pb::{
    CheckCommentRequest, GetDecisionRequest, Label, ListHeldRequest, ResolveHeldRequest,
    SubmitFeedbackRequest, Verdict,
};
use common::{TestServer, comment};
use sled::transaction::ConflictableTransactionResult;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long [`hold_sled`] holds at most. Where a store call stalls the worker nothing can
/// release the hold, so it gives up by itself and the test fails instead of hanging.
const HOLD_AT_MOST: Duration = Duration::from_secs(10);

/// Time for a request to reach its handler and the store.
const REACH_THE_STORE: Duration = Duration::from_millis(200);

/// sled's lock, held by a transaction (on a temporary database of its own: sled lets one
/// opener have the server's) until [`HeldSled::release`].
struct HeldSled {
    release: mpsc::Sender<()>,
    holder: std::thread::JoinHandle<()>,
}

impl HeldSled {
    fn release(self) {
        self.release.send(()).ok();
        self.holder.join().expect("the holding transaction ended");
    }
}

/// Starts a transaction on a thread of its own and returns once its closure runs, that is
/// while it holds sled's lock.
fn hold_sled() -> HeldSled {
    let (holding, held) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let db = sled::Config::new().temporary(true).open().unwrap();
        db.transaction(|_| -> ConflictableTransactionResult<(), ()> {
            holding.send(()).ok();
            let _ = released.recv_timeout(HOLD_AT_MOST);
            Ok(())
        })
        .unwrap();
    });
    held.recv().expect("the transaction started");
    HeldSled { release, holder }
}

/// Runs `rpc` while sled is held, checks that it waits without stopping a health check from
/// being answered meanwhile, then lets it finish and returns its answer.
async fn answered_around_a_stalled_store<T: Send + 'static>(
    server: &TestServer,
    name: &str,
    rpc: impl Future<Output = Result<T, tonic::Status>> + Send + 'static,
) -> T {
    let mut health = HealthClient::new(server.channel().await);
    let held = hold_sled();
    let started = Instant::now();
    let call = tokio::spawn(rpc);
    tokio::time::sleep(REACH_THE_STORE).await;
    let status = health
        .check(HealthCheckRequest::default())
        .await
        .expect("the health check is answered")
        .into_inner()
        .status();
    let waited = started.elapsed();
    let finished = call.is_finished();
    held.release();
    assert_eq!(status, ServingStatus::Serving);
    assert!(
        waited < HOLD_AT_MOST,
        "{name}: the health check was answered after {waited:?}, only once sled was let go: \
         the waiting store call stalled the worker"
    );
    assert!(
        !finished,
        "{name} finished while sled was held: the hold no longer makes store calls wait, so \
         this test shows nothing"
    );
    call.await
        .expect("the RPC task did not panic")
        .unwrap_or_else(|status| panic!("{name} failed: {status:?}"))
}

#[tokio::test(flavor = "current_thread")]
async fn a_waiting_store_call_stalls_no_other_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(
        dir.path(),
        "[policy]\nmoderation_terms = [\"please review\"]\n",
    )
    .await;
    let moderation = server.moderation().await;
    let review = server.review().await;

    let mut client = moderation.clone();
    let held = answered_around_a_stalled_store(&server, "CheckComment", async move {
        let request = CheckCommentRequest {
            comment: Some(comment("blog", "c1", "please review my first comment here")),
        };
        Ok(client.check_comment(request).await?.into_inner().decision)
    })
    .await
    .expect("a decision");
    assert_eq!(held.verdict(), Verdict::Hold, "{held:?}");

    let mut client = moderation.clone();
    let looked_up = answered_around_a_stalled_store(&server, "GetDecision", async move {
        let request = GetDecisionRequest {
            site_id: "blog".into(),
            comment_id: "c1".into(),
        };
        Ok(client.get_decision(request).await?.into_inner().decision)
    })
    .await;
    assert_eq!(looked_up.as_ref(), Some(&held));

    let mut client = review.clone();
    let page = answered_around_a_stalled_store(&server, "ListHeld", async move {
        Ok(client
            .list_held(ListHeldRequest::default())
            .await?
            .into_inner())
    })
    .await;
    assert_eq!(page.held.len(), 1, "{page:?}");

    let mut client = moderation.clone();
    let feedback = answered_around_a_stalled_store(&server, "SubmitFeedback", async move {
        let request = SubmitFeedbackRequest {
            site_id: "blog".into(),
            comment_id: "c1".into(),
            label: Label::Ham as i32,
            comment: None,
        };
        Ok(client.submit_feedback(request).await?.into_inner())
    })
    .await;
    assert!(!feedback.replaced_previous_label);

    // Feedback that brings its comment stores the label without looking the comment up.
    let mut client = moderation.clone();
    let feedback =
        answered_around_a_stalled_store(&server, "SubmitFeedback (with comment)", async move {
            let request = SubmitFeedbackRequest {
                site_id: "blog".into(),
                comment_id: "c2".into(),
                label: Label::Spam as i32,
                comment: Some(comment("blog", "c2", "never checked, reported as spam")),
            };
            Ok(client.submit_feedback(request).await?.into_inner())
        })
        .await;
    assert!(!feedback.replaced_previous_label);

    let mut client = review.clone();
    let resolved = answered_around_a_stalled_store(&server, "ResolveHeld", async move {
        let request = ResolveHeldRequest {
            site_id: "blog".into(),
            comment_id: "c1".into(),
            verdict: Verdict::Approve as i32,
        };
        Ok(client.resolve_held(request).await?.into_inner().decision)
    })
    .await
    .expect("a decision");
    let resolution = resolved.resolution.expect("resolved");
    assert_eq!(resolution.verdict(), Verdict::Approve);

    server.stop().await;
}
