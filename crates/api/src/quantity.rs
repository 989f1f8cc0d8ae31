//! Kubernetes resource quantities as integers, for code that compares amounts (the
//! scheduler's fit checks, volume capacities): decimal and binary suffixes and exponents,
//! rounded up.

/// Parses a Kubernetes quantity; `milli` gives thousandths (for cpu). Rounds up.
pub fn parse_quantity(q: &str, milli: bool) -> Option<i64> {
    let q = q.trim();
    let split = q
        // An exponent (1e3) is part of the number, not a suffix.
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let value: f64 = num.parse().ok()?;
    let factor: f64 = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    let v = value * factor * if milli { 1000.0 } else { 1.0 };
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    Some(v.ceil().min(i64::MAX as f64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("100m", true), Some(100));
        assert_eq!(parse_quantity("1.5", true), Some(1500));
        assert_eq!(parse_quantity("2", true), Some(2000));
        assert_eq!(parse_quantity("128Mi", false), Some(128 << 20));
        assert_eq!(parse_quantity("1G", false), Some(1_000_000_000));
        assert_eq!(parse_quantity("1e3", false), Some(1000));
        assert_eq!(parse_quantity("x", false), None);
        assert_eq!(parse_quantity("-1", false), None);
    }
}
