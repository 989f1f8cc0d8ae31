//! SQLite the way kine (k3s's etcd shim) uses it: WAL journal, one connection per writer,
//! a busy timeout, and a log-structured table where every write INSERTs a new row whose
//! `id` (AUTOINCREMENT) is the revision. An update is a compare-and-swap in one
//! `BEGIN IMMEDIATE` transaction: read the newest row for the name, check its id is the
//! expected revision, insert the new row pointing at it through `prev_revision`.
//!
//! Compaction is kine's: in batches of revisions, delete every row that a later row names as
//! its `prev_revision` (plus deleted rows), one transaction per batch, then
//! `PRAGMA wal_checkpoint(FULL)`. That frees pages inside the file but never shrinks it; only
//! `VACUUM` (kine runs it at startup) gives the space back, which is measured separately.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use crate::group::{BatchApply, Op};
use crate::harness::{Outcome, Writer};

/// How the SQLite database is set up.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// `PRAGMA synchronous`: FULL fsyncs the WAL at every commit (durable); kine's current
    /// default DSN says NORMAL (durable against a crash of the process, not of the machine).
    pub synchronous: String,
    /// kine's full schema: also an `old_value` column (each row carries the previous value
    /// too) and kine's six indexes, rather than the minimal table with one (name, id) index.
    pub kine_schema: bool,
    /// `busy_timeout` (kine: 30 s).
    pub busy_timeout: Duration,
}

const MINIMAL_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS kine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT,
        created INTEGER,
        deleted INTEGER,
        create_revision INTEGER,
        prev_revision INTEGER,
        value BLOB
    );
    CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name, id);";

/// kine's schema as of 2026 (pkg/drivers/sqlite/sqlite.go).
const KINE_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS kine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT,
        created INTEGER,
        deleted INTEGER,
        create_revision INTEGER,
        prev_revision INTEGER,
        lease INTEGER,
        value BLOB,
        old_value BLOB
    );
    CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name);
    CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name, id);
    CREATE INDEX IF NOT EXISTS kine_id_deleted_index ON kine (id, deleted);
    CREATE INDEX IF NOT EXISTS kine_prev_revision_index ON kine (prev_revision);
    CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex ON kine (name, prev_revision);
    CREATE INDEX IF NOT EXISTS kine_id_compact_rev_key_with_prev_revision_index
        ON kine (id, name, prev_revision) WHERE name != 'compact_rev_key' AND prev_revision != 0;";

const LATEST: &str =
    "SELECT id, created, create_revision, deleted FROM kine WHERE name = ?1 ORDER BY id DESC LIMIT 1";

const INSERT_MINIMAL: &str =
    "INSERT INTO kine (name, created, deleted, create_revision, prev_revision, value)
     VALUES (?1, ?2, 0, ?3, ?4, ?5)";

const INSERT_KINE: &str = "INSERT INTO kine (name, created, deleted, create_revision, prev_revision, lease, value, old_value)
     SELECT ?1, ?2, 0, ?3, ?4, 0, ?5, (SELECT value FROM kine WHERE id = ?4)";

/// kine's compaction statement for SQLite.
const COMPACT: &str = "DELETE FROM kine WHERE id IN (
        SELECT prev_revision FROM kine
        WHERE name != 'compact_rev_key' AND prev_revision != 0 AND id <= ?1
        UNION
        SELECT id FROM kine WHERE deleted != 0 AND id <= ?1)";

/// The path of the database file inside `dir`.
pub fn db_path(dir: &Path) -> std::path::PathBuf {
    dir.join("state.db")
}

/// Opens a connection configured as kine configures its pool's connections.
pub fn open(path: &Path, cfg: &SqliteConfig) -> Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    conn.busy_timeout(cfg.busy_timeout)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("SQLite refused WAL mode (got {mode})");
    }
    conn.pragma_update(None, "synchronous", &cfg.synchronous)?;
    Ok(conn)
}

/// Creates the database and its schema; returns a connection to keep open for the whole
/// run, as kine's pool does (closing the last connection would checkpoint and delete the
/// WAL, hiding its size).
pub fn init(dir: &Path, cfg: &SqliteConfig) -> Result<Connection> {
    let conn = open(&db_path(dir), cfg)?;
    conn.execute_batch(if cfg.kine_schema {
        KINE_SCHEMA
    } else {
        MINIMAL_SCHEMA
    })?;
    Ok(conn)
}

/// True for "database is locked" / "database table is locked". The first few are reported
/// on stderr with SQLite's extended code, to tell which lock refused.
fn is_busy(e: &rusqlite::Error) -> bool {
    static REPORTED: AtomicU64 = AtomicU64::new(0);
    let busy = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    if busy && REPORTED.fetch_add(1, Ordering::Relaxed) < 5 {
        let extended = match e {
            rusqlite::Error::SqliteFailure(f, _) => f.extended_code,
            _ => 0,
        };
        eprintln!("[engine-compare] SQLite busy (extended code {extended}): {e}");
    }
    busy
}

/// One connection: a writer of its own (kine-like) or the engine of a group committer.
pub struct Sqlite {
    conn: Connection,
    kine_schema: bool,
}

impl Sqlite {
    pub fn new(dir: &Path, cfg: &SqliteConfig) -> Result<Self> {
        Ok(Sqlite {
            conn: open(&db_path(dir), cfg)?,
            kine_schema: cfg.kine_schema,
        })
    }

    /// Runs `ops` in one `BEGIN IMMEDIATE` transaction. `Ok(None)`: refused as busy.
    fn transact(&mut self, ops: &[Op]) -> rusqlite::Result<Option<Vec<Outcome>>> {
        let tx = match self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(e) if is_busy(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut outcomes = Vec::with_capacity(ops.len());
        for op in ops {
            outcomes.push(apply_one(&tx, op, self.kine_schema)?);
        }
        match tx.commit() {
            Ok(()) => Ok(Some(outcomes)),
            Err(e) if is_busy(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One compare-and-swap write inside an open transaction.
fn apply_one(conn: &Connection, op: &Op, kine_schema: bool) -> rusqlite::Result<Outcome> {
    let (key, value, expected, create) = match op {
        Op::Create { key, value } => (key, value, 0, true),
        Op::Update {
            key,
            value,
            expected,
        } => (key, value, *expected, false),
    };
    let latest: Option<(i64, i64, i64, i64)> = conn
        .prepare_cached(LATEST)?
        .query_row(params![key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let live = latest.filter(|&(_, _, _, deleted)| deleted == 0);
    let (create_revision, prev_revision) = match (create, live) {
        (true, None) => (0, latest.map_or(0, |l| l.0)),
        (true, Some((id, ..))) => return Ok(Outcome::Conflict(id)),
        (false, None) => return Ok(Outcome::Conflict(0)),
        (false, Some((id, created, create_revision, _))) => {
            if id != expected {
                return Ok(Outcome::Conflict(id));
            }
            (if created != 0 { id } else { create_revision }, id)
        }
    };
    let sql = if kine_schema {
        INSERT_KINE
    } else {
        INSERT_MINIMAL
    };
    conn.prepare_cached(sql)?.execute(params![
        key,
        i64::from(create),
        create_revision,
        prev_revision,
        value.as_ref()
    ])?;
    Ok(Outcome::Done(conn.last_insert_rowid()))
}

impl Writer for Sqlite {
    fn create(&mut self, key: &str, value: &Bytes) -> Result<Outcome> {
        let op = Op::Create {
            key: key.into(),
            value: value.clone(),
        };
        single(self.transact(&[op])?)
    }

    fn update(&mut self, key: &str, value: &Bytes, expected: i64) -> Result<Outcome> {
        let op = Op::Update {
            key: key.into(),
            value: value.clone(),
            expected,
        };
        single(self.transact(&[op])?)
    }
}

/// The outcome of a one-write transaction (`None`: refused as busy).
fn single(outcomes: Option<Vec<Outcome>>) -> Result<Outcome> {
    match outcomes {
        None => Ok(Outcome::Busy),
        Some(o) => o
            .first()
            .copied()
            .ok_or_else(|| anyhow::anyhow!("no outcome for a write")),
    }
}

impl BatchApply for Sqlite {
    fn apply(&mut self, ops: &[Op]) -> Result<Vec<Outcome>> {
        // The committer is the only writer, so busy can only come from a checkpoint; retry.
        for _ in 0..1000 {
            if let Some(outcomes) = self.transact(ops)? {
                return Ok(outcomes);
            }
        }
        bail!("SQLite stayed busy for 1000 attempts")
    }
}

/// The newest revision.
pub fn current_revision(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM kine", [], |r| r.get(0))?)
}

/// Rows in the table.
pub fn row_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM kine", [], |r| r.get(0))?)
}

/// kine's compaction up to `target`: one transaction per `batch` revisions, then a FULL WAL
/// checkpoint. Returns (rows deleted, transactions).
pub fn compact_kine(conn: &mut Connection, target: i64, batch: i64) -> Result<(u64, u64)> {
    let mut at = 0;
    let mut deleted = 0u64;
    let mut transactions = 0u64;
    while at < target {
        at = (at + batch.max(1)).min(target);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        deleted += tx.execute(COMPACT, params![at])? as u64;
        tx.commit()?;
        transactions += 1;
    }
    checkpoint(conn, "FULL")?;
    Ok((deleted, transactions))
}

/// `PRAGMA wal_checkpoint(mode)`; fails if it could not complete.
pub fn checkpoint(conn: &Connection, mode: &str) -> Result<()> {
    let (busy, _log, _done): (i64, i64, i64) =
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if busy != 0 {
        bail!("wal_checkpoint({mode}) could not complete (busy)");
    }
    Ok(())
}

/// `VACUUM` (rewrites the file without its free pages), then a TRUNCATE checkpoint so the
/// WAL it went through is given back too.
pub fn vacuum(conn: &Connection) -> Result<()> {
    conn.execute_batch("VACUUM")?;
    checkpoint(conn, "TRUNCATE")
}
