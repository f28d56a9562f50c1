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
//! - `trusted`: `site \0 author` → approvals count (big-endian u64);
//! - `fingerprints`: `site \0 hash` → [`Fingerprint`], the duplicate rule's memory;
//! - `activity`: `site \0 kind subject \0 time comment` → empty, the flood rule's window.
//!
//! **Invariant**: a decision is in `held` and `held_by_site` exactly when it awaits review,
//! under the `seq` its record names. Every write that can change that runs in one sled
//! transaction over the three trees, so a crash never leaves the queue and the decisions
//! disagreeing.

use std::collections::HashSet;
use std::path::Path;

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

/// Handle to the database. Cheap to share behind an `Arc`; sled does its own locking.
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
    pub fn open(dir: &Path) -> Result<Store, Error> {
        let db = sled::open(dir)?;
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
    pub async fn flush(&self) -> Result<(), Error> {
        self.db.flush_async().await?;
        Ok(())
    }

    pub fn get(&self, site_id: &str, comment_id: &str) -> Result<Option<Record>, Error> {
        self.decisions
            .get(pair_key(site_id, comment_id))?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// Stores a (new or replacing) decision and puts it in, or takes it out of, the review
    /// queue to match, all in one transaction.
    pub fn put_decision(&self, comment: Comment, decision: Decision) -> Result<Record, Error> {
        let key = pair_key(&comment.site_id, &comment.comment_id);
        let trees = (&self.decisions, &self.held, &self.held_by_site);
        let record = trees.transaction(|(decisions, held, by_site)| {
            if let Some(old) = decisions.get(&key)? {
                let old: Record = decode(&old).map_err(ConflictableTransactionError::Abort)?;
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
    /// half-applied.
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

    pub fn label(&self, site_id: &str, comment_id: &str) -> Result<Option<LabeledComment>, Error> {
        self.labels
            .get(pair_key(site_id, comment_id))?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// One page of the review queue, oldest first, starting after queue position `after`.
    /// Returns the records and whether more follow.
    pub fn list_held(
        &self,
        site_id: Option<&str>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<Record>, bool), Error> {
        let start = after.map_or(0, |s| s.saturating_add(1));
        let keys: Box<dyn Iterator<Item = sled::Result<Vec<u8>>>> = match site_id {
            None => Box::new(
                self.held
                    .range(start.to_be_bytes()..)
                    .map(|kv| kv.map(|(_, v)| v.to_vec())),
            ),
            Some(site) => {
                let prefix = site_prefix(site);
                let owned_site = site.to_string();
                Box::new(
                    self.held_by_site
                        .range(site_seq_key(site, start)..)
                        .take_while(move |kv| {
                            kv.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix))
                        })
                        .map(move |kv| {
                            kv.map(|(_, comment)| {
                                pair_key(&owned_site, &String::from_utf8_lossy(&comment))
                            })
                        }),
                )
            }
        };
        let mut records = Vec::with_capacity(limit.min(64));
        for key in keys {
            let key = key?;
            if records.len() == limit {
                return Ok((records, true));
            }
            let bytes = self.decisions.get(&key)?.ok_or_else(|| {
                Error::Corrupt(format!(
                    "queue entry {:?} has no decision",
                    String::from_utf8_lossy(&key)
                ))
            })?;
            records.push(decode(&bytes)?);
        }
        Ok((records, false))
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
            let count = trusted.get(&key)?.map_or(0, |b| be_u64(&b)) + 1;
            trusted.insert(key, &count.to_be_bytes())?;
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

fn be_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
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
        let (records, _) = store.list_held(site, None, 100).unwrap();
        records.into_iter().map(|r| r.comment.comment_id).collect()
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
        // Re-scoring to approve takes it out of both indexes.
        store
            .put_decision(a.clone(), decision(&a, Verdict::Approve))
            .unwrap();
        assert_eq!(held_ids(&store, None), ["b"]);
        assert!(held_ids(&store, Some("s1")).is_empty());
        assert_eq!(store.held.len(), store.held_by_site.len());
    }

    #[test]
    fn resolve_labels_trusts_and_refuses_twice() {
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
        assert!(matches!(
            store.resolve("s", "a", resolution),
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
        let (page, more) = store.list_held(Some("s"), None, 2).unwrap();
        assert!(more);
        let last = page[1].held_seq;
        let (page2, _) = store.list_held(Some("s"), last, 2).unwrap();
        assert_eq!(page2[0].comment.comment_id, "c2");
        let (page3, more3) = store.list_held(None, page2[1].held_seq, 2).unwrap();
        assert_eq!(page3.len(), 1);
        assert!(!more3);
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
}
