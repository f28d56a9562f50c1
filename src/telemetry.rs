//! Logging setup. Every RPC runs in a span named after it, carrying `site_id`, `comment_id`,
//! `verdict` and `latency_us` (see `api`); `RUST_LOG` filters as usual (default `info`).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
