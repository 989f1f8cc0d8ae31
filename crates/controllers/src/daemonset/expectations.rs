//! Upstream's `ControllerExpectations` as the DaemonSet controller uses them: after creating
//! or deleting pods, a DaemonSet waits until the watch has shown it that many creations and
//! deletions (or five minutes passed) before it decides again, so it never acts twice on a
//! stale cache. Times are passed in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// After this long unmet expectations no longer hold a DaemonSet back.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy)]
struct Expected {
    adds: i64,
    dels: i64,
    at: Instant,
}

/// Expectations per DaemonSet key.
#[derive(Debug, Default)]
pub struct Expectations {
    inner: Mutex<HashMap<String, Expected>>,
}

impl Expectations {
    /// Whether `key` may act: nothing recorded, everything seen, or expired.
    pub fn satisfied(&self, key: &str, now: Instant) -> bool {
        match self.inner.lock().get(key) {
            None => true,
            Some(e) => {
                (e.adds <= 0 && e.dels <= 0)
                    || now.saturating_duration_since(e.at) > EXPECTATIONS_TIMEOUT
            }
        }
    }

    /// Expects `adds` creations and `dels` deletions.
    pub fn set(&self, key: &str, adds: usize, dels: usize, now: Instant) {
        self.inner.lock().insert(
            key.to_string(),
            Expected {
                adds: adds as i64,
                dels: dels as i64,
                at: now,
            },
        );
    }

    /// One creation seen (or one that will never come: its create failed).
    pub fn creation_observed(&self, key: &str) {
        self.lower(key, 1, 0);
    }

    /// One deletion seen (or one that will never come).
    pub fn deletion_observed(&self, key: &str) {
        self.lower(key, 0, 1);
    }

    pub fn lower(&self, key: &str, adds: usize, dels: usize) {
        if let Some(e) = self.inner.lock().get_mut(key) {
            e.adds -= adds as i64;
            e.dels -= dels as i64;
        }
    }

    /// Forgets `key` (its DaemonSet is gone).
    pub fn forget(&self, key: &str) {
        self.inner.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_observations_or_timeout() {
        let e = Expectations::default();
        let t = Instant::now();
        assert!(e.satisfied("a", t));
        e.set("a", 2, 1, t);
        assert!(!e.satisfied("a", t));
        e.creation_observed("a");
        e.creation_observed("a");
        assert!(!e.satisfied("a", t));
        e.deletion_observed("a");
        assert!(e.satisfied("a", t));
        e.set("a", 1, 0, t);
        assert!(e.satisfied("a", t + EXPECTATIONS_TIMEOUT + Duration::from_secs(1)));
        e.forget("a");
        assert!(e.satisfied("a", t));
    }
}
