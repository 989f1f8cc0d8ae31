//! What becomes of an event before it is written, as client-go's event correlator decides
//! (pure; the time is passed in):
//!
//! - spam filter: per involved object a token bucket of 25 that refills
//!   one token every 5 minutes; an event without a token is dropped;
//! - aggregation: once an object has had more than 10 events of one type and reason with
//!   different messages within 10 minutes, further ones are folded into a single event
//!   whose message starts with `(combined from similar events): `;
//! - deduplication: a repeat of an event already written bumps its `count`.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};

const BURST: f64 = 25.0;
const REFILL_EVERY: SignedDuration = SignedDuration::from_secs(300);
const AGGREGATE_AFTER: usize = 10;
const AGGREGATE_WINDOW: SignedDuration = SignedDuration::from_secs(600);
/// Entries kept before the tables are cleared (bounds memory).
const MAX_ENTRIES: usize = 4096;

/// The prefix of an aggregated event's message.
pub const COMBINED_PREFIX: &str = "(combined from similar events): ";

/// What to write for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Dropped by the spam filter.
    Drop,
    /// A new Event object.
    Create { name: String, message: String },
    /// An existing Event gets this count and message (a combined event shows the latest).
    Bump {
        name: String,
        count: i32,
        message: String,
    },
}

type Group = (String, &'static str, String);

#[derive(Default)]
pub struct Correlator {
    buckets: HashMap<String, (f64, Timestamp)>,
    similar: HashMap<Group, (Timestamp, HashSet<String>)>,
    written: HashMap<(Group, String), (String, i32)>,
}

impl Correlator {
    /// Decides about an event of `kind` and `reason` about the object with `uid` named
    /// `object_name`, at `now`.
    pub fn observe(
        &mut self,
        uid: &str,
        object_name: &str,
        kind: &'static str,
        reason: &str,
        message: &str,
        now: Timestamp,
    ) -> Decision {
        if self.written.len() > MAX_ENTRIES {
            self.written.clear();
            self.similar.clear();
        }
        if self.buckets.len() > MAX_ENTRIES {
            self.buckets.clear();
        }
        let group: Group = (uid.to_string(), kind, reason.to_string());
        let (tokens, last) = self.buckets.entry(uid.to_string()).or_insert((BURST, now));
        let refill = now.duration_since(*last).as_secs_f64() / REFILL_EVERY.as_secs_f64();
        *tokens = (*tokens + refill.max(0.0)).min(BURST);
        *last = now;
        if *tokens < 1.0 {
            return Decision::Drop;
        }
        *tokens -= 1.0;

        let (since, messages) = self
            .similar
            .entry(group.clone())
            .or_insert_with(|| (now, HashSet::new()));
        if now.duration_since(*since) > AGGREGATE_WINDOW {
            *since = now;
            messages.clear();
        }
        messages.insert(message.to_string());
        let message = if messages.len() > AGGREGATE_AFTER {
            format!("{COMBINED_PREFIX}{message}")
        } else {
            message.to_string()
        };
        let key_message = if message.starts_with(COMBINED_PREFIX) {
            COMBINED_PREFIX.to_string()
        } else {
            message.clone()
        };
        match self.written.get_mut(&(group.clone(), key_message.clone())) {
            Some((name, count)) => {
                *count += 1;
                Decision::Bump {
                    name: name.clone(),
                    count: *count,
                    message,
                }
            }
            None => {
                let name = format!("{object_name}.{:x}", now.as_nanosecond() as u64);
                self.written.insert((group, key_message), (name.clone(), 1));
                Decision::Create { name, message }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    #[test]
    fn repeats_bump_the_count() {
        let mut c = Correlator::default();
        let Decision::Create { name, .. } = c.observe("u", "rs", "Normal", "R", "m", t(0)) else {
            panic!("first event is created")
        };
        assert_eq!(
            c.observe("u", "rs", "Normal", "R", "m", t(1)),
            Decision::Bump {
                name,
                count: 2,
                message: "m".into()
            }
        );
    }

    #[test]
    fn similar_messages_are_combined_after_ten() {
        let mut c = Correlator::default();
        for i in 0..10 {
            let d = c.observe(
                "u",
                "rs",
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: p{i}"),
                t(0),
            );
            assert!(matches!(d, Decision::Create { .. }));
        }
        let Decision::Create { message, name } = c.observe(
            "u",
            "rs",
            "Normal",
            "SuccessfulCreate",
            "Created pod: p10",
            t(0),
        ) else {
            panic!("the eleventh is a combined event")
        };
        assert_eq!(message, "(combined from similar events): Created pod: p10");
        assert_eq!(
            c.observe(
                "u",
                "rs",
                "Normal",
                "SuccessfulCreate",
                "Created pod: p11",
                t(0)
            ),
            Decision::Bump {
                name,
                count: 2,
                message: "(combined from similar events): Created pod: p11".into()
            }
        );
    }

    #[test]
    fn spam_is_dropped_after_a_burst_of_25_and_refills_slowly() {
        let mut c = Correlator::default();
        let kept = (0..100)
            .filter(|i| {
                c.observe("u", "rs", "Normal", "R", &format!("m{i}"), t(0)) != Decision::Drop
            })
            .count();
        assert_eq!(kept, 25);
        assert_eq!(
            c.observe("u", "rs", "Normal", "R", "x", t(10)),
            Decision::Drop
        );
        assert_ne!(
            c.observe("u", "rs", "Normal", "R", "x", t(310)),
            Decision::Drop
        );
        // Another object has its own bucket.
        assert_ne!(
            c.observe("v", "rs2", "Normal", "R", "x", t(310)),
            Decision::Drop
        );
    }
}
