//! Durable state in sled. The only module that knows sled, its trees and its key layout;
//! records are the domain's own types, serialised as JSON (readable with any sled dump, and
//! free to grow new optional fields).
//!
//! Trees and keys (`site` and `comment` are ids, which never contain control characters, so
//! `\0` separates them unambiguously):
//! - `decisions`: `site \0 comment` → [`Record`] (the comment, its decision, its queue slot);
//! - `held`: `seq` (u64 big-endian) → `site \0 comment`, the review queue over all sites;
//! - `held_by_site`: `site \0 seq` → `comment`, the same queue per site;
//! - `labels`: `site \0 comment` → [`LabeledComment`], the training labels;
//! - `trusted`: `site \0 author` → empty; present while the author is trusted;
//! - `fingerprints`: `site \0 hash` → `Fingerprint`, the duplicate rule's memory;
//! - `activity`: `site \0 kind subject \0 time comment` → empty, the flood rule's window.
//!
//! **Invariant**: a decision is in `held` and `held_by_site` exactly when it awaits review,
//! under the `seq` its record names. Every write that can change that runs in one sled
//! transaction over the three trees, so a crash never leaves the queue and the decisions
//! disagreeing.
//!
//! **Threading**: every sled call blocks its thread, and may wait long. sled 0.34 guards all
//! of a process's databases with one fair reader-writer lock (once any transaction has run):
//! a transaction holds it exclusively, and reads, writes and sled's background flusher
//! share it, the flusher for the length of its fsync. A transaction waiting for that
//! flusher therefore holds up every call behind it; `Db::flush` itself waits for the disk.
//! So the service never calls the store on an async worker, where that wait would stall
//! every request the worker serves: it calls through [`Store::blocking`] and
//! [`Store::flush`], on tokio's blocking pool.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::{Transactional, Tree};

use crate::comment::Comment;
use crate::error::Error;
use crate::rules::{Policy, Signals};
use crate::verdict::{Decision, Label, Resolution, Timestamp, Verdict};

/// A checked comment with its decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub comment: Comment,
    pub decision: Decision,
    /// The comment's position in the review queue while it awaits review.
    pub held_seq: Option<u64>,
}

/// A review-queue position and the `decisions` key it points at.
type QueueEntry = (u64, Vec<u8>);

/// Where a training label came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelOrigin {
    /// A blog backend reported it (SubmitFeedback).
    Feedback,
    /// An operator resolved a held comment (ResolveHeld).
    Resolution,
}

/// A labelled comment, kept with its full text so the model can be retrained from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabeledComment {
    pub comment: Comment,
    pub label: Label,
    pub origin: LabelOrigin,
    pub labeled_at: Timestamp,
}

/// The duplicate rule's memory of a text: which comment first said it, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Fingerprint {
    comment_id: String,
    seen_at: Timestamp,
}

/// Handle to the database. Cheap to share behind an `Arc`; sled does its own locking. Its
/// synchronous methods block, so async code calls them through [`Store::blocking`].
pub struct Store {
    db: sled::Db,
    decisions: Tree,
    held: Tree,
    held_by_site: Tree,
    labels: Tree,
    trusted: Tree,
    fingerprints: Tree,
    activity: Tree,
}

impl Store {
    /// Opens (or creates) the database in `dir`. sled lets one process at a time have it; a
    /// second one is refused with an error that says so, not sled's generic I/O error.
    pub fn open(dir: &Path) -> Result<Store, Error> {
        let db = sled::open(dir).map_err(|e| match e {
            // sled 0.34 reports a held lock only in the message of an `ErrorKind::Other`.
            sled::Error::Io(ref io) if io.to_string().starts_with("could not acquire lock") => {
                Error::FailedPrecondition(format!(
                    "the database in {} is in use by another process (a running server?); \
                     sled lets one process at a time open it",
                    dir.display()
                ))
            }
            other => Error::from(other),
        })?;
        Ok(Store {
            decisions: db.open_tree("decisions")?,
            held: db.open_tree("held")?,
            held_by_site: db.open_tree("held_by_site")?,
            labels: db.open_tree("labels")?,
            trusted: db.open_tree("trusted")?,
            fingerprints: db.open_tree("fingerprints")?,
            activity: db.open_tree("activity")?,
            db,
        })
    }

    /// Makes every write so far durable. Called before a decision is answered.
    ///
    /// sled 0.34's `flush_async` deadlocks when called concurrently (spacejam/sled#1308,
    /// fixed only in its unreleased main branch): eight checks at once froze the server for
    /// good, and with its worker threads stuck it no longer heard SIGTERM. Its blocking
    /// `flush`, on tokio's blocking pool, does the same work without the deadlock.
    pub async fn flush(&self) -> Result<(), Error> {
        let db = self.db.clone();
        on_blocking_pool(move || Ok(db.flush()?)).await?;
        Ok(())
    }

    /// Runs `work` on the store on tokio's blocking pool and returns its result: how async
    /// code calls the store's (blocking) methods, so that a call waiting on sled's lock
    /// (see the module's *Threading*) holds up only its own request.
    pub async fn blocking<T, F>(self: &Arc<Self>, work: F) -> Result<T, Error>
    where
        F: FnOnce(&Store) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(self);
        on_blocking_pool(move || work(&store)).await
    }

    pub fn get(&self, site_id: &str, comment_id: &str) -> Result<Option<Record>, Error> {
        self.decisions
            .get(pair_key(site_id, comment_id))?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// Stores a new or replacing decision and puts it in, or takes it out of, the review
    /// queue to match, all in one transaction. When a decision for the same content is
    /// already stored (a concurrent retry got there first), that one is kept and returned,
    /// so every caller of an idempotent check sees the same decision.
    pub fn put_decision(&self, comment: Comment, decision: Decision) -> Result<Record, Error> {
        let key = pair_key(&comment.site_id, &comment.comment_id);
        let trees = (&self.decisions, &self.held, &self.held_by_site);
        let record = trees.transaction(|(decisions, held, by_site)| {
            if let Some(old) = decisions.get(&key)? {
                let old: Record = decode(&old).map_err(ConflictableTransactionError::Abort)?;
                if old.comment.content == comment.content {
                    return Ok(old);
                }
                unqueue(held, by_site, &old)?;
            }
            let held_seq = if decision.awaits_review() {
                let seq = held.generate_id()?;
                held.insert(&seq.to_be_bytes(), key.as_slice())?;
                by_site.insert(
                    site_seq_key(&comment.site_id, seq),
                    comment.comment_id.as_bytes(),
                )?;
                Some(seq)
            } else {
                None
            };
            let record = Record {
                comment: comment.clone(),
                decision: decision.clone(),
                held_seq,
            };
            decisions.insert(key.as_slice(), encode(&record))?;
            Ok(record)
        })?;
        Ok(record)
    }

    /// Resolves a held comment: stores the resolution, removes it from the queue, records the
    /// training label and adjusts its author's trust — atomically, so a resolution is never
    /// half-applied. Resolving again with the same verdict returns the record unchanged, so
    /// a client may retry; a different verdict is refused.
    pub fn resolve(
        &self,
        site_id: &str,
        comment_id: &str,
        resolution: Resolution,
    ) -> Result<Record, Error> {
        let key = pair_key(site_id, comment_id);
        let trees = (
            &self.decisions,
            &self.held,
            &self.held_by_site,
            &self.labels,
            &self.trusted,
        );
        let record = trees.transaction(|(decisions, held, by_site, labels, trusted)| {
            let abort = ConflictableTransactionError::Abort;
            let Some(bytes) = decisions.get(&key)? else {
                return Err(abort(Error::NotFound(format!(
                    "no decision for comment {comment_id:?} of site {site_id:?}"
                ))));
            };
            let mut record: Record = decode(&bytes).map_err(abort)?;
            let resolved = record.decision.resolution.map(|r| r.verdict);
            if resolved == Some(resolution.verdict) {
                // A retry of a resolution that was applied: answer it again, change nothing.
                return Ok(record);
            }
            if !record.decision.awaits_review() {
                let state = match record.decision.resolution {
                    Some(r) => format!("was already resolved ({})", r.verdict.as_str()),
                    None => format!(
                        "was not held (verdict {})",
                        record.decision.verdict.as_str()
                    ),
                };
                return Err(abort(Error::FailedPrecondition(format!(
                    "comment {comment_id:?} of site {site_id:?} {state}"
                ))));
            }
            unqueue(held, by_site, &record)?;
            record.held_seq = None;
            record.decision.resolution = Some(resolution);
            decisions.insert(key.as_slice(), encode(&record))?;
            let label = LabeledComment {
                comment: record.comment.clone(),
                label: match resolution.verdict {
                    Verdict::Approve => Label::Ham,
                    _ => Label::Spam,
                },
                origin: LabelOrigin::Resolution,
                labeled_at: resolution.resolved_at,
            };
            labels.insert(key.as_slice(), encode(&label))?;
            adjust_trust(trusted, &label)?;
            Ok(record)
        })?;
        Ok(record)
    }

    /// Records a training label, replacing any earlier one for the comment, and adjusts the
    /// author's trust. Returns the label it replaced, if any.
    pub fn put_label(&self, labeled: &LabeledComment) -> Result<Option<Label>, Error> {
        let key = pair_key(&labeled.comment.site_id, &labeled.comment.comment_id);
        let previous = (&self.labels, &self.trusted).transaction(|(labels, trusted)| {
            let previous = labels.insert(key.as_slice(), encode(labeled))?;
            adjust_trust(trusted, labeled)?;
            Ok(previous)
        })?;
        previous
            .map(|bytes| decode::<LabeledComment>(&bytes).map(|l| l.label))
            .transpose()
    }

    /// Every stored training label, ordered by site and comment id; only `site_id`'s when
    /// given. Read lazily, so exporting a large store does not hold it all in memory.
    pub fn labels(
        &self,
        site_id: Option<&str>,
    ) -> impl Iterator<Item = Result<LabeledComment, Error>> + use<> {
        let entries = match site_id {
            Some(site) => self.labels.scan_prefix(site_prefix(site)),
            None => self.labels.iter(),
        };
        entries.map(|entry| decode(&entry?.1))
    }

    #[cfg(test)]
    pub fn label(&self, site_id: &str, comment_id: &str) -> Result<Option<LabeledComment>, Error> {
        self.labels
            .get(pair_key(site_id, comment_id))?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// One page of the review queue, oldest first, starting after queue position `after`:
    /// at most `limit` records, and no more than fit in `max_bytes` of stored size (but
    /// always at least one). Returns each record with its queue position, and whether more
    /// follow.
    ///
    /// The queue index and the records are read separately, so a comment resolved or
    /// re-queued between the two reads is skipped here: its record no longer names the
    /// position the index gave.
    pub fn list_held(
        &self,
        site_id: Option<&str>,
        after: Option<u64>,
        limit: usize,
        max_bytes: usize,
    ) -> Result<(Vec<(u64, Record)>, bool), Error> {
        let start = after.map_or(0, |s| s.saturating_add(1));
        let entries: Box<dyn Iterator<Item = Result<QueueEntry, Error>>> = match site_id {
            None => Box::new(self.held.range(start.to_be_bytes()..).map(|kv| {
                let (seq, key) = kv?;
                Ok((be_u64(&seq)?, key.to_vec()))
            })),
            Some(site) => {
                let prefix = site_prefix(site);
                Box::new(
                    self.held_by_site
                        .range(site_seq_key(site, start)..)
                        .take_while(move |kv| {
                            kv.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix))
                        })
                        .map(move |kv| {
                            let (key, comment) = kv?;
                            let seq = be_u64(&key[site.len() + 1..])?;
                            Ok((seq, pair_key(site, &String::from_utf8_lossy(&comment))))
                        }),
                )
            }
        };
        let mut page = Vec::with_capacity(limit.min(64));
        let mut bytes_used = 0;
        for entry in entries {
            let (seq, key) = entry?;
            let Some(bytes) = self.decisions.get(&key)? else {
                return Err(Error::Corrupt(format!(
                    "queue entry {:?} has no decision",
                    String::from_utf8_lossy(&key)
                )));
            };
            let full =
                page.len() == limit || (!page.is_empty() && bytes_used + bytes.len() > max_bytes);
            if full {
                return Ok((page, true));
            }
            let record: Record = decode(&bytes)?;
            if record.held_seq == Some(seq) {
                bytes_used += bytes.len();
                page.push((seq, record));
            }
        }
        Ok((page, false))
    }

    /// Gathers the history the duplicate, flood and trust rules need, and records this
    /// comment in that history. Counting is approximate under concurrent requests for the
    /// same IP, which only matters within a handful of comments.
    pub fn observe(
        &self,
        comment: &Comment,
        policy: &Policy,
        now: Timestamp,
    ) -> Result<Signals, Error> {
        let site = &comment.site_id;
        let mut signals = Signals {
            trusted_author: match comment.author_key() {
                Some(author) => self.trusted.contains_key(pair_key(site, &author))?,
                None => false,
            },
            ..Signals::default()
        };
        if policy.duplicate_window_secs > 0 {
            signals.duplicate_of = self.remember_text(comment, policy, now)?;
        }
        if policy.flood_max > 0 {
            let since = now.minus_seconds(policy.flood_window_secs);
            if let Some(ip) = comment.ip() {
                signals.comments_from_ip =
                    self.count_recent(comment, b'i', &ip.to_string(), since, now)?;
            }
            if let Some(author) = comment.author_key() {
                signals.comments_from_author =
                    self.count_recent(comment, b'a', &author, since, now)?;
            }
        }
        Ok(signals)
    }

    /// The id of an earlier comment with the same text within the window, if any; otherwise
    /// remembers this comment as the text's first author.
    fn remember_text(
        &self,
        comment: &Comment,
        policy: &Policy,
        now: Timestamp,
    ) -> Result<Option<String>, Error> {
        let normalized = normalize_for_duplicates(&comment.content);
        if normalized.chars().count() < policy.duplicate_min_chars {
            return Ok(None);
        }
        let mut key = site_prefix(&comment.site_id);
        key.extend_from_slice(&fnv64(normalized.as_bytes()).to_be_bytes());
        if let Some(bytes) = self.fingerprints.get(&key)? {
            let earlier: Fingerprint = decode(&bytes)?;
            let recent = earlier.seen_at >= now.minus_seconds(policy.duplicate_window_secs);
            if recent && earlier.comment_id != comment.comment_id {
                return Ok(Some(earlier.comment_id));
            }
        }
        let fingerprint = Fingerprint {
            comment_id: comment.comment_id.clone(),
            seen_at: now,
        };
        self.fingerprints.insert(key, encode(&fingerprint))?;
        Ok(None)
    }

    /// Records the comment under `(kind, subject)` and counts the distinct comments recorded
    /// there since `since`, pruning older entries as it goes so the tree stays small.
    fn count_recent(
        &self,
        comment: &Comment,
        kind: u8,
        subject: &str,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u32, Error> {
        let mut prefix = site_prefix(&comment.site_id);
        prefix.push(kind);
        prefix.extend_from_slice(subject.as_bytes());
        prefix.push(0);
        let at = |t: Timestamp| {
            let mut key = prefix.clone();
            key.extend_from_slice(&(t.0.max(0) as u64).to_be_bytes());
            key
        };
        let mut entry = at(now);
        entry.extend_from_slice(comment.comment_id.as_bytes());
        self.activity.insert(entry, &[])?;
        for stale in self.activity.range(prefix.clone()..at(since)).keys() {
            self.activity.remove(stale?)?;
        }
        let mut distinct = HashSet::new();
        for key in self.activity.scan_prefix(&prefix).keys() {
            let key = key?;
            distinct.insert(key[prefix.len() + 8..].to_vec());
        }
        Ok(distinct.len() as u32)
    }

    /// Forgets duplicate-rule fingerprints last seen before `fingerprints_before` and
    /// flood-rule activity before `activity_before`. The callers pass cutoffs beyond every
    /// policy's window, so what goes could never fire a rule again; without this, every
    /// text and every one-off IP would stay in the database forever. Returns how many
    /// entries were removed.
    pub fn sweep(
        &self,
        fingerprints_before: Timestamp,
        activity_before: Timestamp,
    ) -> Result<usize, Error> {
        let mut removed = 0;
        for entry in self.fingerprints.iter() {
            let (key, bytes) = entry?;
            let fingerprint: Fingerprint = decode(&bytes)?;
            // Compare-and-swap: a comment that refreshed this text meanwhile keeps it.
            if fingerprint.seen_at < fingerprints_before
                && self
                    .fingerprints
                    .compare_and_swap(&key, Some(bytes), None::<&[u8]>)?
                    .is_ok()
            {
                removed += 1;
            }
        }
        for key in self.activity.iter().keys() {
            let key = key?;
            if activity_time(&key)? < activity_before && self.activity.remove(&key)?.is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Runs `work` on tokio's blocking pool. A panic in `work` is a bug: the request fails as
/// an internal error (the cause logged) and the server stays up. A runtime shutting down
/// before `work` ran is a storage failure: a retry against the restarted server may pass.
async fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        if e.is_panic() {
            Error::Internal(format!("a store call panicked: {e}"))
        } else {
            Error::Storage(sled::Error::Io(std::io::Error::other(e)))
        }
    })?
}

/// A human's ham label makes the author trusted; a spam label withdraws that trust, so one
/// approved comment is no lasting licence to spam.
fn adjust_trust(
    trusted: &TransactionalTree,
    labeled: &LabeledComment,
) -> Result<(), ConflictableTransactionError<Error>> {
    let Some(author) = labeled.comment.author_key() else {
        return Ok(());
    };
    let key = pair_key(&labeled.comment.site_id, &author);
    match labeled.label {
        Label::Ham => {
            trusted.insert(key, &[])?;
        }
        Label::Spam => {
            trusted.remove(key)?;
        }
    }
    Ok(())
}

/// Removes a record's queue entries, if it has any (inside a transaction).
fn unqueue(
    held: &TransactionalTree,
    by_site: &TransactionalTree,
    record: &Record,
) -> Result<(), ConflictableTransactionError<Error>> {
    if let Some(seq) = record.held_seq {
        held.remove(&seq.to_be_bytes())?;
        by_site.remove(site_seq_key(&record.comment.site_id, seq))?;
    }
    Ok(())
}

fn site_prefix(site_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(site_id.len() + 1);
    key.extend_from_slice(site_id.as_bytes());
    key.push(0);
    key
}

fn pair_key(site_id: &str, second: &str) -> Vec<u8> {
    let mut key = site_prefix(site_id);
    key.extend_from_slice(second.as_bytes());
    key
}

fn site_seq_key(site_id: &str, seq: u64) -> Vec<u8> {
    let mut key = site_prefix(site_id);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// A queue position from its big-endian key bytes.
fn be_u64(bytes: &[u8]) -> Result<u64, Error> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| Error::Corrupt(format!("queue position of {} bytes", bytes.len())))
}

/// The time recorded in an `activity` key (`site \0 kind subject \0 time comment`). Ids and
/// subjects never contain `\0`, so the second `\0` ends the subject.
fn activity_time(key: &[u8]) -> Result<Timestamp, Error> {
    let corrupt = || Error::Corrupt(format!("activity key {:?}", String::from_utf8_lossy(key)));
    let mut zeros = key.iter().enumerate().filter(|&(_, &b)| b == 0);
    let (Some(_), Some((end, _))) = (zeros.next(), zeros.next()) else {
        return Err(corrupt());
    };
    let time = key.get(end + 1..end + 9).ok_or_else(corrupt)?;
    Ok(Timestamp(be_u64(time)? as i64))
}

/// What counts as "the same text" for the duplicate rule: case and spacing do not.
fn normalize_for_duplicates(content: &str) -> String {
    content
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// FNV-1a: stable across builds and platforms, unlike std's randomised hasher, so stored
/// fingerprints stay comparable after an upgrade.
fn fnv64(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise infallibly")
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Reason;

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn comment(site: &str, id: &str, content: &str) -> Comment {
        Comment {
            site_id: site.into(),
            comment_id: id.into(),
            content: content.into(),
            author_email: "ann@example.org".into(),
            author_ip: "192.0.2.1".into(),
            ..Default::default()
        }
    }

    fn decision(c: &Comment, verdict: Verdict) -> Decision {
        Decision {
            site_id: c.site_id.clone(),
            comment_id: c.comment_id.clone(),
            verdict,
            spam_probability: 0.5,
            reasons: vec![Reason {
                code: "test".into(),
                message: "test".into(),
                effect: None,
            }],
            model_version: "m".into(),
            decided_at: Timestamp(1),
            resolution: None,
        }
    }

    fn held_ids(store: &Store, site: Option<&str>) -> Vec<String> {
        let (records, _) = store.list_held(site, None, 100, usize::MAX).unwrap();
        records
            .into_iter()
            .map(|(_, r)| r.comment.comment_id)
            .collect()
    }

    #[test]
    fn queue_follows_the_decision() {
        let (_dir, store) = open();
        let a = comment("s1", "a", "x");
        let b = comment("s2", "b", "y");
        store
            .put_decision(a.clone(), decision(&a, Verdict::Hold))
            .unwrap();
        store
            .put_decision(b.clone(), decision(&b, Verdict::Hold))
            .unwrap();
        assert_eq!(held_ids(&store, None), ["a", "b"]);
        assert_eq!(held_ids(&store, Some("s2")), ["b"]);
        // An edit scored to approve takes it out of both indexes.
        let edited = comment("s1", "a", "x, edited");
        store
            .put_decision(edited.clone(), decision(&edited, Verdict::Approve))
            .unwrap();
        assert_eq!(held_ids(&store, None), ["b"]);
        assert!(held_ids(&store, Some("s1")).is_empty());
        assert_eq!(store.held.len(), store.held_by_site.len());
    }

    /// sled holds the database for one opener; the second is told why it cannot have it.
    #[test]
    fn a_second_opener_is_told_the_database_is_in_use() {
        let (dir, _store) = open();
        let Err(err) = Store::open(dir.path()) else {
            panic!("the database opened twice");
        };
        assert!(
            matches!(&err, Error::FailedPrecondition(m) if m.contains("in use by another process")),
            "{err:?}"
        );
    }

    /// The export reads every label once, its latest value, in (site, comment) order; a
    /// site's scan does not reach a site whose id merely starts with it.
    #[test]
    fn labels_are_listed_by_site() {
        let (_dir, store) = open();
        let put = |site: &str, id: &str, label: Label| {
            store
                .put_label(&LabeledComment {
                    comment: comment(site, id, "text"),
                    label,
                    origin: LabelOrigin::Feedback,
                    labeled_at: Timestamp(1),
                })
                .unwrap();
        };
        put("s1", "b", Label::Spam);
        put("s", "c", Label::Ham);
        put("s", "a", Label::Spam);
        put("s", "c", Label::Spam);
        let listed = |site: Option<&str>| -> Vec<(String, String, Label)> {
            store
                .labels(site)
                .map(|l| {
                    let l = l.unwrap();
                    (l.comment.site_id, l.comment.comment_id, l.label)
                })
                .collect()
        };
        let pair = |site: &str, id: &str, label| (site.to_string(), id.to_string(), label);
        assert_eq!(
            listed(None),
            [
                pair("s", "a", Label::Spam),
                pair("s", "c", Label::Spam),
                pair("s1", "b", Label::Spam)
            ]
        );
        assert_eq!(
            listed(Some("s")),
            [pair("s", "a", Label::Spam), pair("s", "c", Label::Spam)]
        );
        assert!(listed(Some("")).is_empty());
        assert!(listed(Some("nope")).is_empty());
    }

    #[test]
    fn resolve_labels_trusts_and_is_safe_to_retry() {
        let (_dir, store) = open();
        let a = comment("s", "a", "x");
        store
            .put_decision(a.clone(), decision(&a, Verdict::Hold))
            .unwrap();
        let resolution = Resolution {
            verdict: Verdict::Approve,
            resolved_at: Timestamp(5),
        };
        let record = store.resolve("s", "a", resolution).unwrap();
        assert_eq!(record.decision.resolution, Some(resolution));
        assert!(held_ids(&store, None).is_empty());
        assert_eq!(store.label("s", "a").unwrap().unwrap().label, Label::Ham);
        let policy = Policy::from_table(&toml::Table::new()).unwrap();
        let signals = store
            .observe(&comment("s", "z", "hello"), &policy, Timestamp(9))
            .unwrap();
        assert!(signals.trusted_author);
        // A retry with the same verdict is answered again; the other verdict is refused.
        assert_eq!(store.resolve("s", "a", resolution).unwrap(), record);
        let reject = Resolution {
            verdict: Verdict::Reject,
            resolved_at: Timestamp(6),
        };
        assert!(matches!(
            store.resolve("s", "a", reject),
            Err(Error::FailedPrecondition(_))
        ));
        assert!(matches!(
            store.resolve("s", "nope", resolution),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn pages_through_the_queue() {
        let (_dir, store) = open();
        for i in 0..5 {
            let c = comment("s", &format!("c{i}"), "x");
            store
                .put_decision(c.clone(), decision(&c, Verdict::Hold))
                .unwrap();
        }
        let (page, more) = store.list_held(Some("s"), None, 2, usize::MAX).unwrap();
        assert!(more);
        let last = page[1].0;
        let (page2, _) = store
            .list_held(Some("s"), Some(last), 2, usize::MAX)
            .unwrap();
        assert_eq!(page2[0].1.comment.comment_id, "c2");
        let (page3, more3) = store
            .list_held(None, Some(page2[1].0), 2, usize::MAX)
            .unwrap();
        assert_eq!(page3.len(), 1);
        assert!(!more3);
        // A byte budget smaller than one record still yields one per page.
        let (tiny, more) = store.list_held(None, None, 5, 1).unwrap();
        assert_eq!((tiny.len(), more), (1, true));
    }

    #[test]
    fn a_page_skips_what_left_the_queue_and_keeps_its_position() {
        let (_dir, store) = open();
        let a = comment("s", "a", "x");
        let b = comment("s", "b", "y");
        for c in [&a, &b] {
            store
                .put_decision(c.clone(), decision(c, Verdict::Hold))
                .unwrap();
        }
        let (page, _) = store.list_held(None, None, 1, usize::MAX).unwrap();
        let (position, _) = page[0];
        // "a" is edited and held again: it moves to the back of the queue, and paging on
        // from the old position still reaches "b" before it.
        let edited = comment("s", "a", "x, edited");
        store
            .put_decision(edited.clone(), decision(&edited, Verdict::Hold))
            .unwrap();
        let (rest, _) = store
            .list_held(None, Some(position), 10, usize::MAX)
            .unwrap();
        let ids: Vec<_> = rest
            .iter()
            .map(|(_, r)| r.comment.comment_id.as_str())
            .collect();
        assert_eq!(ids, ["b", "a"]);
        assert!(rest.iter().all(|(seq, r)| r.held_seq == Some(*seq)));
    }

    #[test]
    fn same_content_keeps_the_first_decision() {
        let (_dir, store) = open();
        let a = comment("s", "a", "x");
        let first = store
            .put_decision(a.clone(), decision(&a, Verdict::Hold))
            .unwrap();
        let mut racing = decision(&a, Verdict::Approve);
        racing.decided_at = Timestamp(2);
        assert_eq!(store.put_decision(a.clone(), racing).unwrap(), first);
        assert_eq!(store.get("s", "a").unwrap().unwrap(), first);
        assert_eq!(held_ids(&store, None), ["a"]);
    }

    #[test]
    fn sweep_forgets_only_what_every_window_has_passed() {
        let (_dir, store) = open();
        let policy = Policy::from_table(&toml::Table::new()).unwrap();
        let old = Timestamp::from_unix_seconds(1_000);
        let new = Timestamp::from_unix_seconds(100_000);
        let text = "a comment long enough to be fingerprinted";
        store
            .observe(&comment("s", "a", text), &policy, old)
            .unwrap();
        // Someone else: sweeping, not their own later comments, must clear the first author.
        let other = Comment {
            author_email: "bo@example.org".into(),
            author_ip: "192.0.2.2".into(),
            ..comment("s", "b", &format!("{text}, again"))
        };
        store.observe(&other, &policy, new).unwrap();
        // Fingerprint and IP and author activity for each comment.
        assert_eq!(store.fingerprints.len() + store.activity.len(), 6);
        let cutoff = Timestamp::from_unix_seconds(50_000);
        assert_eq!(store.sweep(cutoff, cutoff).unwrap(), 3);
        assert_eq!(store.fingerprints.len() + store.activity.len(), 3);
        store
            .observe(&comment("s", "c", text), &policy, new)
            .unwrap();
        assert_eq!(
            store.sweep(cutoff, cutoff).unwrap(),
            0,
            "recent entries stay"
        );
    }

    #[test]
    fn duplicates_and_floods_are_noticed_within_their_windows() {
        let (_dir, store) = open();
        let policy = Policy::from_table(
            &"flood_max = 2\nflood_window_secs = 60\nduplicate_window_secs = 3600"
                .parse()
                .unwrap(),
        )
        .unwrap();
        let text = "Check out my amazing channel right now";
        let t0 = Timestamp::from_unix_seconds(1_000_000);
        let s1 = store
            .observe(&comment("s", "a", text), &policy, t0)
            .unwrap();
        assert_eq!(s1.duplicate_of, None);
        assert_eq!(s1.comments_from_ip, 1);
        let s2 = store
            .observe(&comment("s", "b", &text.to_uppercase()), &policy, t0)
            .unwrap();
        assert_eq!(s2.duplicate_of.as_deref(), Some("a"));
        assert_eq!(s2.comments_from_ip, 2);
        // The same comment seen again (an edit) is not a new comment.
        let s3 = store
            .observe(&comment("s", "b", "other text entirely, long"), &policy, t0)
            .unwrap();
        assert_eq!(s3.comments_from_ip, 2);
        // Another site has its own history.
        let other = store
            .observe(&comment("t", "a", text), &policy, t0)
            .unwrap();
        assert_eq!((other.duplicate_of, other.comments_from_ip), (None, 1));
        // After the windows pass, both forget.
        let later = Timestamp::from_unix_seconds(1_000_000 + 7200);
        let s4 = store
            .observe(&comment("s", "c", text), &policy, later)
            .unwrap();
        assert_eq!((s4.duplicate_of, s4.comments_from_ip), (None, 1));
    }

    /// A store call that panics (a bug) fails with an internal error its request answers,
    /// not a retryable storage failure, instead of unwinding through the server; the store
    /// keeps working.
    #[tokio::test]
    async fn a_panicking_store_call_is_an_error() {
        let (_dir, store) = open();
        let store = Arc::new(store);
        let panicked = store
            .blocking(|_| -> Result<(), Error> { panic!("a bug in a store call") })
            .await;
        assert!(
            matches!(&panicked, Err(Error::Internal(e)) if e.contains("a bug in a store call")),
            "{panicked:?}"
        );
        assert_eq!(
            store.blocking(|store| store.get("s", "a")).await.unwrap(),
            None
        );
    }

    /// Many checks at once, each flushing before it answers, as the service does under
    /// load: sled's `flush_async` deadlocked here within seconds (spacejam/sled#1308). The
    /// runtime runs on a thread of its own so that a deadlock fails the test instead of
    /// hanging it.
    #[test]
    fn concurrent_writes_and_flushes_finish() {
        let (dir, store) = open();
        let store = std::sync::Arc::new(store);
        let (finished, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let writers: Vec<_> = (0..16)
                    .map(|writer| {
                        let store = store.clone();
                        tokio::spawn(async move {
                            for i in 0..50 {
                                let c = comment("s", &format!("c{writer}-{i}"), "hello");
                                let verdict = [Verdict::Hold, Verdict::Approve][i % 2];
                                store
                                    .put_decision(c.clone(), decision(&c, verdict))
                                    .unwrap();
                                store.flush().await.unwrap();
                            }
                        })
                    })
                    .collect();
                for writer in writers {
                    writer.await.unwrap();
                }
            });
            let (held, _) = store.list_held(Some("s"), None, 1000, usize::MAX).unwrap();
            finished.send(held.len()).unwrap();
        });
        let held = done
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("16 writers of 50 decisions each finished within a minute");
        assert_eq!(held, 16 * 25);
        drop(dir);
    }
}
