//! Who may call what, and the standard services stock gRPC tools rely on.

mod common;

use commentguard::api::pb::{CheckCommentRequest, ListHeldRequest, Verdict};
use common::{TestServer, comment, with_token};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

const BACKEND: &str = "backend-token-aaaaaaaaaaaa";
const OPERATOR: &str = "operator-token-bbbbbbbbbbbb";
const MODERATOR: &str = "moderator-token-cccccccccccc";

fn tokens_config() -> String {
    format!(
        r#"
[[auth.tokens]]
name = "blog"
token = "{BACKEND}"
role = "backend"
[[auth.tokens]]
name = "ops"
token = "{OPERATOR}"
role = "operator"
[[auth.tokens]]
name = "mods"
token = "{MODERATOR}"
role = "moderator"
"#
    )
}

#[tokio::test]
async fn tokens_grant_their_roles_and_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &tokens_config()).await;
    let mut moderation = server.moderation().await;
    let mut review = server.review().await;
    let check = |token: Option<&str>, id: &str| {
        let message = CheckCommentRequest {
            comment: Some(comment(
                "blog",
                id,
                "Good point. The official docs say the same thing.",
            )),
        };
        match token {
            Some(t) => with_token(message, t),
            None => tonic::Request::new(message),
        }
    };

    let err = moderation
        .check_comment(check(None, "a"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("authorization"), "{}", err.message());
    let err = moderation
        .check_comment(check(Some("wrong-token-ffffffffffff"), "a"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = moderation
        .check_comment(check(Some(OPERATOR), "a"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert!(err.message().contains("ops"), "{}", err.message());

    let decision = moderation
        .check_comment(check(Some(BACKEND), "a"))
        .await
        .unwrap();
    assert_eq!(
        decision.into_inner().decision.unwrap().verdict(),
        Verdict::Approve
    );
    moderation
        .check_comment(check(Some(MODERATOR), "b"))
        .await
        .unwrap();

    let list = || ListHeldRequest::default();
    let err = review
        .list_held(tonic::Request::new(list()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = review
        .list_held(with_token(list(), BACKEND))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    review
        .list_held(with_token(list(), OPERATOR))
        .await
        .unwrap();
    review
        .list_held(with_token(list(), MODERATOR))
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn health_and_reflection_answer_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), &tokens_config()).await;
    let channel = server.channel().await;

    let mut health = HealthClient::new(channel.clone());
    for service in [
        "",
        "commentguard.v1.ModerationService",
        "commentguard.v1.ReviewService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, 1, "{service:?} is SERVING");
    }

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer {response:?}");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in [
        "commentguard.v1.ModerationService",
        "commentguard.v1.ReviewService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    drop(responses);
    server.stop().await;
}
