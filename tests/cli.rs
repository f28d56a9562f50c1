//! The `commentguard` binary as a newcomer runs it: `serve` on an OS-picked loopback port,
//! `check` against it, a clean stop on SIGTERM, and refusal to run open off loopback.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_commentguard");

#[test]
fn serve_then_check_then_stop() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--model")
        .arg(common::shipped_model())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = log.next().expect("server logged before exiting").unwrap();
        if let Some(rest) = line
            .split("local=")
            .nth(1)
            .filter(|_| line.contains("serving"))
        {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };

    // `commentguard check --server <addr> --site <site> [--id <id>] <text>`.
    let check = |site: &str, id: Option<&str>, text: &str| {
        let server = format!("http://{addr}");
        let mut args = vec!["check", "--server", &server, "--site", site];
        args.extend(id.iter().flat_map(|id| ["--id", id]));
        args.push(text);
        Command::new(BIN).args(args).output().unwrap()
    };
    let answered = |id: &str, text: &str| {
        let out = check("blog", Some(id), text);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let clean = answered("c1", "Lovely photos, thanks for sharing the recipe too.");
    assert!(clean.starts_with("APPROVE"), "{clean}");
    assert!(clean.contains("classifier.score"), "{clean}");
    let spam = answered(
        "c2",
        "subscribe to my channel!!! free iphone giveaway http://bit.ly/win-now",
    );
    assert!(spam.starts_with("REJECT"), "{spam}");

    // `--permalink` names the page the comment is under: the README's example, a link to a
    // moment of the video, is approved there and held under another page.
    let moment = "The part at https://www.youtube.com/watch?v=9bZkp7q19f0&t=2m19s is the best";
    let server_url = format!("http://{addr}");
    let under = |site: &str, permalink: &str| {
        let out = Command::new(BIN)
            .args(["check", "--server", &server_url, "--site", site])
            .args(["--permalink", permalink, moment])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let own = under("videos", "https://www.youtube.com/watch?v=9bZkp7q19f0");
    assert!(own.starts_with("APPROVE"), "{own}");
    let other = under("blog", "https://blog.example.org/2026/11/kpop/");
    assert!(other.starts_with("HOLD"), "{other}");

    // Invalid input is reported, with the field, and a failing exit status.
    let out = check("", None, "hello");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("comment.site_id"));

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "SIGTERM stops the server cleanly: {exit:?}");
    assert!(log.any(|l| l.unwrap().contains("stopped")));
}

/// Runs `check` with these arguments, killing it and failing the test if it is still
/// running after a minute: a hang guard, not a timing test.
fn check_within_a_minute(args: &[&str]) -> std::process::Output {
    let mut check = Command::new(BIN)
        .arg("check")
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while check.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            check.kill().unwrap();
            panic!("check was still waiting after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    check.wait_with_output().unwrap()
}

/// A loopback listener that accepts connections and never answers, until dropped.
struct SilentServer {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accepted: Option<std::thread::JoinHandle<usize>>,
}

impl SilentServer {
    fn start() -> SilentServer {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let accepted = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((connection, _)) => held.push(connection),
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
            held.len()
        });
        SilentServer {
            addr,
            stop,
            accepted: Some(accepted),
        }
    }

    /// Stops listening; says how many connections were made.
    fn stop(mut self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.accepted.take().unwrap().join().unwrap()
    }
}

/// `check` has no TLS: given `https://` it would speak plaintext and send the token in
/// clear to whatever listens there, so it refuses before connecting at all.
#[test]
fn check_refuses_https_before_connecting() {
    let listener = SilentServer::start();
    let server = format!("https://{}", listener.addr);
    let out = check_within_a_minute(&["--server", &server, "--token", "secret", "hello"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plaintext gRPC only"), "{stderr}");
    assert_eq!(listener.stop(), 0, "check connected");
}

/// A server that takes the connection and never answers gets `--timeout` seconds, not
/// forever.
#[test]
fn check_gives_up_on_a_server_that_never_answers() {
    let listener = SilentServer::start();
    let server = format!("http://{}", listener.addr);
    let out = check_within_a_minute(&["--server", &server, "--timeout", "1", "hello"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sent no decision within 1 s"), "{stderr}");
    assert!(listener.stop() > 0);
}

#[test]
fn refuses_to_run_open_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");
}

/// A report nobody reads is not worth a crash: with its standard output closed, as under
/// `commentguard train … | head -1`, `train` still writes the model and card and succeeds
/// (`println!` panics there, before the files are written).
#[test]
fn train_finishes_when_the_reader_of_its_report_has_gone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/train.jsonl");
    let mut train = Command::new(BIN)
        .args(["train", "--cv", "2", "--data", fixture, "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes at once; the report's later lines meet a closed pipe.
    drop(train.stdout.take());
    let done = train.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(out.with_extension("cgm").is_file());
    assert!(out.with_extension("md").is_file());
}

/// `train --pages` places the comments of each listed source on its page, and the card says
/// how many, how many of them link to it, and that those are all "a link to this page" is
/// learned from.
#[test]
fn train_places_comments_on_their_pages_and_the_card_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = include_str!("fixtures/train.jsonl");
    let data = dir.path().join("data.jsonl");
    let linking = (1..=2).map(|i| {
        format!(
            "{{\"id\": \"own-{i}\", \"text\": \"best part https://www.youtube.com/watch?v=abcdefghijk&t={i}m\", \
             \"label\": \"ham\", \"source\": \"fixture-youtube/Test\"}}\n"
        )
    });
    std::fs::write(&data, fixture.to_string() + &linking.collect::<String>()).unwrap();
    let pages = dir.path().join("pages");
    std::fs::write(
        &pages,
        "fixture-youtube/Test https://www.youtube.com/watch?v=abcdefghijk\n",
    )
    .unwrap();
    let out = dir.path().join("model");
    let done = Command::new(BIN)
        .args(["train", "--cv", "2", "--data"])
        .arg(&data)
        .arg("--pages")
        .arg(&pages)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(stdout.contains("26 placed on their page"), "{stdout}");
    let card = std::fs::read_to_string(out.with_extension("md")).unwrap();
    assert!(
        card.contains("26 placed on their page by `--pages")
            && card.contains("; 2 link to their page (2 ham, 0 spam)"),
        "{card}"
    );
    assert!(
        card.contains("learned from the 2 training comments that link to the page"),
        "{card}"
    );
}

/// Any other failure to write the report fails the command, once its work is done, rather
/// than passing a cut-off report as complete. `/dev/full` refuses every write with ENOSPC.
#[cfg(target_os = "linux")]
#[test]
fn a_report_that_cannot_be_written_fails_the_command() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/train.jsonl");
    let done = Command::new(BIN)
        .args(["eval", "--kfold", "2", "--train", fixture])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(!done.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot write the report to standard output"),
        "{stderr}"
    );
}
