//! Just enough DER to give a certificate several `O=` attributes: rcgen's `DistinguishedName`
//! holds one value per attribute type (rcgen issue #81), but Kubernetes reads every subject
//! organization of a client certificate as a group. [`subject_name`] encodes the subject,
//! [`replace_subject`] swaps it into a to-be-signed certificate rcgen produced.

/// DER tags used here.
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const UTF8_STRING: u8 = 0x0c;
const BIT_STRING: u8 = 0x03;
/// `[0] EXPLICIT Version` at the start of a v2/v3 TBSCertificate.
const VERSION_TAG: u8 = 0xa0;

/// id-at-commonName (2.5.4.3), DER body of the OID.
const OID_COMMON_NAME: [u8; 3] = [0x55, 0x04, 0x03];
/// id-at-organizationName (2.5.4.10), DER body of the OID.
const OID_ORGANIZATION: [u8; 3] = [0x55, 0x04, 0x0a];

/// One tag-length-value element as read from DER input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Element<'a> {
    pub tag: u8,
    /// Tag, length and content together.
    pub whole: &'a [u8],
    /// The content alone.
    pub content: &'a [u8],
}

/// Encodes one element (single-byte tags only, which is all X.509 needs here).
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Reads the first element of `input`; `None` on malformed or indefinite-length input.
pub(crate) fn read_element(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 {
            return None;
        }
        let bytes = input.get(2..2 + count)?;
        let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + count)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    let content = input.get(header..end)?;
    Some((
        Element {
            tag,
            whole,
            content,
        },
        input.get(end..)?,
    ))
}

/// Splits the content of a constructed element into its elements.
pub(crate) fn read_all(mut input: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (element, rest) = read_element(input)?;
        out.push(element);
        input = rest;
    }
    Some(out)
}

/// A Name with `CN=common_name` then one `O=` RDN per organization, all UTF8String, in the
/// order given.
pub(crate) fn subject_name(common_name: &str, organizations: &[String]) -> Vec<u8> {
    let rdn = |oid: &[u8], value: &str| {
        let mut attribute = tlv(OID, oid);
        attribute.extend(tlv(UTF8_STRING, value.as_bytes()));
        tlv(SET, &tlv(SEQUENCE, &attribute))
    };
    let mut rdns = rdn(&OID_COMMON_NAME, common_name);
    for org in organizations {
        rdns.extend(rdn(&OID_ORGANIZATION, org));
    }
    tlv(SEQUENCE, &rdns)
}

/// Takes a DER certificate and returns its TBSCertificate with the subject replaced by
/// `subject` (a DER Name), plus the raw signatureAlgorithm element to reuse.
pub(crate) fn replace_subject(certificate: &[u8], subject: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (cert, rest) = read_element(certificate)?;
    if cert.tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    let parts = read_all(cert.content)?;
    let [tbs, algorithm, _signature] = parts.as_slice() else {
        return None;
    };
    if tbs.tag != SEQUENCE {
        return None;
    }
    let fields = read_all(tbs.content)?;
    // version?, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
    let subject_index = if fields.first()?.tag == VERSION_TAG {
        5
    } else {
        4
    };
    if fields.get(subject_index)?.tag != SEQUENCE {
        return None;
    }
    let mut content = Vec::with_capacity(tbs.content.len() + subject.len());
    for (i, field) in fields.iter().enumerate() {
        if i == subject_index {
            content.extend_from_slice(subject);
        } else {
            content.extend_from_slice(field.whole);
        }
    }
    Some((tlv(SEQUENCE, &content), algorithm.whole.to_vec()))
}

/// Assembles a Certificate from a TBSCertificate, the signatureAlgorithm element and the
/// signature bytes.
pub(crate) fn certificate(tbs: &[u8], algorithm: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(signature.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(signature);
    let mut content = Vec::with_capacity(tbs.len() + algorithm.len() + bits.len() + 8);
    content.extend_from_slice(tbs);
    content.extend_from_slice(algorithm);
    content.extend(tlv(BIT_STRING, &bits));
    tlv(SEQUENCE, &content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::{FromDer, X509Name};

    #[test]
    fn lengths_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 65_535, 70_000] {
            let content = vec![7u8; len];
            let encoded = tlv(SEQUENCE, &content);
            let (element, rest) = read_element(&encoded).unwrap();
            assert!(rest.is_empty());
            assert_eq!(element.tag, SEQUENCE);
            assert_eq!(element.content.len(), len);
        }
    }

    #[test]
    fn truncated_input_is_refused() {
        let encoded = tlv(SEQUENCE, &[1, 2, 3]);
        assert!(read_element(&encoded[..encoded.len() - 1]).is_none());
        assert!(read_element(&[0x30, 0x80]).is_none());
        assert!(read_element(&[]).is_none());
    }

    #[test]
    fn subject_name_parses_with_every_organization() {
        let name = subject_name("alice", &["a".into(), "b".into(), "c".into()]);
        let (_, parsed) = X509Name::from_der(&name).unwrap();
        let cn: Vec<_> = parsed
            .iter_common_name()
            .map(|a| a.as_str().unwrap())
            .collect();
        let orgs: Vec<_> = parsed
            .iter_organization()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(cn, ["alice"]);
        assert_eq!(orgs, ["a", "b", "c"]);
    }
}
