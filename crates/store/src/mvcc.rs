//! The multi-version state every in-process backend shares: each key's versions, the event
//! history watchers replay from, the current, visible and compacted revisions. Pure data
//! structure: no IO, no locks, no clock. The memory backend is exactly this behind a lock; the
//! embedded backend adds a write-ahead log in front of it.
//!
//! A write is applied at once (so later writes in the same group commit see it) but stays
//! invisible to readers and watchers until [`MvccState::publish`] moves the visible revision
//! past it, which the embedded backend does only once the write is durable.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use crate::{Error, Event, EventKind, KeyValue, RangeRequest, RangeResponse, Result};

/// One write, as a caller asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    Create {
        key: String,
        value: Bytes,
    },
    Update {
        key: String,
        value: Bytes,
        expected: i64,
    },
    Delete {
        key: String,
        expected: Option<i64>,
    },
}

impl WriteOp {
    /// The key the write touches.
    pub fn key(&self) -> &str {
        match self {
            WriteOp::Create { key, .. } | WriteOp::Update { key, .. } => key,
            WriteOp::Delete { key, .. } => key,
        }
    }
}

/// One version of a key: a value, or a tombstone left by a delete.
#[derive(Debug, Clone)]
struct Version {
    mod_revision: i64,
    create_revision: i64,
    value: Option<Bytes>,
}

/// The whole multi-version state.
#[derive(Debug, Default)]
pub struct MvccState {
    keys: BTreeMap<String, Vec<Version>>,
    /// Every change with revision >= `compacted`, oldest first.
    history: VecDeque<Event>,
    /// Revision of the newest applied write.
    current: i64,
    /// Revision of the newest write readers may see.
    visible: i64,
    /// Reads and watches before this revision fail with `Compacted`.
    compacted: i64,
    /// Bytes of keys and values of the newest version of every live key.
    live_bytes: u64,
    live_keys: u64,
    /// Bytes of keys and values of the changes in `history`.
    history_bytes: u64,
}

impl MvccState {
    /// An empty state at revision `revision` (a restored snapshot starts above 0).
    pub fn at_revision(revision: i64) -> Self {
        MvccState {
            current: revision,
            visible: revision,
            compacted: revision,
            ..Default::default()
        }
    }

    pub fn current_revision(&self) -> i64 {
        self.current
    }

    pub fn visible_revision(&self) -> i64 {
        self.visible
    }

    pub fn compacted_revision(&self) -> i64 {
        self.compacted
    }

    /// Bytes of live keys and values (what a checkpoint of the current state holds).
    pub fn live_bytes(&self) -> u64 {
        self.live_bytes
    }

    pub fn live_keys(&self) -> u64 {
        self.live_keys
    }

    /// Bytes of keys and values of the changes kept in history.
    pub fn history_bytes(&self) -> u64 {
        self.history_bytes
    }

    /// Number of changes kept in history.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// The key's newest visible value.
    pub fn get(&self, key: &str) -> Option<KeyValue> {
        let versions = self.keys.get(key)?;
        let v = versions
            .iter()
            .rev()
            .find(|v| v.mod_revision <= self.visible)?;
        to_kv(key, v)
    }

    /// Keys under a prefix at a revision (0: the visible one).
    pub fn range(&self, req: &RangeRequest) -> Result<RangeResponse> {
        let revision = self.check_read_revision(req.revision)?;
        let mut kvs = Vec::new();
        let mut more = false;
        let start = match &req.continue_after {
            Some(after) if after.as_str() >= req.prefix.as_str() => {
                std::ops::Bound::Excluded(after.clone())
            }
            _ => std::ops::Bound::Included(req.prefix.clone()),
        };
        for (key, versions) in self.keys.range((start, std::ops::Bound::Unbounded)) {
            if !key.starts_with(&req.prefix) {
                break;
            }
            let Some(v) = versions.iter().rev().find(|v| v.mod_revision <= revision) else {
                continue;
            };
            let Some(kv) = to_kv(key, v) else { continue };
            if req.limit > 0 && kvs.len() == req.limit {
                more = true;
                break;
            }
            kvs.push(kv);
        }
        Ok(RangeResponse {
            kvs,
            revision,
            more,
        })
    }

    /// Resolves a requested read revision (0: visible) and checks it is still readable.
    pub fn check_read_revision(&self, requested: i64) -> Result<i64> {
        let revision = if requested <= 0 {
            self.visible
        } else {
            requested
        };
        if revision > self.visible {
            return Err(Error::FutureRevision {
                requested,
                current: self.visible,
            });
        }
        if revision < self.compacted {
            return Err(Error::Compacted {
                requested,
                compacted: self.compacted,
            });
        }
        Ok(revision)
    }

    /// The visible changes under `prefix` with revision >= `from`, for a new watcher.
    /// `from` = 0 means "only what comes next" and returns nothing.
    pub fn backlog(&self, prefix: &str, from: i64) -> Result<Vec<Event>> {
        if from <= 0 || from > self.visible {
            return Ok(Vec::new());
        }
        // History is contiguous (one change per revision) from its first entry on; a state
        // loaded from a checkpoint has no change for its compacted revision itself.
        let oldest = self
            .history
            .front()
            .map_or(self.visible + 1, Event::revision)
            .max(self.compacted);
        if from < oldest {
            return Err(Error::Compacted {
                requested: from,
                compacted: oldest,
            });
        }
        let skip = self.history.partition_point(|e| e.revision() < from);
        Ok(self
            .history
            .iter()
            .skip(skip)
            .take_while(|e| e.revision() <= self.visible)
            .filter(|e| e.kv.key.starts_with(prefix))
            .cloned()
            .collect())
    }

    /// Checks `op` against the newest applied state and applies it at the next revision.
    /// On error the state is unchanged. The change stays invisible until `publish`.
    pub fn apply(&mut self, op: WriteOp) -> Result<Event> {
        let revision = self.current + 1;
        let latest = self.latest_applied(op.key());
        let event = match op {
            WriteOp::Create { key, value } => {
                if latest.is_some() {
                    return Err(Error::AlreadyExists(key));
                }
                let kv = KeyValue {
                    key,
                    value,
                    create_revision: revision,
                    mod_revision: revision,
                };
                Event {
                    kind: EventKind::Create,
                    kv,
                    prev_kv: None,
                }
            }
            WriteOp::Update {
                key,
                value,
                expected,
            } => {
                let Some(prev) = latest else {
                    return Err(Error::NotFound(key));
                };
                if prev.mod_revision != expected {
                    return Err(Error::Conflict {
                        key,
                        expected,
                        actual: prev.mod_revision,
                    });
                }
                let kv = KeyValue {
                    key,
                    value,
                    create_revision: prev.create_revision,
                    mod_revision: revision,
                };
                Event {
                    kind: EventKind::Update,
                    kv,
                    prev_kv: Some(prev),
                }
            }
            WriteOp::Delete { key, expected } => {
                let Some(prev) = latest else {
                    return Err(Error::NotFound(key));
                };
                if let Some(expected) = expected {
                    if prev.mod_revision != expected {
                        return Err(Error::Conflict {
                            key,
                            expected,
                            actual: prev.mod_revision,
                        });
                    }
                }
                Event {
                    kind: EventKind::Delete,
                    kv: tombstone(key, revision),
                    prev_kv: Some(prev),
                }
            }
        };
        self.replay(event.clone());
        Ok(event)
    }

    /// Applies a change that is known to be valid (from the write-ahead log or a checkpoint)
    /// at its own revision, which must follow the current one.
    pub fn replay(&mut self, event: Event) {
        let revision = event.revision();
        debug_assert!(revision > self.current, "replay out of order");
        let key = event.kv.key.clone();
        let version = Version {
            mod_revision: revision,
            create_revision: event.kv.create_revision,
            value: match event.kind {
                EventKind::Delete => None,
                _ => Some(event.kv.value.clone()),
            },
        };
        if let Some(prev) = &event.prev_kv {
            self.live_bytes -= (prev.key.len() + prev.value.len()) as u64;
            self.live_keys -= 1;
        }
        if event.kind != EventKind::Delete {
            self.live_bytes += (key.len() + event.kv.value.len()) as u64;
            self.live_keys += 1;
        }
        self.keys.entry(key).or_default().push(version);
        self.history_bytes += event_bytes(&event);
        self.history.push_back(event);
        self.current = revision;
    }

    /// Builds the event a logged change stands for: the logged put or delete plus the previous
    /// value, which the log does not repeat.
    pub fn event_for(&self, key: String, revision: i64, value: Option<Bytes>) -> Event {
        let prev_kv = self.latest_applied(&key);
        match value {
            Some(value) => {
                let (kind, create_revision) = match &prev_kv {
                    Some(prev) => (EventKind::Update, prev.create_revision),
                    None => (EventKind::Create, revision),
                };
                Event {
                    kind,
                    kv: KeyValue {
                        key,
                        value,
                        create_revision,
                        mod_revision: revision,
                    },
                    prev_kv,
                }
            }
            None => Event {
                kind: EventKind::Delete,
                kv: tombstone(key, revision),
                prev_kv,
            },
        }
    }

    /// Makes every applied write visible; returns the changes that just became visible.
    pub fn publish(&mut self) -> Vec<Event> {
        let from = self.visible + 1;
        self.visible = self.current;
        let skip = self.history.partition_point(|e| e.revision() < from);
        self.history.iter().skip(skip).cloned().collect()
    }

    /// Drops history before `revision`, keeping each key's version as of `revision`.
    /// A revision at or below the compacted one is a no-op.
    pub fn compact(&mut self, revision: i64) -> Result<()> {
        if revision > self.visible {
            return Err(Error::FutureRevision {
                requested: revision,
                current: self.visible,
            });
        }
        if revision <= self.compacted {
            return Ok(());
        }
        self.keys.retain(|_, versions| {
            // Index of the version in force at `revision`, if any.
            let in_force = versions.partition_point(|v| v.mod_revision <= revision);
            if in_force == 0 {
                return true;
            }
            let keep_from = if versions[in_force - 1].value.is_none() {
                in_force
            } else {
                in_force - 1
            };
            versions.drain(..keep_from);
            !versions.is_empty()
        });
        while self
            .history
            .front()
            .is_some_and(|e| e.revision() < revision)
        {
            if let Some(e) = self.history.pop_front() {
                self.history_bytes -= event_bytes(&e);
            }
        }
        self.compacted = revision;
        Ok(())
    }

    /// Makes every applied write visible without collecting them (replay at open, where no
    /// watcher exists yet).
    pub fn mark_visible(&mut self) {
        self.visible = self.current;
    }

    /// The kept changes with revision > `after`, oldest first.
    pub fn history_after(&self, after: i64) -> impl Iterator<Item = &Event> {
        let skip = self.history.partition_point(|e| e.revision() <= after);
        self.history.iter().skip(skip)
    }

    /// Every live key as of `revision` (a checkpoint's content), in key order.
    pub fn snapshot_at(&self, revision: i64) -> Vec<KeyValue> {
        self.keys
            .iter()
            .filter_map(|(key, versions)| {
                let v = versions.iter().rev().find(|v| v.mod_revision <= revision)?;
                to_kv(key, v)
            })
            .collect()
    }

    /// Loads a key as it was in a checkpoint (no event, no history).
    pub fn load(&mut self, kv: KeyValue) {
        self.live_bytes += (kv.key.len() + kv.value.len()) as u64;
        self.live_keys += 1;
        self.keys.insert(
            kv.key,
            vec![Version {
                mod_revision: kv.mod_revision,
                create_revision: kv.create_revision,
                value: Some(kv.value),
            }],
        );
    }

    /// The key's newest applied value, visible or not.
    fn latest_applied(&self, key: &str) -> Option<KeyValue> {
        let v = self.keys.get(key)?.last()?;
        to_kv(key, v)
    }
}

fn to_kv(key: &str, v: &Version) -> Option<KeyValue> {
    Some(KeyValue {
        key: key.to_string(),
        value: v.value.clone()?,
        create_revision: v.create_revision,
        mod_revision: v.mod_revision,
    })
}

fn event_bytes(e: &Event) -> u64 {
    (e.kv.key.len() + e.kv.value.len()) as u64
}

fn tombstone(key: String, revision: i64) -> KeyValue {
    KeyValue {
        key,
        value: Bytes::new(),
        create_revision: 0,
        mod_revision: revision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(s: &mut MvccState, key: &str, value: &str) -> i64 {
        let op = match s.latest_applied(key) {
            Some(kv) => WriteOp::Update {
                key: key.into(),
                value: Bytes::from(value.to_string()),
                expected: kv.mod_revision,
            },
            None => WriteOp::Create {
                key: key.into(),
                value: Bytes::from(value.to_string()),
            },
        };
        let rev = s.apply(op).unwrap().revision();
        s.publish();
        rev
    }

    #[test]
    fn unpublished_writes_are_invisible() {
        let mut s = MvccState::default();
        s.apply(WriteOp::Create {
            key: "a".into(),
            value: Bytes::from_static(b"1"),
        })
        .unwrap();
        assert_eq!(s.get("a"), None);
        assert_eq!(s.backlog("", 1).unwrap(), vec![]);
        let published = s.publish();
        assert_eq!(published.len(), 1);
        assert_eq!(s.get("a").unwrap().mod_revision, 1);
    }

    #[test]
    fn compaction_keeps_the_version_in_force_and_drops_tombstones() {
        let mut s = MvccState::default();
        put(&mut s, "a", "1");
        put(&mut s, "a", "2");
        put(&mut s, "b", "1");
        let d = s
            .apply(WriteOp::Delete {
                key: "b".into(),
                expected: None,
            })
            .unwrap();
        s.publish();
        s.compact(d.revision()).unwrap();
        assert_eq!(s.keys.len(), 1);
        assert_eq!(s.keys["a"].len(), 1);
        assert_eq!(s.get("a").unwrap().value, Bytes::from_static(b"2"));
        assert_eq!(s.live_keys(), 1);
        assert_eq!(s.live_bytes(), 2);
        assert!(matches!(
            s.check_read_revision(2),
            Err(Error::Compacted { .. })
        ));
    }

    #[test]
    fn event_for_rebuilds_prev_kv() {
        let mut s = MvccState::default();
        put(&mut s, "a", "1");
        let e = s.event_for("a".into(), 2, Some(Bytes::from_static(b"2")));
        assert_eq!(e.kind, EventKind::Update);
        assert_eq!(e.kv.create_revision, 1);
        assert_eq!(e.prev_kv.unwrap().value, Bytes::from_static(b"1"));
    }
}
