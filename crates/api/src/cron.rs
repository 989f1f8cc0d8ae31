//! Cron schedules as the CronJob controller reads them: robfig/cron v3's `ParseStandard`
//! (five fields: minute, hour, day of month, month, day of week, with `*`, `?`, ranges,
//! steps, lists, month and weekday names; the descriptors `@yearly` `@annually` `@monthly`
//! `@weekly` `@daily` `@midnight` `@hourly` and `@every <duration>`; an optional `TZ=` /
//! `CRON_TZ=` prefix) and its `Next(t)`: the first activation strictly after `t`, walked
//! field by field in the schedule's time zone exactly as the Go library does it, including
//! its daylight-saving behaviour (a time inside a spring-forward gap is skipped that day; a
//! time inside a fall-back hour fires in both of its occurrences) and its day rule (when
//! both day of month and day of week are restricted, either one matching is enough).
//!
//! Pure: times are Unix seconds / [`jiff::Timestamp`]s, the zone database is jiff's.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The bit robfig/cron sets on a field written as `*` or `?` (without a step above 1).
const STAR_BIT: u64 = 1 << 63;

struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const MONTH_NAMES: &[(&str, u64)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];
const DAY_NAMES: &[(&str, u64)] = &[
    ("sun", 0),
    ("mon", 1),
    ("tue", 2),
    ("wed", 3),
    ("thu", 4),
    ("fri", 5),
    ("sat", 6),
];

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: MONTH_NAMES,
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: DAY_NAMES,
};

/// A parsed schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Field bit sets evaluated in a time zone.
    Spec(SpecSchedule),
    /// `@every <duration>`: fixed steps of whole seconds (at least one).
    Every { seconds: i64 },
}

/// The fields of a cron line as bit sets (bit n set: value n matches), as robfig/cron.
#[derive(Debug, Clone)]
pub struct SpecSchedule {
    pub second: u64,
    pub minute: u64,
    pub hour: u64,
    pub dom: u64,
    pub month: u64,
    pub dow: u64,
    pub tz: TimeZone,
}

fn bits(min: u64, max: u64, step: u64) -> u64 {
    if step == 1 {
        // All bits from min to max.
        let upper = if max >= 63 {
            u64::MAX
        } else {
            !(u64::MAX << (max + 1))
        };
        return upper & (u64::MAX << min);
    }
    let mut b = 0;
    let mut i = min;
    while i <= max {
        b |= 1 << i;
        i += step;
    }
    b
}

fn all(r: &Bounds) -> u64 {
    bits(r.min, r.max, 1) | STAR_BIT
}

/// Go's `strconv.Atoi` error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing \"{s}\": invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing \"{s}\": value out of range"))
}

fn must_parse_int(expr: &str) -> Result<u64, String> {
    let n = atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {expr}"));
    }
    Ok(n as u64)
}

fn parse_int_or_name(expr: &str, names: &[(&str, u64)]) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    if let Some((_, v)) = names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    must_parse_int(expr)
}

fn get_range(expr: &str, r: &Bounds) -> Result<u64, String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end);
    let mut extra = 0;
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        start = r.min;
        end = r.max;
        extra = STAR_BIT;
    } else {
        start = parse_int_or_name(low_and_high[0], r.names)?;
        end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], r.names)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let s = must_parse_int(range_and_step[1])?;
            if single {
                end = r.max;
            }
            if s > 1 {
                extra = 0;
            }
            s
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < r.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            r.min
        ));
    }
    if end > r.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            r.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(bits(start, end, step) | extra)
}

fn get_field(field: &str, r: &Bounds) -> Result<u64, String> {
    let mut b = 0;
    // Go's strings.FieldsFunc: empty parts between commas are dropped.
    for part in field.split(',').filter(|p| !p.is_empty()) {
        b |= get_range(part, r)?;
    }
    Ok(b)
}

/// Go's `time.ParseDuration`, in nanoseconds, with its error messages.
pub fn parse_go_duration(s: &str) -> Result<i128, String> {
    let quoted = format!("\"{s}\"");
    let invalid = || format!("time: invalid duration {quoted}");
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let int_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_end);
        let mut after = after;
        let mut frac_part = "";
        if let Some(r) = after.strip_prefix('.') {
            let fe = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            frac_part = &r[..fe];
            after = &r[fe..];
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(invalid());
            }
        } else if int_part.is_empty() {
            return Err(invalid());
        }
        let unit_end = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {quoted}"));
        }
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit \"{unit}\" in duration {quoted}"
                ))
            }
        };
        let whole: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse::<i128>().map_err(|_| invalid())?
        };
        let mut v = whole.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            let digits = frac_part.len().min(30) as u32;
            let f: i128 = frac_part[..digits as usize].parse().unwrap_or(0);
            v += f * scale / 10i128.pow(digits);
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > i64::MAX as i128 {
            return Err(invalid());
        }
        rest = next;
    }
    Ok(if neg { -total } else { total })
}

fn parse_descriptor(spec: &str, tz: TimeZone) -> Result<Schedule, String> {
    let hourly_or_more = |minute: u64, hour: u64, dom: u64, month: u64, dow: u64| {
        Schedule::Spec(SpecSchedule {
            second: 1,
            minute,
            hour,
            dom,
            month,
            dow,
            tz: tz.clone(),
        })
    };
    Ok(match spec {
        "@yearly" | "@annually" => hourly_or_more(1, 1, 1 << 1, 1 << 1, all(&DOW)),
        "@monthly" => hourly_or_more(1, 1, 1 << 1, all(&MONTHS), all(&DOW)),
        "@weekly" => hourly_or_more(1, 1, all(&DOM), all(&MONTHS), 1),
        "@daily" | "@midnight" => hourly_or_more(1, 1, all(&DOM), all(&MONTHS), all(&DOW)),
        "@hourly" => hourly_or_more(1, all(&HOURS), all(&DOM), all(&MONTHS), all(&DOW)),
        _ => match spec.strip_prefix("@every ") {
            Some(d) => {
                let nanos = parse_go_duration(d)
                    .map_err(|e| format!("failed to parse duration {spec}: {e}"))?;
                // cron.Every: at least a second, whole seconds.
                let seconds = (nanos / 1_000_000_000).max(1) as i64;
                Schedule::Every { seconds }
            }
            None => return Err(format!("unrecognized descriptor: {spec}")),
        },
    })
}

/// `cron.ParseStandard(spec)`; `local` is what Go calls `time.Local` (the zone used when
/// the spec names none).
pub fn parse_standard(spec: &str, local: &TimeZone) -> Result<Schedule, String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut spec = spec;
    let mut tz = local.clone();
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let (Some(i), Some(eq)) = (spec.find(' '), spec.find('=')) else {
            return Err(format!(
                "provided bad location {spec}: unknown time zone {spec}"
            ));
        };
        let name = spec.get(eq + 1..i).unwrap_or("");
        tz = load_location(name).map_err(|e| format!("provided bad location {name}: {e}"))?;
        spec = spec[i..].trim();
    }
    if spec.starts_with('@') {
        return parse_descriptor(spec, tz);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    Ok(Schedule::Spec(SpecSchedule {
        second: 1,
        minute: get_field(fields[0], &MINUTES)?,
        hour: get_field(fields[1], &HOURS)?,
        dom: get_field(fields[2], &DOM)?,
        month: get_field(fields[3], &MONTHS)?,
        dow: get_field(fields[4], &DOW)?,
        tz,
    }))
}

/// Go's `time.LoadLocation`: "" and "UTC" are UTC, anything else an IANA name; the error
/// is Go's text.
pub fn load_location(name: &str) -> Result<TimeZone, String> {
    match name {
        "" | "UTC" => Ok(TimeZone::UTC),
        "Local" => Ok(TimeZone::system()),
        _ => TimeZone::get(name).map_err(|_| format!("unknown time zone {name}")),
    }
}

/// Civil fields of an instant in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    weekday: i64,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn offset_at(tz: &TimeZone, unix: i64) -> Option<i64> {
    let ts = Timestamp::from_second(unix).ok()?;
    Some(i64::from(tz.to_offset(ts).seconds()))
}

fn fields(tz: &TimeZone, unix: i64) -> Option<Fields> {
    let local = unix.checked_add(offset_at(tz, unix)?)?;
    let days = local.div_euclid(86400);
    let secs = local.rem_euclid(86400);
    let (year, month, day) = civil_from_days(days);
    Some(Fields {
        year,
        month,
        day,
        hour: secs / 3600,
        minute: secs % 3600 / 60,
        second: secs % 60,
        weekday: (days + 4).rem_euclid(7),
    })
}

/// Go's `time.Date(y, m, d, h, min, s, 0, loc)`: out-of-range fields carry over, and a
/// wall time that a transition skips or repeats resolves as Go resolves it.
fn go_date(tz: &TimeZone, y: i64, m: i64, d: i64, h: i64, min: i64, s: i64) -> Option<i64> {
    let m0 = m.checked_sub(1)?;
    let y = y.checked_add(m0.div_euclid(12))?;
    let m = m0.rem_euclid(12) + 1;
    let days = days_from_civil(y, m, 1).checked_add(d.checked_sub(1)?)?;
    let unix = days
        .checked_mul(86400)?
        .checked_add(h * 3600 + min * 60 + s)?;
    let first = offset_at(tz, unix)?;
    let utc = unix - first;
    let second = offset_at(tz, utc)?;
    Some(if second == first { utc } else { unix - second })
}

impl SpecSchedule {
    fn day_matches(&self, f: &Fields) -> bool {
        let dom = self.dom & (1 << f.day) != 0;
        let dow = self.dow & (1 << f.weekday) != 0;
        if self.dom & STAR_BIT != 0 || self.dow & STAR_BIT != 0 {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// robfig/cron's `SpecSchedule.Next` on Unix seconds; `None` where Go returns the zero
    /// time (no activation within five years).
    fn next_unix(&self, start: i64) -> Option<i64> {
        let tz = &self.tz;
        let mut t = start.checked_add(1)?;
        let mut added = false;
        let year_limit = fields(tz, t)?.year + 5;
        // A bound on the walk, in case a zone's rules ever made it go in circles.
        let mut steps = 0u32;
        'wrap: loop {
            steps += 1;
            if steps > 10_000 {
                return None;
            }
            let mut f = fields(tz, t)?;
            if f.year > year_limit {
                return None;
            }
            while self.month & (1 << f.month) == 0 {
                if !added {
                    added = true;
                    t = go_date(tz, f.year, f.month, 1, 0, 0, 0)?;
                    f = fields(tz, t)?;
                }
                t = go_date(tz, f.year, f.month + 1, f.day, f.hour, f.minute, f.second)?;
                f = fields(tz, t)?;
                if f.month == 1 {
                    continue 'wrap;
                }
            }
            while !self.day_matches(&f) {
                if !added {
                    added = true;
                    t = go_date(tz, f.year, f.month, f.day, 0, 0, 0)?;
                    f = fields(tz, t)?;
                }
                t = go_date(tz, f.year, f.month, f.day + 1, f.hour, f.minute, f.second)?;
                f = fields(tz, t)?;
                // Midnight moved by a transition: back to 00:00 of the right day.
                if f.hour != 0 {
                    if f.hour > 12 {
                        t += (24 - f.hour) * 3600;
                    } else {
                        t -= f.hour * 3600;
                    }
                    f = fields(tz, t)?;
                }
                if f.day == 1 {
                    continue 'wrap;
                }
                steps += 1;
                if steps > 10_000 {
                    return None;
                }
            }
            while self.hour & (1 << f.hour) == 0 {
                if !added {
                    added = true;
                    t = go_date(tz, f.year, f.month, f.day, f.hour, 0, 0)?;
                }
                t += 3600;
                f = fields(tz, t)?;
                if f.hour == 0 {
                    continue 'wrap;
                }
            }
            while self.minute & (1 << f.minute) == 0 {
                if !added {
                    added = true;
                    t -= t.rem_euclid(60);
                }
                t += 60;
                f = fields(tz, t)?;
                if f.minute == 0 {
                    continue 'wrap;
                }
            }
            while self.second & (1 << f.second) == 0 {
                added = true;
                t += 1;
                f = fields(tz, t)?;
                if f.second == 0 {
                    continue 'wrap;
                }
            }
            return Some(t);
        }
    }
}

impl Schedule {
    /// The first activation strictly after `t` (whole seconds), or `None` when there is
    /// none within five years (Go's zero time).
    pub fn next(&self, t: Timestamp) -> Option<Timestamp> {
        let secs = t.as_second();
        let next = match self {
            Schedule::Every { seconds } => secs.checked_add(*seconds)?,
            Schedule::Spec(s) => s.next_unix(secs)?,
        };
        Timestamp::from_second(next).ok()
    }
}

/// Go's `Format(time.RFC3339)` of `t` in `tz` (`Z` for a zero offset).
pub fn format_rfc3339(t: Timestamp, tz: &TimeZone) -> String {
    let off = offset_at(tz, t.as_second()).unwrap_or(0);
    let Some(f) = fields(tz, t.as_second()) else {
        return t.to_string();
    };
    let zone = if off == 0 {
        "Z".to_string()
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.abs();
        format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        f.year, f.month, f.day, f.hour, f.minute, f.second
    )
}

/// Go's `t.UTC().Format(time.RFC1123Z)`: `Mon, 02 Jan 2006 15:04:05 +0000`.
pub fn format_rfc1123z_utc(t: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Some(f) = fields(&TimeZone::UTC, t.as_second()) else {
        return t.to_string();
    };
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        DAYS[f.weekday as usize % 7],
        f.day,
        MONTHS[(f.month as usize + 11) % 12],
        f.year,
        f.hour,
        f.minute,
        f.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn next(spec: &str, from: &str) -> Option<String> {
        let s = parse_standard(spec, &utc()).expect(spec);
        s.next(ts(from)).map(|t| t.to_string())
    }

    fn next_in(spec: &str, tz: &str, from: &str) -> Option<String> {
        let s = parse_standard(spec, &TimeZone::get(tz).expect(tz)).expect(spec);
        s.next(ts(from)).map(|t| t.to_string())
    }

    #[test]
    fn every_minute_and_steps() {
        assert_eq!(
            next("* * * * *", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-01-01T00:01:00Z")
        );
        assert_eq!(
            next("* * * * *", "2024-01-01T00:00:59.5Z").as_deref(),
            Some("2024-01-01T00:01:00Z")
        );
        assert_eq!(
            next("*/15 * * * *", "2024-01-01T00:16:00Z").as_deref(),
            Some("2024-01-01T00:30:00Z")
        );
        assert_eq!(
            next("5/20 * * * *", "2024-01-01T00:06:00Z").as_deref(),
            Some("2024-01-01T00:25:00Z")
        );
        assert_eq!(
            next("0 9-17/4 * * *", "2024-01-01T13:00:00Z").as_deref(),
            Some("2024-01-01T17:00:00Z")
        );
        assert_eq!(
            next("30 23 31 12 *", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-12-31T23:30:00Z")
        );
    }

    #[test]
    fn names_lists_and_question_mark() {
        // 2024-01-01 is a Monday.
        assert_eq!(
            next("0 0 ? JAN,jul MON-wed", "2024-01-03T00:00:00Z").as_deref(),
            Some("2024-01-08T00:00:00Z")
        );
        assert_eq!(
            next("0 12 * FEB SUN", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-02-04T12:00:00Z")
        );
        // Empty list parts are dropped as Go's FieldsFunc drops them.
        assert_eq!(
            next("1,,2 * * * *", "2024-01-01T00:01:00Z").as_deref(),
            Some("2024-01-01T00:02:00Z")
        );
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // Both restricted: the 13th OR a Friday. 2024-09-06 is a Friday.
        assert_eq!(
            next("0 0 13 * 5", "2024-09-01T00:00:00Z").as_deref(),
            Some("2024-09-06T00:00:00Z")
        );
        assert_eq!(
            next("0 0 13 * 5", "2024-09-06T00:00:00Z").as_deref(),
            Some("2024-09-13T00:00:00Z")
        );
        // One is `*`: both must match (every Friday).
        assert_eq!(
            next("0 0 * * 5", "2024-09-06T00:00:00Z").as_deref(),
            Some("2024-09-13T00:00:00Z")
        );
        // `*/2` is not a star: OR applies (odd days, or Sunday).
        assert_eq!(
            next("0 0 */2 * 0", "2024-09-01T00:00:00Z").as_deref(),
            Some("2024-09-03T00:00:00Z")
        );
        // `*/1` keeps the star bit: AND applies (Sundays only).
        assert_eq!(
            next("0 0 */1 * 0", "2024-09-01T00:00:00Z").as_deref(),
            Some("2024-09-08T00:00:00Z")
        );
    }

    #[test]
    fn descriptors() {
        let from = "2024-05-15T10:30:00Z";
        assert_eq!(
            next("@hourly", from).as_deref(),
            Some("2024-05-15T11:00:00Z")
        );
        assert_eq!(
            next("@daily", from).as_deref(),
            Some("2024-05-16T00:00:00Z")
        );
        assert_eq!(
            next("@midnight", from).as_deref(),
            Some("2024-05-16T00:00:00Z")
        );
        // 2024-05-19 is a Sunday.
        assert_eq!(
            next("@weekly", from).as_deref(),
            Some("2024-05-19T00:00:00Z")
        );
        assert_eq!(
            next("@monthly", from).as_deref(),
            Some("2024-06-01T00:00:00Z")
        );
        assert_eq!(
            next("@yearly", from).as_deref(),
            Some("2025-01-01T00:00:00Z")
        );
        assert_eq!(
            next("@annually", from).as_deref(),
            Some("2025-01-01T00:00:00Z")
        );
        assert_eq!(
            next("@every 1h30m", "2024-05-15T10:30:00.7Z").as_deref(),
            Some("2024-05-15T12:00:00Z")
        );
        // Under a second rounds up to one.
        assert_eq!(
            next("@every 10ms", from).as_deref(),
            Some("2024-05-15T10:30:01Z")
        );
    }

    #[test]
    fn leap_days_and_impossible_dates() {
        assert_eq!(
            next("0 0 29 2 *", "2024-03-01T00:00:00Z").as_deref(),
            Some("2028-02-29T00:00:00Z")
        );
        // February 31st never comes: Go's zero time.
        assert_eq!(next("59 23 31 2 *", "2024-01-01T00:00:00Z"), None);
        assert_eq!(next("0 0 31 4,6 *", "2024-01-01T00:00:00Z"), None);
    }

    #[test]
    fn time_zones() {
        // 09:00 in Tokyo (UTC+9) is midnight UTC.
        assert_eq!(
            next_in("0 9 * * *", "Asia/Tokyo", "2024-01-01T00:00:00Z").as_deref(),
            Some("2024-01-02T00:00:00Z")
        );
        let s = parse_standard("TZ=America/New_York 0 9 * * *", &utc()).expect("tz prefix");
        assert_eq!(
            s.next(ts("2024-01-01T00:00:00Z"))
                .map(|t| t.to_string())
                .as_deref(),
            Some("2024-01-01T14:00:00Z")
        );
        let s = parse_standard("CRON_TZ=Europe/Berlin @daily", &utc()).expect("descriptor");
        assert_eq!(
            s.next(ts("2024-07-01T12:00:00Z"))
                .map(|t| t.to_string())
                .as_deref(),
            Some("2024-07-01T22:00:00Z")
        );
    }

    #[test]
    fn spring_forward_skips_the_missing_time() {
        // 2024-03-10 02:00 EST jumps to 03:00 EDT in New York: 02:30 does not exist that
        // day and robfig/cron goes on to the next day's 02:30.
        assert_eq!(
            next_in("30 2 * * *", "America/New_York", "2024-03-09T08:00:00Z").as_deref(),
            Some("2024-03-11T06:30:00Z")
        );
        // An hourly job simply has one run fewer.
        assert_eq!(
            next_in("0 * * * *", "America/New_York", "2024-03-10T06:30:00Z").as_deref(),
            Some("2024-03-10T07:00:00Z")
        );
    }

    #[test]
    fn fall_back_runs_in_both_occurrences() {
        // 2024-11-03 01:00-02:00 happens twice in New York (EDT, then EST).
        let first = next_in("30 1 * * *", "America/New_York", "2024-11-03T04:00:00Z");
        assert_eq!(first.as_deref(), Some("2024-11-03T05:30:00Z"));
        let second = next_in("30 1 * * *", "America/New_York", "2024-11-03T05:30:00Z");
        assert_eq!(second.as_deref(), Some("2024-11-03T06:30:00Z"));
        let third = next_in("30 1 * * *", "America/New_York", "2024-11-03T06:30:00Z");
        assert_eq!(third.as_deref(), Some("2024-11-04T06:30:00Z"));
    }

    #[test]
    fn midnight_transition_zone() {
        // Santiago moved its clocks from 24:00 to 01:00 on 2024-09-08: that day has no
        // midnight, so robfig/cron's walk by hours never sees hour 0 and a daily job skips
        // it, running next at midnight of the 9th (UTC-3).
        let got = next_in("0 0 * * *", "America/Santiago", "2024-09-07T12:00:00Z");
        assert_eq!(got.as_deref(), Some("2024-09-09T03:00:00Z"));
    }

    #[test]
    fn parse_errors_have_robfig_messages() {
        let e = |s: &str| parse_standard(s, &utc()).unwrap_err();
        assert_eq!(e(""), "empty spec string");
        assert_eq!(e("* * *"), "expected exactly 5 fields, found 3: [* * *]");
        assert_eq!(
            e("* * * * * *"),
            "expected exactly 5 fields, found 6: [* * * * * *]"
        );
        assert_eq!(e("60 * * * *"), "end of range (60) above maximum (59): 60");
        assert_eq!(
            e("* * 0 * *"),
            "beginning of range (0) below minimum (1): 0"
        );
        assert_eq!(e("* * * * 7"), "end of range (7) above maximum (6): 7");
        assert_eq!(
            e("a * * * *"),
            "failed to parse int from a: strconv.Atoi: parsing \"a\": invalid syntax"
        );
        assert_eq!(
            e("5-1 * * * *"),
            "beginning of range (5) beyond end of range (1): 5-1"
        );
        assert_eq!(
            e("*/0 * * * *"),
            "step of range should be a positive number: */0"
        );
        assert_eq!(e("1-2-3 * * * *"), "too many hyphens: 1-2-3");
        assert_eq!(e("1/2/3 * * * *"), "too many slashes: 1/2/3");
        assert_eq!(e("@often"), "unrecognized descriptor: @often");
        assert_eq!(
            e("@every 1x"),
            "failed to parse duration @every 1x: time: unknown unit \"x\" in duration \"1x\""
        );
        assert_eq!(
            e("TZ=Mars/Olympus 0 0 * * *"),
            "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("-2m"), Ok(-120_000_000_000));
        assert_eq!(parse_go_duration(".5s"), Ok(500_000_000));
        assert!(parse_go_duration("5").is_err());
        assert!(parse_go_duration("").is_err());
    }

    #[test]
    fn formats_like_go() {
        let t = ts("2024-01-01T09:00:00Z");
        assert_eq!(format_rfc3339(t, &TimeZone::UTC), "2024-01-01T09:00:00Z");
        let tokyo = TimeZone::get("Asia/Tokyo").expect("tz");
        assert_eq!(format_rfc3339(t, &tokyo), "2024-01-01T18:00:00+09:00");
        let ny = TimeZone::get("America/New_York").expect("tz");
        assert_eq!(format_rfc3339(t, &ny), "2024-01-01T04:00:00-05:00");
        assert_eq!(format_rfc1123z_utc(t), "Mon, 01 Jan 2024 09:00:00 +0000");
    }

    #[test]
    fn civil_conversions_round_trip() {
        for days in [
            -800_000i64,
            -1,
            0,
            1,
            59,
            60,
            365,
            11_016,
            19_723,
            2_932_896,
        ] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
