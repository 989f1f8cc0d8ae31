//! redb as a revisioned store: a table key -> (revision, value) for the live state, a
//! history table revision -> (key, value) holding every write until compaction, and a meta
//! table with the global revision. One write transaction per update, default durability
//! (Immediate: durable when `commit` returns). Concurrent writers contend on redb's single
//! writer lock (`begin_write` blocks until it is free).
//!
//! Compaction deletes the history entries, then `Database::compact()` relocates pages so the
//! file can shrink.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::group::{BatchApply, Op};
use crate::harness::{Outcome, Writer};

const KV: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("kv");
const HISTORY: TableDefinition<u64, (&str, &[u8])> = TableDefinition::new("history");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const REVISION: &str = "revision";

/// The database file inside `dir`.
pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("state.redb")
}

/// Creates the database with its tables.
pub fn create(dir: &Path) -> Result<Arc<Database>> {
    let db = Database::create(db_path(dir))?;
    let txn = db.begin_write()?;
    {
        txn.open_table(KV)?;
        txn.open_table(HISTORY)?;
        txn.open_table(META)?;
    }
    txn.commit()?;
    Ok(Arc::new(db))
}

/// A handle on the shared database: a writer of its own or a group committer's engine.
pub struct Redb {
    pub db: Arc<Database>,
}

fn rev_i64(rev: u64) -> Result<i64> {
    i64::try_from(rev).map_err(|_| anyhow!("revision {rev} overflows i64"))
}

impl BatchApply for Redb {
    fn apply(&mut self, ops: &[Op]) -> Result<Vec<Outcome>> {
        let txn = self.db.begin_write()?;
        let mut outcomes = Vec::with_capacity(ops.len());
        {
            let mut kv = txn.open_table(KV)?;
            let mut history = txn.open_table(HISTORY)?;
            let mut meta = txn.open_table(META)?;
            let mut rev = meta.get(REVISION)?.map_or(0, |g| g.value());
            for op in ops {
                let (key, value, expected) = match op {
                    Op::Create { key, value } => (key, value, None),
                    Op::Update {
                        key,
                        value,
                        expected,
                    } => (key, value, Some(*expected)),
                };
                let current = kv.get(key.as_str())?.map(|g| g.value().0);
                let conflict = match (expected, current) {
                    (None, None) => None,
                    (None, Some(cur)) => Some(rev_i64(cur)?),
                    (Some(_), None) => Some(0),
                    (Some(exp), Some(cur)) => {
                        let cur = rev_i64(cur)?;
                        (cur != exp).then_some(cur)
                    }
                };
                if let Some(actual) = conflict {
                    outcomes.push(Outcome::Conflict(actual));
                    continue;
                }
                rev += 1;
                kv.insert(key.as_str(), (rev, value.as_ref()))?;
                history.insert(rev, (key.as_str(), value.as_ref()))?;
                outcomes.push(Outcome::Done(rev_i64(rev)?));
            }
            meta.insert(REVISION, rev)?;
        }
        txn.commit()?;
        Ok(outcomes)
    }
}

impl Writer for Redb {
    fn create(&mut self, key: &str, value: &Bytes) -> Result<Outcome> {
        let op = Op::Create {
            key: key.into(),
            value: value.clone(),
        };
        first(self.apply(&[op])?)
    }

    fn update(&mut self, key: &str, value: &Bytes, expected: i64) -> Result<Outcome> {
        let op = Op::Update {
            key: key.into(),
            value: value.clone(),
            expected,
        };
        first(self.apply(&[op])?)
    }
}

fn first(outcomes: Vec<Outcome>) -> Result<Outcome> {
    outcomes
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no outcome for a write"))
}

/// Entries in the history table.
pub fn history_len(db: &Database) -> Result<u64> {
    let txn = db.begin_read()?;
    Ok(txn.open_table(HISTORY)?.len()?)
}

/// Deletes every history entry: in one durable transaction (`batch` 0), or in transactions of
/// `batch` revisions each, oldest first, as kine compacts. Returns (entries, transactions).
pub fn delete_history(db: &Database, batch: u64) -> Result<(u64, u64)> {
    let (removed, last) = {
        let txn = db.begin_read()?;
        let history = txn.open_table(HISTORY)?;
        let last = history.last()?.map_or(0, |(k, _)| k.value());
        (history.len()?, last)
    };
    let step = if batch == 0 { u64::MAX } else { batch };
    let mut done = 0u64;
    let mut transactions = 0u64;
    while done < last {
        let upto = done.saturating_add(step).min(last);
        let txn = db.begin_write()?;
        txn.open_table(HISTORY)?
            .retain_in(done + 1..=upto, |_, _| false)?;
        txn.commit()?;
        transactions += 1;
        done = upto;
    }
    Ok((removed, transactions))
}

/// `Database::compact()`, which needs the only handle.
pub fn compact(db: Arc<Database>) -> Result<Database> {
    let mut db =
        Arc::try_unwrap(db).map_err(|_| anyhow!("the database is still shared; cannot compact"))?;
    db.compact()?;
    Ok(db)
}
