//! The etcd backend: [`EtcdStore`] implements the store contract on a real etcd v3 cluster
//! (scale-out: several skiff servers share one etcd), and [`process::EtcdProcess`] starts a
//! throwaway etcd for tests and benchmarks. This module owns the mapping between the contract
//! and etcd's API: which transaction each write is, how ranges and watches are bounded, and
//! how etcd's errors become the contract's.
//!
//! Writes are single etcd transactions: `create` compares `create_revision == 0`, `update`
//! and `delete` compare the key's `mod_revision` (and that it exists); a failed compare
//! reads the key in the same round trip to tell `NotFound` from `Conflict`. Every write
//! bumps etcd's revision by exactly one.
//!
//! # The compaction marker
//!
//! etcd does not say how far it has been compacted, so, like the Kubernetes apiserver (which
//! keeps the key `compact_rev_key`), the store records the compacted revision as a decimal
//! string in the key [`COMPACT_REV_KEY`] = `/skiff/compact_rev_key`. Every skiff server on
//! the same etcd reads it for [`Store::compacted_revision`]. Unlike the apiserver, `compact`
//! compacts first and records second (with a compare-and-swap that only ever raises the
//! marker), so a compaction that failed half-way is redone by the next call instead of being
//! taken as done. Consequences: the marker is an ordinary key (an empty-prefix range or watch
//! sees it), and each effective compaction is one write, bumping the revision by one.
//!
//! # Watches
//!
//! A watch is one etcd watch (prefix range, `prev_kv`, `start_revision = from`), confirmed by
//! etcd before `watch` returns. A start revision etcd has compacted is refused up front (a
//! read at `from` tells), so `watch` itself fails with `Compacted`. A task per watch reads
//! etcd's answers as they come into the watcher's own queue; a reader that leaves more than
//! [`DEFAULT_WATCH_QUEUE`] changes unread is cut off (`Unavailable`), as in the in-process
//! backends. Reads and writes travel on one HTTP/2 connection, watches on another with a
//! wide window (see [`CONNECTION_WINDOW_BYTES`] for why).
//!
//! # etcd settings
//!
//! Values up to the contract's 3 MiB limit need etcd's `--max-request-bytes` above its
//! 1.5 MiB default ([`process::EtcdProcess`] sets it); an etcd that refuses a request as too
//! large yields `Error::Invalid` naming that flag.
//!
//! Keys are UTF-8 in the contract; a non-UTF-8 key found in etcd (written by something else)
//! is reported as `Error::Corrupt`.

pub mod process;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client::{
    Client, CompactionOptions, Compare, CompareOp, ConnectOptions, DeleteOptions, GetOptions,
    KvClient, Txn, TxnOp, TxnOpResponse, TxnResponse, WatchClient, WatchOptions,
};
use futures::StreamExt;
use tokio::sync::mpsc;
use tonic::transport::channel::Change;

use crate::watch_hub::DEFAULT_WATCH_QUEUE;
use crate::{
    validate_key, validate_write, Error, Event, EventKind, KeyValue, RangeRequest, RangeResponse,
    Result, Store, WatchStream,
};

/// The key holding the compacted revision (decimal), shared by every server on one etcd.
pub const COMPACT_REV_KEY: &str = "/skiff/compact_rev_key";

/// How long `connect` waits for a TCP connection and for etcd's first answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Bound on one unary call (a read, a write), so a dead etcd yields `Unavailable` instead of
/// a hang. Generous: etcd under load can take seconds to commit.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Bound on a physical compaction, which waits for etcd to delete the old revisions.
const COMPACT_TIMEOUT: Duration = Duration::from_secs(300);

/// Largest gRPC message decoded (etcd sends up to 2 GiB); a large unpaged range must not
/// fail on the client's 4 MiB default.
const MAX_DECODING_BYTES: usize = i32::MAX as usize;

/// Attempts at raising the compaction marker when other servers race on it.
const MARKER_TRIES: usize = 16;

/// A store on an etcd v3 cluster.
pub struct EtcdStore {
    kv: KvClient,
    watch: WatchClient,
    /// The endpoints, for error messages.
    endpoints: Arc<str>,
    /// Unread changes after which a watcher is cut off.
    watch_queue: usize,
}

impl EtcdStore {
    /// Connects to etcd and checks that it answers (within about 5 s).
    ///
    /// Reads and writes use one HTTP/2 connection, watches another, so that a flood of watch
    /// events cannot take requests down with it.
    pub async fn connect(endpoints: &[String]) -> Result<EtcdStore> {
        let names: Arc<str> = endpoints.join(",").into();
        if endpoints.is_empty() {
            return Err(Error::Invalid("no etcd endpoints given".into()));
        }
        let requests = connect_client(endpoints, &names).await?;
        let watches = connect_client(endpoints, &names).await?;
        let store = EtcdStore {
            kv: requests
                .kv_client()
                .max_decoding_message_size(MAX_DECODING_BYTES),
            watch: watches
                .watch_client()
                .max_decoding_message_size(MAX_DECODING_BYTES),
            endpoints: names,
            watch_queue: DEFAULT_WATCH_QUEUE,
        };
        // The client connects lazily: make sure someone answers.
        let mut kv = store.kv.clone();
        let probe = kv.get(COMPACT_REV_KEY, Some(GetOptions::new().with_count_only()));
        match tokio::time::timeout(CONNECT_TIMEOUT, probe).await {
            Ok(Ok(_)) => Ok(store),
            Ok(Err(e)) => Err(Error::Unavailable(format!(
                "etcd at {} does not answer: {e}",
                store.endpoints
            ))),
            Err(_) => Err(Error::Unavailable(format!(
                "etcd at {} does not answer within {CONNECT_TIMEOUT:?}",
                store.endpoints
            ))),
        }
    }

    fn kv(&self) -> KvClient {
        self.kv.clone()
    }

    /// Runs one etcd call with a deadline, classifying its failure.
    async fn call<T>(
        &self,
        timeout: Duration,
        fut: impl std::future::Future<Output = std::result::Result<T, etcd_client::Error>>,
    ) -> std::result::Result<T, Failure> {
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.classify(e)),
            Err(_) => Err(Failure::Other(Error::Unavailable(format!(
                "etcd at {} did not answer within {timeout:?}",
                self.endpoints
            )))),
        }
    }

    /// Sorts an etcd client error into the contract's terms.
    fn classify(&self, e: etcd_client::Error) -> Failure {
        use etcd_client::Error as E;
        let status = match e {
            E::GRpcStatus(status) => status,
            E::InvalidArgs(m) => return Failure::Other(Error::Invalid(m)),
            other => {
                return Failure::Other(Error::Unavailable(format!(
                    "etcd at {}: {other}",
                    self.endpoints
                )))
            }
        };
        let msg = status.message();
        if msg.contains("required revision has been compacted") {
            Failure::Compacted
        } else if msg.contains("required revision is a future revision") {
            Failure::FutureRevision
        } else if msg.contains("request is too large") {
            Failure::Other(Error::Invalid(format!(
                "etcd at {} refused the request as too large ({msg}): run etcd with \
                 --max-request-bytes of at least {} to store values up to 3 MiB",
                self.endpoints,
                process::MAX_REQUEST_BYTES
            )))
        } else if status.code() == tonic::Code::InvalidArgument {
            Failure::Other(Error::Invalid(format!("etcd refused the request: {msg}")))
        } else {
            Failure::Other(Error::Unavailable(format!(
                "etcd at {}: {:?}: {msg}",
                self.endpoints,
                status.code()
            )))
        }
    }

    /// Turns a failed read at `requested` into the contract's error, looking up what the
    /// error needs (best effort: the lookups' own failures only make the numbers rougher).
    async fn read_error(&self, failure: Failure, requested: i64) -> Error {
        match failure {
            Failure::Compacted => Error::Compacted {
                requested,
                compacted: self.compacted_lower_bound(requested).await,
            },
            Failure::FutureRevision => Error::FutureRevision {
                requested,
                current: match self.current_revision().await {
                    Ok(current) => current,
                    Err(_) => requested.saturating_sub(1),
                },
            },
            Failure::Other(e) => e,
        }
    }

    /// What is known of the compacted revision after etcd refused `requested` as compacted:
    /// it is above `requested`, and at least the marker.
    async fn compacted_lower_bound(&self, requested: i64) -> i64 {
        let marker = match self.read_marker().await {
            Ok((_, marker)) => marker.compacted(),
            Err(_) => 0,
        };
        marker.max(requested.saturating_add(1))
    }

    /// Reads the compaction marker: (current revision, marker).
    async fn read_marker(&self) -> Result<(i64, Marker)> {
        let mut kv = self.kv();
        let mut resp = self
            .call(CALL_TIMEOUT, kv.get(COMPACT_REV_KEY, None))
            .await
            .map_err(Failure::into_error)?;
        let current = header_revision(resp.header());
        let marker = match resp.take_kvs().into_iter().next() {
            Some(kv) => Marker::parse(kv.value(), kv.mod_revision()),
            None => Marker::ABSENT,
        };
        Ok((current, marker))
    }

    /// Raises the marker to `revision` unless it already is at or above it.
    async fn record_compacted(&self, revision: i64, mut seen: Marker) -> Result<()> {
        for _ in 0..MARKER_TRIES {
            if matches!(seen.parsed, Ok(c) if c >= revision) {
                return Ok(());
            }
            let txn = Txn::new()
                .when([Compare::mod_revision(
                    COMPACT_REV_KEY,
                    CompareOp::Equal,
                    seen.mod_revision,
                )])
                .and_then([TxnOp::put(COMPACT_REV_KEY, revision.to_string(), None)])
                .or_else([TxnOp::get(COMPACT_REV_KEY, None)]);
            let mut kv = self.kv();
            let resp = self
                .call(CALL_TIMEOUT, kv.txn(txn))
                .await
                .map_err(Failure::into_error)?;
            if resp.succeeded() {
                return Ok(());
            }
            seen = match first_range_kv(&resp) {
                Some(kv) => Marker::parse(kv.value(), kv.mod_revision()),
                None => Marker::ABSENT,
            };
        }
        Err(Error::Unavailable(format!(
            "etcd at {}: compacted to {revision} but could not record it in {COMPACT_REV_KEY} \
             after {MARKER_TRIES} tries (other servers keep changing it)",
            self.endpoints
        )))
    }

    /// After a failed conditional write: `NotFound` if the key (read in the same
    /// transaction) is absent, else `Conflict` with its actual mod_revision.
    fn write_refused(&self, key: &str, expected: i64, resp: &TxnResponse) -> Error {
        match first_range_kv(resp) {
            None => Error::NotFound(key.to_string()),
            Some(kv) => Error::Conflict {
                key: key.to_string(),
                expected,
                actual: kv.mod_revision(),
            },
        }
    }

    /// Conditional write shared by update and delete: `compares` guard `op`; on failure the
    /// key is read back.
    async fn guarded(
        &self,
        key: &str,
        compares: Vec<Compare>,
        op: TxnOp,
    ) -> Result<std::result::Result<TxnResponse, TxnResponse>> {
        let txn = Txn::new()
            .when(compares)
            .and_then([op])
            .or_else([TxnOp::get(key, None)]);
        let mut kv = self.kv();
        let resp = self
            .call(CALL_TIMEOUT, kv.txn(txn))
            .await
            .map_err(Failure::into_error)?;
        Ok(if resp.succeeded() {
            Ok(resp)
        } else {
            Err(resp)
        })
    }

    /// Fails with `Compacted` if etcd can no longer serve history from `from` (a read at that
    /// revision tells; a future revision is fine for a watch).
    async fn check_watch_start(&self, from: i64) -> Result<()> {
        let mut kv = self.kv();
        let probe = kv.get(
            COMPACT_REV_KEY,
            Some(GetOptions::new().with_revision(from).with_count_only()),
        );
        match self.call(CALL_TIMEOUT, probe).await {
            Ok(_) | Err(Failure::FutureRevision) => Ok(()),
            Err(f) => Err(self.read_error(f, from).await),
        }
    }
}

#[async_trait]
impl Store for EtcdStore {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        validate_key(key)?;
        let mut kv = self.kv();
        let mut resp = self
            .call(CALL_TIMEOUT, kv.get(key, None))
            .await
            .map_err(Failure::into_error)?;
        resp.take_kvs().into_iter().next().map(to_kv).transpose()
    }

    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        let (start, end) = range_bounds(&req.prefix, req.continue_after.as_deref());
        let mut options = GetOptions::new().with_range(end);
        if req.limit > 0 {
            options = options.with_limit(i64::try_from(req.limit).unwrap_or(i64::MAX));
        }
        if req.revision > 0 {
            options = options.with_revision(req.revision);
        }
        let mut kv = self.kv();
        let mut resp = match self.call(CALL_TIMEOUT, kv.get(start, Some(options))).await {
            Ok(resp) => resp,
            Err(f) => return Err(self.read_error(f, req.revision).await),
        };
        let revision = if req.revision > 0 {
            req.revision
        } else {
            header_revision(resp.header())
        };
        let more = resp.more();
        let kvs = resp
            .take_kvs()
            .into_iter()
            .map(to_kv)
            .collect::<Result<Vec<_>>>()?;
        Ok(RangeResponse {
            kvs,
            revision,
            more,
        })
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<i64> {
        validate_write(key, &value)?;
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value, None)]);
        let mut kv = self.kv();
        let resp = self
            .call(CALL_TIMEOUT, kv.txn(txn))
            .await
            .map_err(Failure::into_error)?;
        if !resp.succeeded() {
            return Err(Error::AlreadyExists(key.to_string()));
        }
        Ok(header_revision(resp.header()))
    }

    async fn update(&self, key: &str, value: Bytes, expected: i64) -> Result<i64> {
        validate_write(key, &value)?;
        // The existence check keeps `expected == 0` from creating a missing key (etcd
        // compares an absent key as all-zero revisions).
        let compares = vec![
            Compare::version(key, CompareOp::Greater, 0),
            Compare::mod_revision(key, CompareOp::Equal, expected),
        ];
        match self
            .guarded(key, compares, TxnOp::put(key, value, None))
            .await?
        {
            Ok(resp) => Ok(header_revision(resp.header())),
            Err(resp) => Err(self.write_refused(key, expected, &resp)),
        }
    }

    async fn delete(&self, key: &str, expected: Option<i64>) -> Result<(KeyValue, i64)> {
        validate_key(key)?;
        let mut compares = vec![Compare::version(key, CompareOp::Greater, 0)];
        if let Some(expected) = expected {
            compares.push(Compare::mod_revision(key, CompareOp::Equal, expected));
        }
        let op = TxnOp::delete(key, Some(DeleteOptions::new().with_prev_key()));
        let resp = match self.guarded(key, compares, op).await? {
            Ok(resp) => resp,
            Err(resp) => {
                return Err(self.write_refused(key, expected.unwrap_or_default(), &resp));
            }
        };
        let revision = header_revision(resp.header());
        let prev = resp.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Delete(mut d) => d.take_prev_kvs().into_iter().next(),
            _ => None,
        });
        match prev {
            Some(prev) => Ok((to_kv(prev)?, revision)),
            None => Err(Error::Unavailable(format!(
                "etcd at {} deleted {key} but returned no previous value",
                self.endpoints
            ))),
        }
    }

    async fn watch(&self, prefix: &str, from: i64) -> Result<WatchStream> {
        let from = from.max(0);
        if from > 0 {
            self.check_watch_start(from).await?;
        }
        let (key, end) = range_bounds(prefix, None);
        let options = WatchOptions::new()
            .with_range(end)
            .with_prev_key()
            .with_start_revision(from);
        let mut client = self.watch.clone();
        let mut stream = self
            .call(CALL_TIMEOUT, client.watch(key, Some(options)))
            .await
            .map_err(Failure::into_error)?;
        // Wait until etcd has registered the watcher, so that a watch "from now" sees every
        // write that starts after this call returns.
        let mut state = WatchState {
            pending: VecDeque::new(),
            from,
            endpoints: self.endpoints.clone(),
        };
        loop {
            let msg = self
                .call(CALL_TIMEOUT, stream.message())
                .await
                .map_err(Failure::into_error)?;
            let Some(resp) = msg else {
                return Err(Error::Unavailable(format!(
                    "etcd at {} closed the watch on {prefix:?} before confirming it",
                    self.endpoints
                )));
            };
            if let Some(err) = state.absorb(&resp) {
                return Err(err);
            }
            if resp.created() {
                break;
            }
        }
        Ok(spawn_pump(stream, state, self.watch_queue))
    }

    async fn compact(&self, revision: i64) -> Result<()> {
        let (current, marker) = self.read_marker().await?;
        if revision > current {
            return Err(Error::FutureRevision {
                requested: revision,
                current,
            });
        }
        if matches!(marker.parsed, Ok(c) if revision <= c) || revision <= 0 {
            return Ok(());
        }
        let mut kv = self.kv();
        let compaction = kv.compact(revision, Some(CompactionOptions::new().with_physical()));
        match self.call(COMPACT_TIMEOUT, compaction).await {
            // Already compacted at or past `revision` (another server, or an operator).
            Ok(_) | Err(Failure::Compacted) => {}
            Err(f) => return Err(self.read_error(f, revision).await),
        }
        self.record_compacted(revision, marker).await
    }

    async fn current_revision(&self) -> Result<i64> {
        let mut kv = self.kv();
        let probe = kv.get(COMPACT_REV_KEY, Some(GetOptions::new().with_count_only()));
        let resp = self
            .call(CALL_TIMEOUT, probe)
            .await
            .map_err(Failure::into_error)?;
        Ok(header_revision(resp.header()))
    }

    async fn compacted_revision(&self) -> Result<i64> {
        let (_, marker) = self.read_marker().await?;
        marker.parsed
    }
}

/// One etcd client (one HTTP/2 connection per endpoint, opened lazily).
async fn connect_client(endpoints: &[String], names: &str) -> Result<Client> {
    let options = ConnectOptions::new()
        .with_connect_timeout(CONNECT_TIMEOUT)
        .with_keep_alive(Duration::from_secs(30), Duration::from_secs(10))
        // Like the apiserver: a member cut off from its leader refuses requests (and cancels
        // watches) rather than serve stale data.
        .with_require_leader(true);
    let connect = Client::connect_with_balanced_channel(endpoints, Some(options), WideWindow);
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e @ (etcd_client::Error::InvalidUri(_) | etcd_client::Error::InvalidArgs(_)))) => {
            Err(Error::Invalid(format!("etcd endpoints {names:?}: {e}")))
        }
        Ok(Err(e)) => Err(Error::Unavailable(format!(
            "cannot connect to etcd at {names}: {e}"
        ))),
        Err(_) => Err(Error::Unavailable(format!(
            "cannot connect to etcd at {names}: no answer within {CONNECT_TIMEOUT:?}"
        ))),
    }
}

/// HTTP/2 connection window for etcd connections (hyper's default: 5 MiB).
///
/// h2 closes a connection with ENHANCE_YOUR_CALM when the framing overhead of small DATA
/// frames buffered unread exceeds a budget of half this window. A watch event is one small
/// frame (about 100 bytes), so a burst of writes seen by many watchers (1000 watchers times
/// 20 writes already) blows the default budget before the pump tasks have read the frames.
/// 128 MiB puts the budget at 64 MiB, several hundred thousand buffered events. The window
/// also bounds what etcd may send ahead unread, but every watch is read eagerly.
const CONNECTION_WINDOW_BYTES: u32 = 128 * 1024 * 1024;

/// etcd-client's default channel (a tonic balanced channel) with each endpoint's HTTP/2
/// connection window widened to [`CONNECTION_WINDOW_BYTES`]; etcd-client has no option for
/// it, but lets the channel be built here.
struct WideWindow;

type EndpointChange = Change<http::Uri, tonic::transport::Endpoint>;

impl etcd_client::BalancedChannelBuilder for WideWindow {
    type Error = etcd_client::Error;

    fn balanced_channel(
        self,
        buffer_size: usize,
    ) -> std::result::Result<(etcd_client::Channel, mpsc::Sender<EndpointChange>), Self::Error>
    {
        let (channel, inner) = tonic::transport::Channel::balance_channel(buffer_size);
        let (tx, mut rx) = mpsc::channel::<EndpointChange>(buffer_size.max(1));
        // Endpoints come and go through this task, widened on the way; it ends when the
        // client (the sender) goes away or the channel stops listening.
        tokio::spawn(async move {
            while let Some(change) = rx.recv().await {
                let change = match change {
                    Change::Insert(uri, endpoint) => Change::Insert(
                        uri,
                        endpoint.initial_connection_window_size(CONNECTION_WINDOW_BYTES),
                    ),
                    other => other,
                };
                if inner.send(change).await.is_err() {
                    break;
                }
            }
        });
        Ok((etcd_client::Channel::Tonic(channel), tx))
    }
}

/// An etcd failure, sorted: the two read errors need numbers the caller looks up.
enum Failure {
    Compacted,
    FutureRevision,
    Other(Error),
}

impl Failure {
    /// For calls where compaction and future revisions cannot happen (no revision asked).
    fn into_error(self) -> Error {
        match self {
            Failure::Compacted => Error::Compacted {
                requested: 0,
                compacted: 0,
            },
            Failure::FutureRevision => Error::FutureRevision {
                requested: 0,
                current: 0,
            },
            Failure::Other(e) => e,
        }
    }
}

/// The compaction marker as read from etcd.
#[derive(Clone)]
struct Marker {
    /// The recorded compacted revision (0 when absent); `Corrupt` if the key holds garbage.
    parsed: Result<i64>,
    /// The marker key's mod_revision (0 when absent), for compare-and-swap.
    mod_revision: i64,
}

impl Marker {
    const ABSENT: Marker = Marker {
        parsed: Ok(0),
        mod_revision: 0,
    };

    /// The recorded compacted revision, 0 if absent or unreadable.
    fn compacted(&self) -> i64 {
        self.parsed.clone().unwrap_or(0)
    }

    fn parse(value: &[u8], mod_revision: i64) -> Marker {
        let parsed = std::str::from_utf8(value)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                Error::Corrupt(format!(
                    "{COMPACT_REV_KEY} holds {:?}, not a revision",
                    String::from_utf8_lossy(value)
                ))
            });
        Marker {
            parsed,
            mod_revision,
        }
    }
}

/// A watch's events received from etcd but not yet queued for the reader.
struct WatchState {
    pending: VecDeque<Result<Event>>,
    from: i64,
    endpoints: Arc<str>,
}

impl WatchState {
    /// Queues the events of one etcd response; returns the error that ends the watch, if the
    /// response cancels it.
    fn absorb(&mut self, resp: &etcd_client::WatchResponse) -> Option<Error> {
        if resp.canceled() {
            let compacted = resp.compact_revision();
            return Some(if compacted > 0 {
                Error::Compacted {
                    requested: self.from,
                    compacted,
                }
            } else {
                Error::Unavailable(format!(
                    "etcd at {} cancelled the watch: {}",
                    self.endpoints,
                    if resp.cancel_reason().is_empty() {
                        "no reason given"
                    } else {
                        resp.cancel_reason()
                    }
                ))
            });
        }
        for ev in resp.events() {
            let event = to_event(ev);
            let failed = event.is_err();
            self.pending.push_back(event);
            if failed {
                // Stop at the first bad event: what follows would hide a gap.
                break;
            }
        }
        None
    }
}

/// Hands a confirmed etcd watch to a task that reads it as fast as etcd sends and queues the
/// events for the returned stream.
///
/// Reading eagerly matters: all watches share one HTTP/2 connection, and h2 closes the whole
/// connection (every watch and request on it) when too many small unread DATA frames pile up
/// in its buffers. So unread events wait in this watcher's own queue instead, and a reader
/// that lets more than `limit` pile up is cut off alone, its stream ending with
/// `Unavailable`, as in the in-process backends.
fn spawn_pump(stream: etcd_client::WatchStream, state: WatchState, limit: usize) -> WatchStream {
    let (tx, rx) = mpsc::channel(limit.max(1));
    let fell_behind = Arc::new(AtomicBool::new(false));
    let endpoints = state.endpoints.clone();
    tokio::spawn(pump(stream, state, tx, fell_behind.clone()));
    let reader = Reader {
        rx,
        fell_behind,
        ended: false,
        limit,
        endpoints,
    };
    futures::stream::unfold(reader, Reader::next).boxed()
}

/// Reads one etcd watch into `tx` until the watch ends, the reader goes away, or the reader
/// falls behind. Owns the etcd watch: returning drops it, which cancels it at etcd.
async fn pump(
    mut stream: etcd_client::WatchStream,
    mut state: WatchState,
    tx: mpsc::Sender<Result<Event>>,
    fell_behind: Arc<AtomicBool>,
) {
    loop {
        while let Some(item) = state.pending.pop_front() {
            let last = item.is_err();
            match tx.try_send(item) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    fell_behind.store(true, Ordering::Release);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
            if last {
                return;
            }
        }
        let msg = tokio::select! {
            _ = tx.closed() => return,
            msg = stream.message() => msg,
        };
        let end = match msg {
            Ok(Some(resp)) => state.absorb(&resp),
            Ok(None) => Some(Error::Unavailable(format!(
                "etcd at {} closed the watch stream",
                state.endpoints
            ))),
            Err(e) => Some(Error::Unavailable(format!(
                "etcd watch at {} broke: {e}",
                state.endpoints
            ))),
        };
        if let Some(err) = end {
            state.pending.push_back(Err(err));
        }
    }
}

/// The reading end of a watch.
struct Reader {
    rx: mpsc::Receiver<Result<Event>>,
    fell_behind: Arc<AtomicBool>,
    ended: bool,
    limit: usize,
    endpoints: Arc<str>,
}

impl Reader {
    async fn next(mut self) -> Option<(Result<Event>, Reader)> {
        if self.ended {
            return None;
        }
        let item = match self.rx.recv().await {
            Some(item) => item,
            None if self.fell_behind.load(Ordering::Acquire) => Err(Error::Unavailable(format!(
                "watcher cut off: it left more than {} changes unread",
                self.limit
            ))),
            None => Err(Error::Unavailable(format!(
                "the watch on etcd at {} ended",
                self.endpoints
            ))),
        };
        self.ended = item.is_err();
        Some((item, self))
    }
}

/// The response header's revision (0 if etcd sent none, which it always does).
fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> i64 {
    header.map(|h| h.revision()).unwrap_or_default()
}

/// The first key-value of the first range response in a transaction's answer.
fn first_range_kv(resp: &TxnResponse) -> Option<etcd_client::KeyValue> {
    resp.op_responses().into_iter().find_map(|op| match op {
        TxnOpResponse::Get(mut g) => g.take_kvs().into_iter().next(),
        _ => None,
    })
}

/// etcd's key range for "keys under `prefix`, strictly after `after`". The empty prefix is
/// the whole keyspace (`\0` to `\0`, etcd's "from the smallest key on").
fn range_bounds(prefix: &str, after: Option<&str>) -> (Vec<u8>, Vec<u8>) {
    let end = prefix_end(prefix.as_bytes());
    let start = match after {
        // The smallest key greater than `after`.
        Some(after) if after >= prefix => {
            let mut k = after.as_bytes().to_vec();
            k.push(0);
            k
        }
        _ if prefix.is_empty() => vec![0],
        _ => prefix.as_bytes().to_vec(),
    };
    (start, end)
}

/// The smallest key greater than every key starting with `prefix`; `\0` (no upper bound)
/// when there is none.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

fn to_kv(kv: etcd_client::KeyValue) -> Result<KeyValue> {
    let (create_revision, mod_revision) = (kv.create_revision(), kv.mod_revision());
    let (key, value) = kv.into_key_value();
    let key = String::from_utf8(key).map_err(|e| {
        Error::Corrupt(format!(
            "etcd holds a key that is not UTF-8: {:?}",
            String::from_utf8_lossy(e.as_bytes())
        ))
    })?;
    Ok(KeyValue {
        key,
        value: Bytes::from(value),
        create_revision,
        mod_revision,
    })
}

/// Maps one etcd event. etcd's own rule decides the kind: a key-value with create_revision 0
/// is a deletion (its kv carries the key and the delete's revision); a put whose
/// create_revision equals its mod_revision created the key.
fn to_event(ev: &etcd_client::Event) -> Result<Event> {
    let kv = ev
        .kv()
        .cloned()
        .ok_or_else(|| Error::Unavailable("etcd sent a watch event without a key-value".into()))?;
    let kv = to_kv(kv)?;
    let prev_kv = ev.prev_kv().cloned().map(to_kv).transpose()?;
    let kind = if kv.create_revision == 0 {
        EventKind::Delete
    } else if kv.create_revision == kv.mod_revision {
        EventKind::Create
    } else {
        EventKind::Update
    };
    let kv = match kind {
        EventKind::Delete => KeyValue {
            value: Bytes::new(),
            create_revision: 0,
            ..kv
        },
        _ => kv,
    };
    Ok(Event { kind, kv, prev_kv })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_the_last_byte_below_ff() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), b"\0");
        assert_eq!(prefix_end(b""), b"\0");
    }

    #[test]
    fn range_bounds_start_after_the_continue_key() {
        assert_eq!(
            range_bounds("/p/", None),
            (b"/p/".to_vec(), b"/p0".to_vec())
        );
        assert_eq!(
            range_bounds("/p/", Some("/p/b")),
            (b"/p/b\0".to_vec(), b"/p0".to_vec())
        );
        // A continue key before the prefix does not widen the range.
        assert_eq!(
            range_bounds("/p/", Some("/a")),
            (b"/p/".to_vec(), b"/p0".to_vec())
        );
        assert_eq!(range_bounds("", None), (b"\0".to_vec(), b"\0".to_vec()));
    }

    #[test]
    fn marker_parses_or_reports_corruption() {
        assert!(matches!(Marker::parse(b"42", 7).parsed, Ok(42)));
        let m = Marker::parse(b"x", 7);
        assert!(matches!(m.parsed, Err(Error::Corrupt(_))));
        assert_eq!((m.compacted(), m.mod_revision), (0, 7));
    }
}
