//! Starts a real commentguard server for a test: 127.0.0.1, a port the OS picks, a temporary
//! sled folder, the shipped model, and a shutdown the test controls.

#![allow(dead_code)] // each test binary uses a different part of this helper

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use commentguard::api::pb::moderation_service_client::ModerationServiceClient;
use commentguard::api::pb::review_service_client::ReviewServiceClient;
use commentguard::api::pb::{CheckCommentRequest, Comment, Decision, ResolveHeldRequest, Verdict};
use commentguard::config::RawConfig;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub fn shipped_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default.cgm")
}

impl TestServer {
    /// Starts a server on `data_dir` with `config_toml` (the shipped model unless it names one).
    pub async fn start(data_dir: &Path, config_toml: &str) -> TestServer {
        let mut raw = RawConfig::parse(config_toml).expect("test config parses");
        raw.server.data_dir = Some(data_dir.to_path_buf());
        raw.server.model = raw.server.model.or_else(|| Some(shipped_model()));
        let config = raw.validate().expect("test config is valid");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(commentguard::server::run(config, listener, async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .expect("connects to the test server")
    }

    pub async fn moderation(&self) -> ModerationServiceClient<Channel> {
        ModerationServiceClient::new(self.channel().await)
    }

    pub async fn review(&self) -> ReviewServiceClient<Channel> {
        ReviewServiceClient::new(self.channel().await)
    }

    /// Stops the server and waits until it has closed the store.
    pub async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).ok();
        self.task
            .take()
            .unwrap()
            .await
            .expect("server task did not panic")
            .expect("server stopped cleanly");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }
}

/// A comment with a per-id author e-mail and no IP, so unrelated comments in one test never
/// trip the flood rule by accident.
pub fn comment(site: &str, id: &str, content: &str) -> Comment {
    Comment {
        site_id: site.into(),
        comment_id: id.into(),
        content: content.into(),
        author_name: "Ann Reader".into(),
        author_email: format!("{id}@example.org"),
        ..Default::default()
    }
}

pub async fn check(client: &mut ModerationServiceClient<Channel>, comment: Comment) -> Decision {
    client
        .check_comment(CheckCommentRequest {
            comment: Some(comment),
        })
        .await
        .expect("CheckComment succeeds")
        .into_inner()
        .decision
        .expect("a decision")
}

pub async fn resolve(
    review: &mut ReviewServiceClient<Channel>,
    site: &str,
    id: &str,
    verdict: Verdict,
) -> Result<Decision, tonic::Status> {
    let response = review
        .resolve_held(ResolveHeldRequest {
            site_id: site.into(),
            comment_id: id.into(),
            verdict: verdict as i32,
        })
        .await?;
    Ok(response.into_inner().decision.expect("a decision"))
}

pub fn codes(decision: &Decision) -> Vec<&str> {
    decision.reasons.iter().map(|r| r.code.as_str()).collect()
}

/// Adds `authorization: Bearer <token>` to a request.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}
