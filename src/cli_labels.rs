//! `commentguard labels`: the training labels a server has stored (backends' feedback and
//! operators' resolutions) written out as the labelled JSONL that `train` and `eval` read.
//! This is how a site measures the model on its own comments and retrains on them: the
//! shipped model learnt from YouTube and SMS, and a blog's spam is its own.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::classifier::train;
use crate::report;
use crate::store::Store;
use crate::verdict::Label;

/// Export the stored training labels as labelled JSONL.
#[derive(Debug, clap::Args)]
pub struct LabelsArgs {
    /// The server's sled folder. Stop the server first: sled lets one process at a time
    /// open it.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Only this site's labels.
    #[arg(long)]
    site: Option<String>,
    /// The JSONL file to write, one `{"id", "text", "label", "author", "author_email",
    /// "author_url", "permalink", "date", "source"}` per line, the site as `source`.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: LabelsArgs) -> anyhow::Result<()> {
    // sled creates a database wherever it is pointed: a mistyped folder would export
    // nothing, successfully, and leave an empty database behind.
    anyhow::ensure!(
        args.data_dir.join("conf").is_file(),
        "{} holds no commentguard database (no sled `conf` file); pass the server's --data-dir",
        args.data_dir.display()
    );
    let store = Store::open(&args.data_dir).with_context(|| {
        format!(
            "cannot open the database in {}; if a server is running on it, stop it first \
             (sled lets one process at a time open it)",
            args.data_dir.display()
        )
    })?;
    // Written beside the target and renamed into place once complete, so a failed export
    // never leaves a truncated file that `train` would take for all of a site's labels.
    let mut partial = args.out.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let written = write_labels(&store, args.site.as_deref(), &partial).and_then(|counts| {
        fs::rename(&partial, &args.out).with_context(|| {
            format!(
                "cannot move {} to {}",
                partial.display(),
                args.out.display()
            )
        })?;
        Ok(counts)
    });
    let (spam, ham) = written.inspect_err(|_| {
        let _ = fs::remove_file(&partial);
    })?;
    let from = match &args.site {
        Some(site) => format!("site {site:?}"),
        None => "all sites".to_string(),
    };
    report!(
        "wrote {} labels ({spam} spam, {ham} ham) from {from} to {}",
        spam + ham,
        args.out.display()
    );
    Ok(())
}

/// Writes the labels of `site` (every site's when `None`) to `path` and syncs it to disk;
/// returns how many were spam and how many ham.
fn write_labels(store: &Store, site: Option<&str>, path: &Path) -> anyhow::Result<(usize, usize)> {
    let cannot_write = || format!("cannot write {}", path.display());
    let mut out = BufWriter::new(File::create(path).with_context(cannot_write)?);
    let (mut spam, mut ham) = (0, 0);
    for labeled in store.labels(site) {
        let labeled = labeled.context("cannot read a stored label")?;
        let is_spam = labeled.label == Label::Spam;
        writeln!(out, "{}", train::dataset_line(&labeled.comment, is_spam))
            .with_context(cannot_write)?;
        if is_spam {
            spam += 1;
        } else {
            ham += 1;
        }
    }
    out.flush()
        .and_then(|()| out.get_ref().sync_all())
        .with_context(cannot_write)?;
    Ok((spam, ham))
}
