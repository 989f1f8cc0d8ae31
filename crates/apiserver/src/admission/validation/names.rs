//! Upstream's string format checks (`k8s.io/apimachinery/pkg/util/validation`, v0.33, the
//! release Kubernetes 1.33 ships) with their exact messages, and the object name rules each
//! kind uses (`ValidateNameFunc`: DNS-1123 subdomain, DNS-1123 label, DNS-1035 label, path
//! segment).

const QNAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QNAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const CONFIG_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const CONFIG_KEY_ERR: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const ENV_NAME_FMT: &str = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const ENV_NAME_ERR: &str = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const PERCENT_FMT: &str = "[0-9]+%";
const PERCENT_ERR: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";
const HTTP_HEADER_FMT: &str = "[-A-Za-z0-9]+";
const HTTP_HEADER_ERR: &str = "a valid HTTP header must consist of alphanumeric characters or '-'";

/// `RegexError`.
pub(crate) fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut out = msg.to_string();
    if examples.is_empty() {
        out.push_str(" (regex used for validation is '");
    } else {
        out.push_str(" (e.g. ");
        for (i, e) in examples.iter().enumerate() {
            if i > 0 {
                out.push_str(" or ");
            }
            out.push('\'');
            out.push_str(e);
            out.push_str("', ");
        }
        out.push_str("regex used for validation is '");
    }
    out.push_str(fmt);
    out.push_str("')");
    out
}

/// `MaxLenError`.
pub(crate) fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `InclusiveRangeError`.
pub(crate) fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

fn all_bytes(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_qname_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            alnum(*f) && alnum(*l) && all_bytes(s, |c| alnum(c) || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

fn is_dns1123_label_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            lower_alnum(*f) && lower_alnum(*l) && all_bytes(s, |c| lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

fn is_dns1123_subdomain_syntax(s: &str) -> bool {
    s.split('.').all(is_dns1123_label_syntax)
}

/// `IsQualifiedName` (label keys, annotation keys, finalizers, ...).
pub(crate) fn qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QNAME_ERR, QNAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !is_qname_syntax(name) {
        errs.push(format!(
            "name part {}",
            regex_error(QNAME_ERR, QNAME_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errs
}

/// `IsValidLabelValue`.
pub(crate) fn label_value(value: &str) -> Vec<String> {
    skiff_api::labels::label_value_errors(value)
}

/// `IsDNS1123Label`.
pub(crate) fn dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !is_dns1123_label_syntax(value) {
        if is_dns1123_subdomain_syntax(value) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `IsDNS1123Subdomain`.
pub(crate) fn dns1123_subdomain(value: &str) -> Vec<String> {
    skiff_api::labels::dns1123_subdomain_errors(value)
}

/// `IsDNS1035Label`.
pub(crate) fn dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    let b = value.as_bytes();
    let ok = match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_lowercase()
                && lower_alnum(*l)
                && all_bytes(value, |c| lower_alnum(c) || c == b'-')
        }
        _ => false,
    };
    if !ok {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

fn ch_dir_prefix(value: &str) -> Vec<String> {
    if value == "." {
        vec!["must not be '.'".into()]
    } else if value == ".." {
        vec!["must not be '..'".into()]
    } else if value.starts_with("..") {
        vec!["must not start with '..'".into()]
    } else {
        Vec::new()
    }
}

/// `IsConfigMapKey` (ConfigMap and Secret data keys, key selectors).
pub(crate) fn config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push(max_len_error(253));
    }
    if value.is_empty() || !all_bytes(value, |c| alnum(c) || matches!(c, b'-' | b'.' | b'_')) {
        errs.push(regex_error(
            CONFIG_KEY_ERR,
            CONFIG_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    errs.extend(ch_dir_prefix(value));
    errs
}

/// `IsEnvVarName`.
pub(crate) fn env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let b = value.as_bytes();
    let ok = match b.first() {
        Some(f) => {
            (f.is_ascii_alphabetic() || matches!(f, b'-' | b'.' | b'_'))
                && all_bytes(value, |c| alnum(c) || matches!(c, b'-' | b'.' | b'_'))
        }
        None => false,
    };
    if !ok {
        errs.push(regex_error(
            ENV_NAME_ERR,
            ENV_NAME_FMT,
            &["my.env-name", "MY_ENV.NAME", "MyEnvName1"],
        ));
    }
    errs.extend(ch_dir_prefix(value));
    errs
}

/// `IsValidPortName` (IANA_SVC_NAME).
pub(crate) fn port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    if port.is_empty() || !all_bytes(port, |c| lower_alnum(c) || c == b'-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// `IsValidPortNum`.
pub(crate) fn port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// `IsValidPercent`.
pub(crate) fn percent(value: &str) -> Vec<String> {
    let digits = value.strip_suffix('%').unwrap_or("");
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        Vec::new()
    } else {
        vec![regex_error(PERCENT_ERR, PERCENT_FMT, &["1%", "93%"])]
    }
}

/// `IsHTTPHeaderName`.
pub(crate) fn http_header_name(value: &str) -> Vec<String> {
    if !value.is_empty() && all_bytes(value, |c| alnum(c) || c == b'-') {
        Vec::new()
    } else {
        vec![regex_error(
            HTTP_HEADER_ERR,
            HTTP_HEADER_FMT,
            &["X-Header-Name"],
        )]
    }
}

/// `IsValidIP` (netutils.ParseIPSloppy accepts leading zeros in IPv4).
pub(crate) fn is_ip(value: &str) -> bool {
    parse_ip_sloppy(value).is_some()
}

/// Parses an IP as Go's `netutils.ParseIPSloppy`.
pub(crate) fn parse_ip_sloppy(value: &str) -> Option<std::net::IpAddr> {
    if let Ok(ip) = value.parse::<std::net::Ipv6Addr>() {
        return Some(std::net::IpAddr::V6(ip));
    }
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::from(octets)))
}

/// The message of an invalid IP (`validation.IsValidIP`).
pub(crate) const INVALID_IP: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/// `IsValidCIDR`.
pub(crate) fn is_cidr(value: &str) -> bool {
    match value.split_once('/') {
        Some((ip, bits)) => match (parse_ip_sloppy(ip), bits.parse::<u8>()) {
            (Some(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32 && !bits.starts_with('+'),
            (Some(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128 && !bits.starts_with('+'),
            _ => false,
        },
        None => false,
    }
}

/// The object name rule a kind uses (`ValidateNameFunc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameRule {
    Subdomain,
    Label,
    Dns1035,
    PathSegment,
}

/// Upstream's `maskTrailingDash`, kept as it is (it drops two characters).
fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') {
        let cut = name.len() - 2;
        match name.get(..cut) {
            Some(head) => format!("{head}a"),
            None => name.to_string(),
        }
    } else {
        name.to_string()
    }
}

impl NameRule {
    /// The problems with `name`; `prefix` when it is a `generateName`.
    pub(crate) fn check(self, name: &str, prefix: bool) -> Vec<String> {
        match self {
            NameRule::PathSegment => {
                if !prefix && (name == "." || name == "..") {
                    return vec![format!("may not be '{name}'")];
                }
                let mut errs = Vec::new();
                for bad in ["/", "%"] {
                    if name.contains(bad) {
                        errs.push(format!("may not contain '{bad}'"));
                    }
                }
                errs
            }
            rule => {
                let name = if prefix {
                    mask_trailing_dash(name)
                } else {
                    name.to_string()
                };
                match rule {
                    NameRule::Subdomain => dns1123_subdomain(&name),
                    NameRule::Label => dns1123_label(&name),
                    _ => dns1035_label(&name),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomain_message() {
        assert_eq!(
            dns1123_subdomain("Foo_bar"),
            vec!["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()]
        );
    }

    #[test]
    fn label_with_dots() {
        assert_eq!(
            dns1123_label("a.b"),
            vec!["must not contain dots".to_string()]
        );
        assert_eq!(dns1123_label(&"a".repeat(64)).len(), 1);
    }

    #[test]
    fn generate_name_masks_trailing_dash() {
        assert!(NameRule::Subdomain.check("web-", true).is_empty());
        assert!(!NameRule::Subdomain.check("web-", false).is_empty());
        assert!(NameRule::PathSegment.check("system:node", false).is_empty());
        assert_eq!(
            NameRule::PathSegment.check("a/b", false),
            vec!["may not contain '/'"]
        );
    }

    #[test]
    fn port_names_and_keys() {
        assert!(port_name("http").is_empty());
        assert_eq!(port_name("80").len(), 1);
        assert!(config_map_key("game.properties").is_empty());
        assert_eq!(config_map_key("a b").len(), 1);
        assert_eq!(config_map_key(".."), vec!["must not be '..'".to_string()]);
        assert!(is_ip("010.1.2.3"));
        assert!(!is_ip("10.1.2"));
    }
}
