//! The `commentguard` binary: argument parsing and start-up only. Everything it runs lives in
//! the library; errors become a message and a non-zero exit here and nowhere else.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use commentguard::config::RawConfig;
use commentguard::{cli_check, cli_eval, cli_labels, cli_train, console, server, telemetry};

/// mimalloc rather than the system allocator: classifying a comment makes a dozen small,
/// short-lived allocations (feature buffers, the explanation's strings), and with
/// mimalloc's thread-local free lists it measured about 4% faster, side by side over the
/// shipped corpora. `cargo bench --bench classify` uses the same allocator, so that it
/// measures what the server runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Self-hosted comment moderation and spam filtering over gRPC"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC server.
    Serve(ServeArgs),
    /// Send one comment to a running server and print the decision.
    Check(cli_check::CheckArgs),
    /// Train a model file from labelled JSONL.
    Train(cli_train::TrainArgs),
    /// Measure the classifier on held-out labelled JSONL (test set or cross-validation).
    Eval(cli_eval::EvalArgs),
    /// Export the stored training labels (feedback and resolutions) as labelled JSONL, to
    /// evaluate and retrain on a site's own comments.
    Labels(cli_labels::LabelsArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:50051, or the config file's server.listen].
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Folder for the sled database [default: ./data, or server.data_dir].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Model file [default: models/default.cgm, or server.model].
    #[arg(long)]
    model: Option<PathBuf>,
    /// TOML config file (see commentguard.example.toml).
    #[arg(long)]
    config: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            telemetry::init();
            tokio::runtime::Runtime::new()?.block_on(serve(args))?;
        }
        Command::Check(args) => tokio::runtime::Runtime::new()?.block_on(cli_check::run(args))?,
        Command::Train(args) => cli_train::run(args)?,
        Command::Eval(args) => cli_eval::run(args)?,
        Command::Labels(args) => cli_labels::run(args)?,
    }
    // The report printed along the way (`serve` prints none).
    console::finish()
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut raw = match &args.config {
        Some(path) => RawConfig::load(path)?,
        None => RawConfig::default(),
    };
    // Flags beat the file, so one file can serve several local instances.
    raw.server.listen = args.listen.or(raw.server.listen);
    raw.server.data_dir = args.data_dir.or(raw.server.data_dir);
    raw.server.model = args.model.or(raw.server.model);
    let config = raw.validate()?;
    config.check_exposure()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    server::run(config, listener, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM (what service managers send), so both drain gracefully.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
