//! Resource quantities (`500m`, `1Gi`, `1e3`) as upstream's `resource.Quantity` parses,
//! compares and prints them: the same accepted syntax and error messages, values rounded up
//! to nano units, and the canonical form the apiserver stores (`0.5` -> `500m`,
//! `1024Mi` -> `1Gi`, `1000m` -> `1`). Values are kept as nano units in an `i128`, which
//! covers every quantity that fits upstream's fast int64 path; larger ones saturate.

use std::cmp::Ordering;

use serde_json::Value;

/// The regular-expression error of a malformed quantity (`ErrFormatWrong`).
pub(crate) const ERR_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// `ErrNumeric`.
pub(crate) const ERR_NUMERIC: &str = "unable to parse numeric part of quantity";
/// `ErrSuffix`.
pub(crate) const ERR_SUFFIX: &str = "unable to parse quantity's suffix";

const NANO: i128 = 1_000_000_000;

/// How a quantity prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    DecimalExponent,
    BinarySI,
    DecimalSI,
}

/// A parsed quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity {
    nanos: i128,
    format: Format,
}

struct Parts<'a> {
    positive: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// `parseQuantityString`, step for step.
fn split(s: &str) -> Result<Parts<'_>, &'static str> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut positive = true;
    match b.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok(Parts {
            positive,
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = if pos == start { "0" } else { &s[start..pos] };
    let mut denom = "";
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let ds = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[ds..pos];
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(ERR_FORMAT);
    }
    Ok(Parts {
        positive,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

/// (base, exponent, format) of a suffix, as upstream's suffixer interprets it.
fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let dec = |e| Some((10, e, Format::DecimalSI));
    let bin = |e| Some((2, e, Format::BinarySI));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        s if s.len() > 1 && (s.starts_with('e') || s.starts_with('E')) => {
            let e: i32 = s[1..].parse().ok()?;
            Some((10, e, Format::DecimalExponent))
        }
        _ => None,
    }
}

fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

impl Quantity {
    /// `resource.ParseQuantity`.
    pub(crate) fn parse(s: &str) -> Result<Quantity, &'static str> {
        if s.is_empty() {
            return Err(ERR_FORMAT);
        }
        let p = split(s)?;
        let (base, exp, mut format) = interpret(p.suffix).ok_or(ERR_SUFFIX)?;
        // digits * 10^scale10 * 2^scale2, in nano units
        let mut digits = format!("{}{}", p.num, p.denom);
        let mut scale10: i64 = 9 - p.denom.len() as i64;
        if base == 10 {
            scale10 += i64::from(exp);
        }
        let scale2 = if base == 2 { exp as u32 } else { 0 };
        while digits.len() > 1 && digits.ends_with('0') {
            digits.pop();
            scale10 += 1;
        }
        let trimmed = digits.trim_start_matches('0');
        let mut value: i128 = if trimmed.is_empty() {
            0
        } else if trimmed.len() > 38 {
            i128::MAX
        } else {
            trimmed.parse().map_err(|_| ERR_NUMERIC)?
        };
        value = value
            .checked_mul(1i128 << scale2.min(120))
            .unwrap_or(i128::MAX);
        if scale10 >= 0 {
            value = pow10(scale10.min(40) as u32)
                .and_then(|m| value.checked_mul(m))
                .unwrap_or(if value == 0 { 0 } else { i128::MAX });
        } else {
            let div = pow10((-scale10).min(40) as u32).unwrap_or(i128::MAX);
            // round up (away from zero) to a whole nano unit
            value = value / div + i128::from(value % div != 0);
        }
        if format == Format::BinarySI && value > 0 && value < NANO {
            format = Format::DecimalSI;
        }
        if !p.positive {
            value = -value;
        }
        Ok(Quantity {
            nanos: value,
            format,
        })
    }

    /// Parses a JSON value as a quantity: a string, or a number (as its decimal text).
    pub(crate) fn from_json(v: &Value) -> Result<Quantity, &'static str> {
        match v {
            Value::String(s) => Quantity::parse(s.trim()),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => Err(ERR_FORMAT),
        }
    }

    /// Zero, printed as `0`.
    pub(crate) fn zero() -> Quantity {
        Quantity {
            nanos: 0,
            format: Format::DecimalSI,
        }
    }

    pub(crate) fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    pub(crate) fn is_positive(&self) -> bool {
        self.nanos > 0
    }

    /// Whether the value is a whole number (`MilliValue() % 1000 == 0`).
    pub(crate) fn is_integer(&self) -> bool {
        self.nanos % NANO == 0
    }

    /// Rounds the magnitude up to a multiple of 10^-3 (`RoundUp(milliScale)`, which upstream
    /// applies to every resource list).
    pub(crate) fn round_up_milli(&mut self) {
        let m: i128 = 1_000_000;
        let r = self.nanos % m;
        if r != 0 {
            self.nanos = self.nanos - r + if self.nanos > 0 { m } else { -m };
        }
    }

    /// The sum, keeping this quantity's format.
    pub(crate) fn add(&self, other: &Quantity) -> Quantity {
        Quantity {
            nanos: self.nanos.saturating_add(other.nanos),
            format: self.format,
        }
    }

    /// The canonical string (`Quantity.String()`).
    pub(crate) fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".to_string();
        }
        let mut format = self.format;
        if format == Format::BinarySI && (self.nanos.abs() < 1024 * NANO || self.nanos % NANO != 0)
        {
            format = Format::DecimalSI;
        }
        if format == Format::BinarySI {
            let mut v = self.nanos / NANO;
            let mut e = 0;
            while e < 6 && v % 1024 == 0 {
                v /= 1024;
                e += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][e];
            return format!("{v}{suffix}");
        }
        let mut v = self.nanos;
        let mut e: i32 = -9;
        while v % 10 == 0 {
            v /= 10;
            e += 1;
        }
        match e.rem_euclid(3) {
            1 => {
                v = v.saturating_mul(10);
                e -= 1;
            }
            2 => {
                v = v.saturating_mul(100);
                e -= 2;
            }
            _ => {}
        }
        let suffix = match (format, e) {
            (Format::DecimalExponent, 0) => String::new(),
            (Format::DecimalExponent, e) => format!("e{e}"),
            (_, -9) => "n".into(),
            (_, -6) => "u".into(),
            (_, -3) => "m".into(),
            (_, 0) => String::new(),
            (_, 3) => "k".into(),
            (_, 6) => "M".into(),
            (_, 9) => "G".into(),
            (_, 12) => "T".into(),
            (_, 15) => "P".into(),
            (_, 18) => "E".into(),
            (_, e) => format!("e{e}"),
        };
        format!("{v}{suffix}")
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Quantity::parse(s)
            .map(|q| q.canonical())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn canonical_forms_match_upstream() {
        for (input, want) in [
            ("500m", "500m"),
            ("0.5", "500m"),
            ("1000m", "1"),
            ("1.5", "1500m"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("100M", "100M"),
            ("1e3", "1e3"),
            ("1E3", "1e3"),
            ("128974848", "128974848"),
            ("129e6", "129e6"),
            ("0.1Ki", "102400m"),
            ("0", "0"),
            ("-1", "-1"),
            ("10Ki", "10Ki"),
            ("1k", "1k"),
            ("2000", "2k"),
            ("0.0000000001", "1n"),
        ] {
            assert_eq!(canon(input), want, "{input}");
        }
    }

    #[test]
    fn errors_match_upstream() {
        assert_eq!(canon("abc"), ERR_FORMAT);
        assert_eq!(canon(""), ERR_FORMAT);
        assert_eq!(canon("1.2.3"), ERR_FORMAT);
        assert_eq!(canon("1Ki3"), ERR_SUFFIX);
        assert_eq!(canon("1Kb"), ERR_FORMAT);
        assert_eq!(canon("1ii"), ERR_SUFFIX);
    }

    #[test]
    fn milli_rounding_and_order() {
        let mut q = Quantity::parse("0.0001").unwrap_or_else(|_| Quantity::zero());
        q.round_up_milli();
        assert_eq!(q.canonical(), "1m");
        let a = Quantity::parse("500m").unwrap_or_else(|_| Quantity::zero());
        let b = Quantity::parse("1").unwrap_or_else(|_| Quantity::zero());
        assert!(a < b);
        assert_eq!(a.add(&a), b);
    }
}
