//! What the Job controller is still waiting to see through the pod watch after its own
//! writes (upstream's `ControllerExpectations` and `uidTrackingExpectations`): how many
//! pod creations / deletions per Job, and which pods' tracking-finalizer removals. A Job
//! is not managed again until its creations and deletions are observed (or five minutes
//! passed), and a pod whose finalizer removal is in flight is never counted twice.
//! No IO; the time is a parameter.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use parking_lot::Mutex;
use skiff_runtime::ObjectKey;

/// Expectations older than this are considered met (a lost watch event cannot wedge a
/// Job forever).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct Counts {
    add: i64,
    del: i64,
    set_at: std::time::Instant,
}

/// Per-Job expectations, shared by the controller's workers and its watch handlers.
#[derive(Default)]
pub struct Expectations {
    counts: Mutex<HashMap<ObjectKey, Counts>>,
    finalizers: Mutex<HashMap<ObjectKey, HashSet<String>>>,
}

impl Expectations {
    /// Whether `key`'s creations and deletions were all observed (or never expected, or
    /// expected too long ago).
    pub fn satisfied(&self, key: &ObjectKey, now: std::time::Instant) -> bool {
        match self.counts.lock().get(key) {
            None => true,
            Some(c) => {
                (c.add <= 0 && c.del <= 0)
                    || now.saturating_duration_since(c.set_at) > EXPECTATIONS_TIMEOUT
            }
        }
    }

    /// Expects `add` creations and `del` deletions for `key` (replacing earlier ones).
    pub fn expect(&self, key: &ObjectKey, add: usize, del: usize, now: std::time::Instant) {
        self.counts.lock().insert(
            key.clone(),
            Counts {
                add: add as i64,
                del: del as i64,
                set_at: now,
            },
        );
    }

    pub fn creation_observed(&self, key: &ObjectKey) {
        if let Some(c) = self.counts.lock().get_mut(key) {
            c.add -= 1;
        }
    }

    pub fn deletion_observed(&self, key: &ObjectKey) {
        if let Some(c) = self.counts.lock().get_mut(key) {
            c.del -= 1;
        }
    }

    /// The Job is gone: forget everything about it.
    pub fn forget(&self, key: &ObjectKey) {
        self.counts.lock().remove(key);
        self.finalizers.lock().remove(key);
    }

    /// Pods of `key` whose finalizer removal is in flight.
    pub fn expected_finalizer_removals(&self, key: &ObjectKey) -> HashSet<String> {
        self.finalizers.lock().get(key).cloned().unwrap_or_default()
    }

    pub fn expect_finalizer_removed(&self, key: &ObjectKey, uid: &str) {
        self.finalizers
            .lock()
            .entry(key.clone())
            .or_default()
            .insert(uid.to_string());
    }

    pub fn finalizer_removal_observed(&self, key: &ObjectKey, uid: &str) {
        let mut f = self.finalizers.lock();
        if let Some(set) = f.get_mut(key) {
            set.remove(uid);
            if set.is_empty() {
                f.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn creations_and_deletions_must_be_observed() {
        let e = Expectations::default();
        let k = ObjectKey::new("ns", "j");
        let t = Instant::now();
        assert!(e.satisfied(&k, t));
        e.expect(&k, 2, 1, t);
        assert!(!e.satisfied(&k, t));
        e.creation_observed(&k);
        e.creation_observed(&k);
        assert!(!e.satisfied(&k, t));
        e.deletion_observed(&k);
        assert!(e.satisfied(&k, t));
        e.expect(&k, 1, 0, t);
        assert!(e.satisfied(&k, t + EXPECTATIONS_TIMEOUT + Duration::from_secs(1)));
    }

    #[test]
    fn finalizer_removals() {
        let e = Expectations::default();
        let k = ObjectKey::new("ns", "j");
        e.expect_finalizer_removed(&k, "a");
        e.expect_finalizer_removed(&k, "b");
        e.finalizer_removal_observed(&k, "a");
        assert_eq!(e.expected_finalizer_removals(&k), ["b".to_string()].into());
        e.forget(&k);
        assert!(e.expected_finalizer_removals(&k).is_empty());
    }
}
