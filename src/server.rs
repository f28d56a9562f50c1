//! Assembles the gRPC server: both APIs behind their token checks, the standard health
//! service and server reflection (so grpcurl and grpc-health-probe work out of the box), and
//! a graceful shutdown that drains requests and closes the store cleanly.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codegen::http;
use tonic::transport::Server;

use crate::api::pb::moderation_service_server::ModerationServiceServer;
use crate::api::pb::review_service_server::ReviewServiceServer;
use crate::api::{ModerationApi, ReviewApi, authorizer, pb};
use crate::auth::Api;
use crate::classifier::Classifier;
use crate::config::Config;
use crate::moderator::Moderator;
use crate::review::ReviewQueue;
use crate::store::Store;
use crate::verdict::Timestamp;

/// Room for everything in a request besides the comment text.
const REQUEST_OVERHEAD_BYTES: usize = 64 * 1024;

/// Opens the store and the model named by `config`, then serves on `listener` until
/// `shutdown` resolves. Returns after in-flight requests finished and the store was flushed
/// and closed, so the data directory can be reopened at once (tests restart this way).
pub async fn run(
    mut config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let classifier = Arc::new(
        Classifier::load(&config.model)
            .with_context(|| format!("loading model {}", config.model.display()))?,
    );
    config
        .adopt_model_thresholds(classifier.thresholds())
        .with_context(|| format!("combining the config with model {}", classifier.version()))?;
    let config = Arc::new(config);
    let store = Arc::new(
        Store::open(&config.data_dir)
            .with_context(|| format!("opening data directory {}", config.data_dir.display()))?,
    );
    let local = listener.local_addr()?;
    if config.tokens.is_empty() {
        tracing::warn!(
            %local,
            "no auth tokens configured: the API is open to anyone who can reach this loopback address"
        );
    }
    tracing::info!(%local, model = classifier.version(), data_dir = %config.data_dir.display(), "serving");

    let (stop_sweeping, sweeping_stopped) = tokio::sync::oneshot::channel();
    let sweeper = tokio::spawn(sweep_history(
        store.clone(),
        config.longest_windows(),
        sweeping_stopped,
    ));
    let moderator = Arc::new(Moderator::new(store.clone(), classifier, config.clone()));
    let queue = Arc::new(ReviewQueue::new(store.clone()));
    let tokens = config.tokens.clone();
    let max_message = config.max_content_bytes + REQUEST_OVERHEAD_BYTES;

    let moderation = ModerationServiceServer::new(ModerationApi::new(moderator))
        .max_decoding_message_size(max_message);
    let review =
        ReviewServiceServer::new(ReviewApi::new(queue)).max_decoding_message_size(max_message);

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<ModerationServiceServer<ModerationApi>>()
        .await;
    health.set_serving::<ReviewServiceServer<ReviewApi>>().await;
    // Both reflection versions: grpcurl and buf speak v1, older tools only v1alpha.
    let reflection = reflection_of_everything().build_v1()?;
    let reflection_alpha = reflection_of_everything().build_v1alpha()?;

    let served = Server::builder()
        .timeout(Duration::from_secs(30))
        .layer(tower::util::MapResponseLayer::new(
            oversize_is_resource_exhausted::<tonic::body::Body>,
        ))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(tonic::service::interceptor::InterceptedService::new(
            moderation,
            authorizer(tokens.clone(), Api::Moderation),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            review,
            authorizer(tokens, Api::Review),
        ))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
        .context("serving gRPC");

    // Wait out a sweep in progress, so nothing holds the store once this returns.
    let _ = stop_sweeping.send(());
    if let Err(e) = sweeper.await {
        tracing::warn!(error = %e, "the history sweeper failed");
    }
    served?;
    store.flush().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Server reflection over our API and the health service.
fn reflection_of_everything() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// How often the duplicate and flood history is swept of entries past every window.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// Sweeps the rules' history now (catching up after downtime) and every [`SWEEP_EVERY`]
/// until `stop` fires. A failed sweep is logged and retried next time: it only delays
/// cleanup.
async fn sweep_history(
    store: Arc<Store>,
    (duplicate_secs, flood_secs): (u64, u64),
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut ticks = tokio::time::interval(SWEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = &mut stop => return,
        }
        let swept = store
            .blocking(move |store| {
                let now = Timestamp::now();
                store.sweep(
                    now.minus_seconds(duplicate_secs),
                    now.minus_seconds(flood_secs),
                )
            })
            .await;
        match swept {
            Ok(removed) => tracing::debug!(removed, "swept duplicate and flood history"),
            Err(e) => tracing::warn!(error = %e, "sweeping duplicate and flood history failed"),
        }
    }
}

/// tonic refuses an over-size request with OUT_OF_RANGE; gRPC's own convention (and our
/// clients') is RESOURCE_EXHAUSTED. No handler of ours returns OUT_OF_RANGE, so every one
/// on the wire is that refusal and is renamed here, in the trailers-only response tonic sends.
fn oversize_is_resource_exhausted<B>(mut response: http::Response<B>) -> http::Response<B> {
    let out_of_range = http::HeaderValue::from_static("11");
    if response.headers().get("grpc-status") == Some(&out_of_range) {
        response
            .headers_mut()
            .insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    response
}
