//! On-disk encoding of the embedded store: records (one change each) packed into frames (one
//! group commit each, checksummed). Pure functions over byte slices, no IO.
//!
//! Frame: `magic u32 | payload length u32 | crc32 of payload u32 | payload`, little endian.
//! Record: `tag u8 | revision i64 | fields...`, strings and values as `length u32 | bytes`.

use bytes::{Buf, BufMut, Bytes};

/// Marks the start of every frame.
pub const FRAME_MAGIC: u32 = 0x534b_4652; // "SKFR"
/// Bytes before a frame's payload.
pub const FRAME_HEADER: usize = 12;

/// One logged change, or one line of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `key` got `value` at `revision` (create or update; the state tells which).
    Put {
        revision: i64,
        key: String,
        value: Bytes,
    },
    /// `key` was deleted at `revision`.
    Delete { revision: i64, key: String },
    /// History before `revision` was compacted.
    Compact { revision: i64 },
    /// Checkpoint header: the state below is the one at `compacted`; the history records
    /// after it run up to `revision`.
    CheckpointStart { revision: i64, compacted: i64 },
    /// Checkpoint line: one live key as of the checkpoint's compacted revision.
    Key {
        key: String,
        value: Bytes,
        create_revision: i64,
        mod_revision: i64,
    },
    /// Checkpoint trailer: `keys` Key records and `changes` history records were written.
    CheckpointEnd { keys: u64, changes: u64 },
}

const TAG_PUT: u8 = 1;
const TAG_DELETE: u8 = 2;
const TAG_COMPACT: u8 = 3;
const TAG_CHECKPOINT_START: u8 = 10;
const TAG_KEY: u8 = 11;
const TAG_CHECKPOINT_END: u8 = 12;

impl Record {
    /// Appends the encoded record to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Record::Put {
                revision,
                key,
                value,
            } => {
                out.put_u8(TAG_PUT);
                out.put_i64_le(*revision);
                put_bytes(out, key.as_bytes());
                put_bytes(out, value);
            }
            Record::Delete { revision, key } => {
                out.put_u8(TAG_DELETE);
                out.put_i64_le(*revision);
                put_bytes(out, key.as_bytes());
            }
            Record::Compact { revision } => {
                out.put_u8(TAG_COMPACT);
                out.put_i64_le(*revision);
            }
            Record::CheckpointStart {
                revision,
                compacted,
            } => {
                out.put_u8(TAG_CHECKPOINT_START);
                out.put_i64_le(*revision);
                out.put_i64_le(*compacted);
            }
            Record::Key {
                key,
                value,
                create_revision,
                mod_revision,
            } => {
                out.put_u8(TAG_KEY);
                out.put_i64_le(*mod_revision);
                out.put_i64_le(*create_revision);
                put_bytes(out, key.as_bytes());
                put_bytes(out, value);
            }
            Record::CheckpointEnd { keys, changes } => {
                out.put_u8(TAG_CHECKPOINT_END);
                out.put_u64_le(*keys);
                out.put_u64_le(*changes);
            }
        }
    }

    /// Decodes every record of a frame payload.
    pub fn decode_all(mut payload: &[u8]) -> Result<Vec<Record>, String> {
        let mut out = Vec::new();
        while payload.has_remaining() {
            out.push(Record::decode(&mut payload)?);
        }
        Ok(out)
    }

    fn decode(buf: &mut &[u8]) -> Result<Record, String> {
        let tag = get_u8(buf)?;
        Ok(match tag {
            TAG_PUT => Record::Put {
                revision: get_i64(buf)?,
                key: get_string(buf)?,
                value: Bytes::copy_from_slice(get_bytes(buf)?),
            },
            TAG_DELETE => Record::Delete {
                revision: get_i64(buf)?,
                key: get_string(buf)?,
            },
            TAG_COMPACT => Record::Compact {
                revision: get_i64(buf)?,
            },
            TAG_CHECKPOINT_START => Record::CheckpointStart {
                revision: get_i64(buf)?,
                compacted: get_i64(buf)?,
            },
            TAG_KEY => {
                let mod_revision = get_i64(buf)?;
                let create_revision = get_i64(buf)?;
                Record::Key {
                    key: get_string(buf)?,
                    value: Bytes::copy_from_slice(get_bytes(buf)?),
                    create_revision,
                    mod_revision,
                }
            }
            TAG_CHECKPOINT_END => Record::CheckpointEnd {
                keys: get_u64(buf)?,
                changes: get_u64(buf)?,
            },
            other => return Err(format!("unknown record tag {other}")),
        })
    }
}

/// Appends one frame holding `payload` to `out`.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    out.put_u32_le(FRAME_MAGIC);
    out.put_u32_le(payload.len() as u32);
    out.put_u32_le(crc32fast::hash(payload));
    out.extend_from_slice(payload);
}

/// What reading one frame at an offset found.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameRead<'a> {
    /// A whole, intact frame; the next one starts at `next`.
    Frame { payload: &'a [u8], next: usize },
    /// Nothing more: the offset is the end of the data.
    End,
    /// The data stops in the middle of a frame, or only zeros follow: what a crash during an
    /// unacknowledged write leaves behind.
    Torn,
    /// A damaged frame with data after it: not something a crash leaves.
    Corrupt(String),
}

/// Reads the frame at `at` in `data`.
pub fn read_frame(data: &[u8], at: usize) -> FrameRead<'_> {
    let rest = &data[at.min(data.len())..];
    if rest.is_empty() {
        return FrameRead::End;
    }
    let only_zeros = |bytes: &[u8]| bytes.iter().all(|b| *b == 0);
    if rest.len() < FRAME_HEADER {
        return FrameRead::Torn;
    }
    let mut header = &rest[..FRAME_HEADER];
    let magic = header.get_u32_le();
    let len = header.get_u32_le() as usize;
    let crc = header.get_u32_le();
    if magic != FRAME_MAGIC {
        return if only_zeros(rest) {
            FrameRead::Torn
        } else {
            FrameRead::Corrupt(format!("bad frame marker at offset {at}"))
        };
    }
    let end = FRAME_HEADER + len;
    if end > rest.len() {
        return FrameRead::Torn;
    }
    let payload = &rest[FRAME_HEADER..end];
    if crc32fast::hash(payload) != crc {
        return if only_zeros(&rest[end..]) {
            FrameRead::Torn
        } else {
            FrameRead::Corrupt(format!("checksum mismatch in the frame at offset {at}"))
        };
    }
    FrameRead::Frame {
        payload,
        next: at + end,
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.put_u32_le(b.len() as u32);
    out.extend_from_slice(b);
}

fn need(buf: &[u8], n: usize) -> Result<(), String> {
    if buf.remaining() < n {
        Err(format!(
            "record cut short: {n} bytes needed, {} left",
            buf.remaining()
        ))
    } else {
        Ok(())
    }
}

fn get_u8(buf: &mut &[u8]) -> Result<u8, String> {
    need(buf, 1)?;
    Ok(buf.get_u8())
}

fn get_i64(buf: &mut &[u8]) -> Result<i64, String> {
    need(buf, 8)?;
    Ok(buf.get_i64_le())
}

fn get_u64(buf: &mut &[u8]) -> Result<u64, String> {
    need(buf, 8)?;
    Ok(buf.get_u64_le())
}

fn get_bytes<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], String> {
    need(buf, 4)?;
    let len = buf.get_u32_le() as usize;
    need(buf, len)?;
    let (head, tail) = buf.split_at(len);
    *buf = tail;
    Ok(head)
}

fn get_string(buf: &mut &[u8]) -> Result<String, String> {
    let b = get_bytes(buf)?;
    String::from_utf8(b.to_vec()).map_err(|_| "key is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Record> {
        vec![
            Record::Put {
                revision: 7,
                key: "/a".into(),
                value: Bytes::from_static(b"hello"),
            },
            Record::Delete {
                revision: 8,
                key: "/a".into(),
            },
            Record::Compact { revision: 8 },
            Record::CheckpointStart {
                revision: 9,
                compacted: 8,
            },
            Record::Key {
                key: "/b".into(),
                value: Bytes::new(),
                create_revision: 3,
                mod_revision: 5,
            },
            Record::CheckpointEnd {
                keys: 1,
                changes: 2,
            },
        ]
    }

    fn framed() -> Vec<u8> {
        let mut payload = Vec::new();
        for r in sample() {
            r.encode(&mut payload);
        }
        let mut data = Vec::new();
        encode_frame(&payload, &mut data);
        data
    }

    #[test]
    fn records_round_trip_through_a_frame() {
        let data = framed();
        let FrameRead::Frame { payload, next } = read_frame(&data, 0) else {
            panic!("no frame")
        };
        assert_eq!(next, data.len());
        assert_eq!(Record::decode_all(payload).unwrap(), sample());
        assert_eq!(read_frame(&data, next), FrameRead::End);
    }

    #[test]
    fn a_cut_frame_is_torn_at_every_length() {
        let data = framed();
        for cut in 1..data.len() {
            assert_eq!(read_frame(&data[..cut], 0), FrameRead::Torn, "cut at {cut}");
        }
    }

    #[test]
    fn zeros_after_the_end_are_torn_but_data_after_damage_is_corrupt() {
        let mut data = framed();
        data.extend_from_slice(&[0; 100]);
        let FrameRead::Frame { next, .. } = read_frame(&data, 0) else {
            panic!()
        };
        assert_eq!(read_frame(&data, next), FrameRead::Torn);

        let mut damaged = framed();
        damaged[FRAME_HEADER + 3] ^= 0xff;
        assert_eq!(
            read_frame(&damaged, 0),
            FrameRead::Torn,
            "damage in the last frame"
        );
        damaged.extend_from_slice(&framed());
        assert!(matches!(read_frame(&damaged, 0), FrameRead::Corrupt(_)));
    }

    #[test]
    fn truncated_records_are_errors_not_panics() {
        let mut payload = Vec::new();
        sample()[0].encode(&mut payload);
        for cut in 0..payload.len() {
            let r = Record::decode_all(&payload[..cut]);
            assert_eq!(r.is_err(), cut > 0, "cut at {cut}");
        }
    }
}
