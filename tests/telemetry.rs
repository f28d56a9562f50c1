//! Every RPC is traced in a span named after it, with the comment's ids, the verdict and the
//! latency. Its own test binary, because it installs the process-wide subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{TestServer, check, comment};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn rpc_spans_carry_ids_verdict_and_latency() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "[policy]\nblocked_terms = [\"casino\"]").await;
    let mut client = server.moderation().await;
    check(&mut client, comment("blog", "traced-1", "casino casino")).await;
    server.stop().await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains("CheckComment{"))
        .unwrap_or_else(|| panic!("no CheckComment span in:\n{log}"));
    for field in [
        "site_id=blog",
        "comment_id=traced-1",
        "verdict=\"reject\"",
        "latency_us=",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
}
