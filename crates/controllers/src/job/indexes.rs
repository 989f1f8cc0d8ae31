//! Completion indexes of Indexed Jobs as ordered intervals, the form of
//! `.status.completedIndexes` (`"1,3-5,7"`): parsing, merging, printing, membership and
//! the first indexes still to run. Pure (upstream's `orderedIntervals`).

use std::collections::BTreeSet;
use std::fmt;

/// Disjoint, ordered, non-adjacent intervals of indexes (inclusive bounds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intervals(pub Vec<(i64, i64)>);

impl Intervals {
    /// Parses `.status.completedIndexes`, ignoring corrupt parts and indexes from
    /// `completions` on, as upstream does.
    pub fn parse(s: &str, completions: i64) -> Intervals {
        let mut out: Vec<(i64, i64)> = Vec::new();
        if s.is_empty() {
            return Intervals(out);
        }
        for part in s.split(',') {
            let mut limits = part.split('-');
            let Some(first) = limits.next().and_then(|x| x.parse::<i64>().ok()) else {
                continue;
            };
            if first >= completions {
                break;
            }
            let last = match limits.next() {
                Some(l) => match l.parse::<i64>() {
                    Ok(l) => l.min(completions - 1),
                    Err(_) => continue,
                },
                None => first,
            };
            match out.last_mut() {
                Some(prev) if prev.1 == first - 1 => prev.1 = last,
                _ => out.push((first, last)),
            }
        }
        Intervals(out)
    }

    /// These intervals plus `new` (ascending indexes).
    pub fn with_indexes(&self, new: impl IntoIterator<Item = i64>) -> Intervals {
        let other = Intervals(new.into_iter().map(|i| (i, i)).collect());
        self.merge(&other)
    }

    /// The union of two interval lists.
    pub fn merge(&self, other: &Intervals) -> Intervals {
        let mut all: Vec<(i64, i64)> = self.0.iter().chain(other.0.iter()).copied().collect();
        all.sort_by_key(|iv| iv.0);
        let mut out: Vec<(i64, i64)> = Vec::new();
        for iv in all {
            match out.last_mut() {
                Some(last) if iv.0 <= last.1 + 1 => last.1 = last.1.max(iv.1),
                _ => out.push(iv),
            }
        }
        Intervals(out)
    }

    /// How many indexes the intervals hold.
    pub fn total(&self) -> i64 {
        self.0.iter().map(|(a, b)| b - a + 1).sum()
    }

    pub fn has(&self, ix: i64) -> bool {
        let i = self.0.partition_point(|iv| iv.1 < ix);
        i < self.0.len() && self.0[i].0 <= ix
    }
}

impl fmt::Display for Intervals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (a, b)) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
            if b > a {
                let sep = if *b == a + 1 { "," } else { "-" };
                write!(f, "{sep}{b}")?;
            }
        }
        Ok(())
    }
}

/// The first `count` indexes below `completions` that are neither done nor taken by an
/// active (or, when only failed pods are replaced, terminating) pod.
pub fn first_pending(
    done: &Intervals,
    taken: &BTreeSet<i64>,
    count: usize,
    completions: i64,
) -> Vec<i64> {
    let mut out = Vec::new();
    if count == 0 {
        return out;
    }
    let non_pending = done.with_indexes(taken.iter().copied());
    let mut candidate = 0;
    for (first, last) in &non_pending.0 {
        while candidate < completions && out.len() < count && candidate < *first {
            out.push(candidate);
            candidate += 1;
        }
        if candidate < last + 1 {
            candidate = last + 1;
        }
    }
    while candidate < completions && out.len() < count {
        out.push(candidate);
        candidate += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_like_upstream() {
        let iv = Intervals::parse("0,2-4,6", 10);
        assert_eq!(iv.0, vec![(0, 0), (2, 4), (6, 6)]);
        assert_eq!(iv.to_string(), "0,2-4,6");
        assert_eq!(iv.total(), 5);
        // Adjacent parts join; a pair prints with a comma.
        assert_eq!(Intervals::parse("1,2", 10).to_string(), "1,2");
        assert_eq!(Intervals::parse("1,2", 10).0, vec![(1, 2)]);
        // Cut at completions; corrupt parts skipped.
        assert_eq!(Intervals::parse("0-9", 5).to_string(), "0-4");
        assert_eq!(Intervals::parse("x,3", 5).to_string(), "3");
        assert_eq!(Intervals::parse("", 5).to_string(), "");
    }

    #[test]
    fn merges_and_finds() {
        let iv = Intervals::parse("1,5-6", 10).with_indexes([2, 3, 8]);
        assert_eq!(iv.to_string(), "1-3,5,6,8");
        assert!(iv.has(2) && iv.has(6) && iv.has(8));
        assert!(!iv.has(0) && !iv.has(4) && !iv.has(7) && !iv.has(9));
    }

    #[test]
    fn pending_indexes_skip_done_and_active() {
        let done = Intervals::parse("0,3", 6);
        let taken: BTreeSet<i64> = [1].into();
        assert_eq!(first_pending(&done, &taken, 2, 6), vec![2, 4]);
        assert_eq!(first_pending(&done, &taken, 10, 6), vec![2, 4, 5]);
        assert!(first_pending(&done, &taken, 0, 6).is_empty());
    }
}
