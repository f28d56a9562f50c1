//! `commentguard labels`: the training labels a server has stored (backends' feedback and
//! operators' resolutions) written out as the labelled JSONL that `train` and `eval` read.
//! This is how a site measures the model on its own comments and retrains on them: the
//! shipped model learnt from YouTube and SMS, and a blog's spam is its own.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};

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
    /// The JSONL file to write, outside the data folder: one `{"id", "text", "label",
    /// "author", "author_email", "author_url", "permalink", "date", "source"}` per line, the
    /// site as `source` and the platform's comment id as `id`.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: LabelsArgs) -> anyhow::Result<()> {
    // sled creates a database wherever it is pointed: a mistyped folder would export
    // nothing, successfully, and leave an empty database behind.
    ensure!(
        args.data_dir.join("conf").is_file(),
        "{} holds no commentguard database (no sled `conf` file); pass the server's --data-dir",
        args.data_dir.display()
    );
    refuse_inside(&args.out, &args.data_dir)?;
    let store = Store::open(&args.data_dir)
        .with_context(|| format!("cannot open the database in {}", args.data_dir.display()))?;

    // Written beside the target and renamed into place once complete, so a failed export
    // never leaves a truncated file that `train` would take for all of a site's labels.
    let mut partial = args.out.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let written = write_labels(&store, args.site.as_deref(), &partial)
        .with_context(|| format!("cannot write {}", args.out.display()))
        .and_then(|(spam, ham)| {
            if spam + ham == 0 {
                match &args.site {
                    Some(site) => bail!("no labels are stored for site {site:?}"),
                    None => bail!("no labels are stored yet"),
                }
            }
            fs::rename(&partial, &args.out)
                .with_context(|| format!("cannot write {}", args.out.display()))?;
            Ok((spam, ham))
        });
    let (spam, ham) = written.inspect_err(|_| {
        let _ = fs::remove_file(&partial);
    })?;
    let from = match &args.site {
        Some(site) => format!("site {site:?}"),
        None => "all sites".to_string(),
    };
    let total = spam + ham;
    let labels = if total == 1 { "label" } else { "labels" };
    report!(
        "wrote {total} {labels} ({spam} spam, {ham} ham) from {from} to {}",
        args.out.display()
    );
    Ok(())
}

/// Refuses an output file inside the data folder, where replacing one of sled's files with
/// the export would destroy the database.
fn refuse_inside(out: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let folder = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let folder = folder.canonicalize().with_context(|| {
        format!(
            "cannot write {}: no folder {}",
            out.display(),
            folder.display()
        )
    })?;
    let data_dir = data_dir
        .canonicalize()
        .with_context(|| format!("cannot read {}", data_dir.display()))?;
    ensure!(
        !folder.starts_with(&data_dir),
        "{} is inside the data folder {}; write the export somewhere else",
        out.display(),
        data_dir.display()
    );
    Ok(())
}

/// Writes the labels of `site` (every site's when `None`) to `path` and syncs it to disk;
/// returns how many were spam and how many ham.
fn write_labels(store: &Store, site: Option<&str>, path: &Path) -> anyhow::Result<(usize, usize)> {
    let mut out = BufWriter::new(File::create(path)?);
    let (mut spam, mut ham) = (0, 0);
    for labeled in store.labels(site) {
        let labeled = labeled.context("cannot read a stored label")?;
        let is_spam = labeled.label == Label::Spam;
        writeln!(out, "{}", train::dataset_line(&labeled.comment, is_spam))?;
        if is_spam {
            spam += 1;
        } else {
            ham += 1;
        }
    }
    out.flush()?;
    out.get_ref().sync_all()?;
    Ok((spam, ham))
}
