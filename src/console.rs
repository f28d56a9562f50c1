//! The subcommands' reports on standard output. `println!` panics when the reader has gone
//! (`commentguard check … | head -1`, a closed terminal). A report nobody reads is not worth
//! a crash, and the rest of a subcommand's work still is: `train` writes its model and card,
//! `eval` its JSON and charts, after printing. So a gone reader silences the rest of the
//! report and the work goes on; any other failure to write (a full disk under `> file`) is
//! kept and fails the command once its work is done ([`finish`]), instead of passing as a
//! complete report.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;

/// What has gone wrong with standard output so far.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stdout {
    Open,
    ReaderGone,
    Failed(io::ErrorKind),
}

static STDOUT: Mutex<Stdout> = Mutex::new(Stdout::Open);

/// Prints one line of a report; see the module docs for what happens when that fails.
pub fn line(args: fmt::Arguments) {
    let mut state = STDOUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if *state != Stdout::Open {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(err) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        *state = match err.kind() {
            io::ErrorKind::BrokenPipe => Stdout::ReaderGone,
            kind => Stdout::Failed(kind),
        };
    }
}

/// The report's outcome, once the subcommand is done: an error if it could not be written
/// (other than to a reader that had gone).
pub fn finish() -> anyhow::Result<()> {
    let state = *STDOUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match state {
        Stdout::Failed(kind) => {
            anyhow::bail!("cannot write the report to standard output: {kind}")
        }
        Stdout::Open | Stdout::ReaderGone => Ok(()),
    }
}

/// `println!` for reports: [`line()`] with formatting.
#[macro_export]
macro_rules! report {
    ($($arg:tt)*) => {
        $crate::console::line(format_args!($($arg)*))
    };
}
