//! Durations and ages as upstream prints them (apimachinery's `duration.HumanDuration`:
//! about two significant figures, `5s`, `3m20s`, `4h`, `2d3h`, `3y120d`), and the
//! "time since" of an API timestamp (`<unknown>` when it is absent).

use std::time::Duration;

use jiff::Timestamp;

/// A Go `time.Duration`'s range, in nanoseconds: `time.Since` saturates to it.
const GO_DURATION_MAX: i128 = i64::MAX as i128;
const GO_DURATION_MIN: i128 = i64::MIN as i128;

const SECOND: i128 = 1_000_000_000;
const MINUTE: i128 = 60 * SECOND;
const HOUR: i128 = 60 * MINUTE;

/// `duration.HumanDuration` of a non-negative duration.
pub fn human_duration(d: Duration) -> String {
    human_nanos(i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

/// `duration.HumanDuration` of a signed duration in nanoseconds (clamped to Go's range). A
/// duration under -1s (a timestamp in the future beyond clock skew) is `<invalid>`, one
/// between -2s and 0 is `0s`.
pub(crate) fn human_nanos(nanos: i128) -> String {
    let d = nanos.clamp(GO_DURATION_MIN, GO_DURATION_MAX);
    // Go's int(d.Seconds()) truncates towards zero.
    let seconds = d / SECOND;
    if seconds < -1 {
        return "<invalid>".into();
    } else if seconds < 0 {
        return "0s".into();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = d / MINUTE;
    if minutes < 10 {
        let s = (d / SECOND) % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d / HOUR;
    if hours < 8 {
        let m = (d / MINUTE) % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// Nanoseconds from `from` to `to` (negative when `to` is earlier).
pub(crate) fn between(from: Timestamp, to: Timestamp) -> i128 {
    to.as_nanosecond() - from.as_nanosecond()
}

/// Upstream's `translateTimestampSince`: the human age of `ts` at `now`, `<unknown>` for an
/// absent (zero) timestamp.
pub(crate) fn since(ts: Option<Timestamp>, now: Timestamp) -> String {
    match ts {
        Some(ts) => human_nanos(between(ts, now)),
        None => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> String {
        human_duration(Duration::from_secs(s))
    }

    #[test]
    fn boundaries() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1s"),
            (59, "59s"),
            (60, "60s"),
            (119, "119s"),
            (120, "2m"),
            (121, "2m1s"),
            (200, "3m20s"),
            (599, "9m59s"),
            (600, "10m"),
            (659, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (4 * 3600, "4h"),
            (8 * 3600 - 1, "7h59m"),
            (8 * 3600, "8h"),
            (47 * 3600 + 3599, "47h"),
            (48 * 3600, "2d"),
            (51 * 3600, "2d3h"),
            (8 * 86400 - 1, "7d23h"),
            (8 * 86400, "8d"),
            (365 * 2 * 86400 - 1, "729d"),
            (365 * 2 * 86400, "2y"),
            (365 * 2 * 86400 + 86400, "2y1d"),
            (365 * 3 * 86400 + 120 * 86400, "3y120d"),
            (365 * 8 * 86400 - 1, "7y364d"),
            (365 * 8 * 86400, "8y"),
            (365 * 100 * 86400, "100y"),
        ];
        for (s, want) in cases {
            assert_eq!(secs(*s), *want, "{s}s");
        }
        assert_eq!(human_duration(Duration::from_millis(1999)), "1s");
        assert_eq!(
            human_duration(Duration::from_nanos(119_999_999_999)),
            "119s"
        );
        // Saturates like Go's time.Duration (about 292 years).
        assert_eq!(human_duration(Duration::MAX), "292y");
    }

    #[test]
    fn negative_durations() {
        assert_eq!(human_nanos(-1), "0s");
        assert_eq!(human_nanos(-SECOND), "0s");
        assert_eq!(human_nanos(-2 * SECOND + 1), "0s");
        assert_eq!(human_nanos(-2 * SECOND), "<invalid>");
        assert_eq!(human_nanos(i128::MIN), "<invalid>");
    }

    #[test]
    fn ages() {
        let now: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        let created: Timestamp = "2024-05-01T11:56:40Z".parse().unwrap();
        assert_eq!(since(Some(created), now), "3m20s");
        assert_eq!(since(None, now), "<unknown>");
        let future: Timestamp = "2024-05-01T12:00:05Z".parse().unwrap();
        assert_eq!(since(Some(future), now), "<invalid>");
    }
}
