//! Resource quantities as upstream prints them (`resource.Quantity.String()`): the value is
//! read like `ParseQuantity` (sign, digits, fraction, a binary `Ki`..`Ei`, decimal `n`..`E`
//! or `e<exp>` suffix; values finer than 1n rounded up to 1n) and written in canonical form:
//! binary quantities as the largest exact power of 1024 (`1536Mi`, `1Gi`) unless they are
//! fractional or under 1024, decimal ones with an exponent that is a multiple of three and
//! no trailing zeros (`1500m`, `2k`, `1e3`).

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// A parsed quantity: `(-1)^negative * mantissa * 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quantity {
    negative: bool,
    mantissa: u128,
    scale: i32,
    format: Format,
}

/// The canonical form of a quantity written as text (`"1.5Gi"` -> `1536Mi`). Text upstream
/// would reject, or values beyond what this reads exactly, are returned as they were.
pub(crate) fn canonical(text: &str) -> String {
    let text = text.trim();
    match parse(text) {
        Some(q) => q.to_canonical().unwrap_or_else(|| text.to_string()),
        None => text.to_string(),
    }
}

/// The canonical form of a quantity field: a JSON string or number; an absent field is a
/// zero quantity (`"0"`), as a Go map lookup of a missing resource gives.
pub(crate) fn of_value(v: &Value) -> String {
    match v {
        Value::String(s) => canonical(s),
        Value::Number(n) => canonical(&n.to_string()),
        _ => "0".into(),
    }
}

/// The canonical form of an optional quantity pointer: `<nil>` when absent, as Go's
/// `(*Quantity)(nil).String()` prints.
pub(crate) fn of_pointer(v: &Value) -> String {
    match v {
        Value::String(_) | Value::Number(_) => of_value(v),
        _ => "<nil>".into(),
    }
}

fn pow10(n: u32) -> Option<u128> {
    10u128.checked_pow(n)
}

/// `ParseQuantity`, on values that fit 128 bits exactly.
fn parse(s: &str) -> Option<Quantity> {
    if s.is_empty() {
        return None;
    }
    let bytes = s.as_bytes();
    let mut pos = 0;
    let mut negative = false;
    match bytes.first() {
        Some(b'-') => {
            negative = true;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    let int_start = pos;
    while pos < bytes.len() && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    let int_part = &s[int_start..pos];
    let mut frac_part = "";
    if pos < bytes.len() && bytes[pos] == b'.' {
        pos += 1;
        let frac_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        frac_part = &s[frac_start..pos];
    }
    // No digits at all ("-", ".", "m") reads as zero, as upstream's parser does.
    let suffix = &s[pos..];
    let (format, base2, exponent) = match suffix {
        "" => (Format::DecimalSI, false, 0),
        "n" => (Format::DecimalSI, false, -9),
        "u" => (Format::DecimalSI, false, -6),
        "m" => (Format::DecimalSI, false, -3),
        "k" => (Format::DecimalSI, false, 3),
        "M" => (Format::DecimalSI, false, 6),
        "G" => (Format::DecimalSI, false, 9),
        "T" => (Format::DecimalSI, false, 12),
        "P" => (Format::DecimalSI, false, 15),
        "E" => (Format::DecimalSI, false, 18),
        "Ki" => (Format::BinarySI, true, 10),
        "Mi" => (Format::BinarySI, true, 20),
        "Gi" => (Format::BinarySI, true, 30),
        "Ti" => (Format::BinarySI, true, 40),
        "Pi" => (Format::BinarySI, true, 50),
        "Ei" => (Format::BinarySI, true, 60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (Format::DecimalExponent, false, rest.parse::<i32>().ok()?)
        }
    };
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let mut mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let frac_len = i32::try_from(frac_part.len()).ok()?;
    let mut scale = -frac_len;
    if base2 {
        mantissa = mantissa.checked_mul(1u128 << exponent)?;
    } else {
        scale = scale.checked_add(exponent)?;
    }
    let mut q = Quantity {
        negative,
        mantissa,
        scale,
        format,
    };
    if q.mantissa == 0 {
        q.negative = false;
        return Some(q);
    }
    // Anything finer than a nano rounds up (away from zero) to the next nano.
    if q.scale < -9 {
        let div = pow10(u32::try_from(-9 - q.scale).ok()?)?;
        let rounded = q.mantissa / div + u128::from(!q.mantissa.is_multiple_of(div));
        q.mantissa = rounded;
        q.scale = -9;
    }
    if q.format == Format::BinarySI {
        let max = i64::MAX as u128;
        if q.cmp_magnitude(max) == std::cmp::Ordering::Greater {
            q.mantissa = max;
            q.scale = 0;
        }
        if q.cmp_magnitude(1) == std::cmp::Ordering::Less {
            q.format = Format::DecimalSI;
        }
    }
    Some(q)
}

impl Quantity {
    /// Compare `|self|` with an integer.
    fn cmp_magnitude(&self, n: u128) -> std::cmp::Ordering {
        if self.scale >= 0 {
            match pow10(self.scale.unsigned_abs()).and_then(|p| self.mantissa.checked_mul(p)) {
                Some(v) => v.cmp(&n),
                None => std::cmp::Ordering::Greater,
            }
        } else {
            match pow10(self.scale.unsigned_abs()).and_then(|p| n.checked_mul(p)) {
                Some(scaled) => self.mantissa.cmp(&scaled),
                None => std::cmp::Ordering::Less,
            }
        }
    }

    /// The integer value, if the quantity is one and fits.
    fn as_integer(&self) -> Option<u128> {
        if self.scale >= 0 {
            self.mantissa.checked_mul(pow10(self.scale.unsigned_abs())?)
        } else {
            let p = pow10(self.scale.unsigned_abs())?;
            self.mantissa.is_multiple_of(p).then(|| self.mantissa / p)
        }
    }

    /// `CanonicalizeBytes`; `None` when the value does not fit what this computes exactly.
    fn to_canonical(self) -> Option<String> {
        if self.mantissa == 0 {
            return Some("0".into());
        }
        let sign = if self.negative { "-" } else { "" };
        let mut format = self.format;
        if format == Format::BinarySI {
            if self.cmp_magnitude(1024) == std::cmp::Ordering::Less {
                format = Format::DecimalSI;
            } else if let Some(mut value) = self.as_integer() {
                let mut exponent = 0;
                while value.is_multiple_of(1024) {
                    value /= 1024;
                    exponent += 1;
                }
                let suffix = match exponent {
                    1 => "Ki",
                    2 => "Mi",
                    3 => "Gi",
                    4 => "Ti",
                    5 => "Pi",
                    6 => "Ei",
                    // Upstream finds no suffix for other powers and prints none.
                    _ => "",
                };
                return Some(format!("{sign}{value}{suffix}"));
            } else {
                format = Format::DecimalSI;
            }
        }
        let mut mantissa = self.mantissa;
        let mut exponent = self.scale;
        while mantissa.is_multiple_of(10) {
            mantissa /= 10;
            exponent += 1;
        }
        while exponent % 3 != 0 {
            mantissa = mantissa.checked_mul(10)?;
            exponent -= 1;
        }
        let suffix = match format {
            Format::DecimalExponent if exponent == 0 => String::new(),
            Format::DecimalExponent => format!("e{exponent}"),
            _ => match exponent {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                18 => "E",
                // Exponent 0, or one upstream has no suffix for (it then prints none).
                _ => "",
            }
            .to_string(),
        };
        Some(format!("{sign}{mantissa}{suffix}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_forms() {
        let cases = [
            ("0", "0"),
            ("0Gi", "0"),
            ("-0", "0"),
            ("0.0", "0"),
            ("1", "1"),
            ("10Gi", "10Gi"),
            ("1024Mi", "1Gi"),
            ("1000Mi", "1000Mi"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("0.5Ki", "512"),
            ("1023", "1023"),
            ("1Ki", "1Ki"),
            ("2048", "2048"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("12000", "12k"),
            ("100m", "100m"),
            ("0.1", "100m"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("1500m", "1500m"),
            ("2000m", "2"),
            ("250m", "250m"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("1E6", "1e6"),
            ("100M", "100M"),
            ("1G", "1G"),
            ("5Gi", "5Gi"),
            ("1n", "1n"),
            ("0.1n", "1n"),
            ("1.0000000001", "1000000001n"),
            ("-1.5Gi", "-1536Mi"),
            ("-100m", "-100m"),
            ("+5", "5"),
            ("007", "7"),
            ("1.", "1"),
            (".5", "500m"),
            ("1000E", "1"),
            (".", "0"),
            ("-", "0"),
            ("m", "0"),
        ];
        for (input, want) in cases {
            assert_eq!(canonical(input), want, "{input}");
        }
        // Not a quantity: returned as given.
        for bad in ["", "abc", "1.5.5", "1Xi", "1e", "--1", "1ki"] {
            assert_eq!(canonical(bad), bad.trim(), "{bad}");
        }
    }

    #[test]
    fn json_values() {
        assert_eq!(of_value(&json!("2Gi")), "2Gi");
        assert_eq!(of_value(&json!(2048)), "2048");
        assert_eq!(of_value(&json!(1.5)), "1500m");
        assert_eq!(of_value(&Value::Null), "0");
        assert_eq!(of_pointer(&Value::Null), "<nil>");
        assert_eq!(of_pointer(&json!("500m")), "500m");
    }
}
