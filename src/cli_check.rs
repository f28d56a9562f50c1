//! `commentguard check`: send one comment to a running server and print its decision. For
//! trying a policy out by hand and for smoke-testing a deployment.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, bail};
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::{Endpoint, Uri};

use crate::api::pb::moderation_service_client::ModerationServiceClient;
use crate::api::pb::{CheckCommentRequest, Comment, Verdict};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The server to ask, as an http:// address: the client speaks plaintext gRPC only.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Seconds to wait for the connection, and then for the decision.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// A bearer token with the backend or moderator role, if the server requires one.
    #[arg(long, env = "COMMENTGUARD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[arg(long, default_value = "cli")]
    site: String,
    /// The comment id; a fresh one per call when omitted, so each call is scored anew.
    #[arg(long)]
    id: Option<String>,
    #[arg(long, default_value = "")]
    author_name: String,
    #[arg(long, default_value = "")]
    author_email: String,
    #[arg(long, default_value = "")]
    author_url: String,
    #[arg(long, default_value = "")]
    author_ip: String,
    /// The address of the page the comment is posted on: a link to it is read as a
    /// reference to the page, not as promotion.
    #[arg(long, default_value = "")]
    permalink: String,
    /// The comment text; read from standard input when omitted or "-".
    content: Option<String>,
}

pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let endpoint = endpoint(&args.server, Duration::from_secs(args.timeout))?;
    let content = match args.content.as_deref() {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the comment from standard input")?;
            text
        }
        Some(text) => text.to_string(),
    };
    let comment_id = args.id.unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        format!("cli-{}", now.as_nanos())
    });
    let mut request = tonic::Request::new(CheckCommentRequest {
        comment: Some(Comment {
            site_id: args.site,
            comment_id,
            content,
            author_name: args.author_name,
            author_email: args.author_email,
            author_url: args.author_url,
            author_ip: args.author_ip,
            permalink: args.permalink,
            ..Default::default()
        }),
    });
    if let Some(token) = args.token {
        let value: MetadataValue<_> = format!("Bearer {token}")
            .parse()
            .context("the token is not valid in a gRPC header")?;
        request.metadata_mut().insert("authorization", value);
    }
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("connecting to {}", args.server))?;
    let decision = ModerationServiceClient::new(channel)
        .check_comment(request)
        .await
        .map_err(|s| match s.code() {
            // tonic reports its own timeout as Cancelled, "Timeout expired"; a Cancelled of
            // another cause is reported as it is.
            Code::Cancelled | Code::DeadlineExceeded if s.message().contains("Timeout expired") => {
                anyhow::anyhow!(
                    "{} sent no decision within {} s (--timeout)",
                    args.server,
                    args.timeout
                )
            }
            code => anyhow::anyhow!("{code:?}: {}", s.message()),
        })?
        .into_inner()
        .decision
        .context("the server sent no decision")?;
    crate::report!(
        "{}  spam probability {:.3}  (model {}, comment {}/{})",
        verdict_name(decision.verdict),
        decision.spam_probability,
        decision.model_version,
        decision.site_id,
        decision.comment_id
    );
    for reason in decision.reasons {
        crate::report!(
            "  [{}] {}: {}",
            verdict_name(reason.effect).to_lowercase(),
            reason.code,
            reason.message
        );
    }
    Ok(())
}

/// The channel's endpoint for `server`, refused unless it is a plain `http://` address: this
/// client has no TLS, and given `https://` it would speak plaintext anyway, sending the
/// bearer token in clear to whatever expected TLS there.
fn endpoint(server: &str, timeout: Duration) -> anyhow::Result<Endpoint> {
    let uri: Uri = server.parse().with_context(|| {
        format!("--server {server:?} is not an address such as http://127.0.0.1:50051")
    })?;
    match uri.scheme_str() {
        Some("http") if uri.host().is_some() => {}
        Some("https") => bail!(
            "--server {server}: this client speaks plaintext gRPC only and would send the token \
             unencrypted; reach the server itself at its http:// address, or use a TLS-capable \
             gRPC client (grpcurl) for a TLS proxy"
        ),
        _ => bail!("--server {server:?} is not an address such as http://127.0.0.1:50051"),
    }
    Ok(Endpoint::from(uri)
        .connect_timeout(timeout)
        .timeout(timeout))
}

fn verdict_name(value: i32) -> &'static str {
    match Verdict::try_from(value) {
        Ok(Verdict::Approve) => "APPROVE",
        Ok(Verdict::Hold) => "HOLD",
        Ok(Verdict::Reject) => "REJECT",
        _ => "INFO",
    }
}
