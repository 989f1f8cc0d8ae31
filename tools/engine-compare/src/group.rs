//! Group commit for engines that do one fsync per transaction: one committer thread takes
//! every write waiting in its queue, applies them all in ONE transaction (each still a
//! compare-and-swap) and answers each caller after the commit. This is what skiff's
//! EmbeddedStore does in front of its log; wrapping SQLite or redb in it shows how much of
//! the difference is the batching discipline rather than the storage format.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::thread::{self, JoinHandle};

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;

use crate::harness::{Outcome, Writer};

/// One write, as a committer applies it.
#[derive(Debug, Clone)]
pub enum Op {
    Create {
        key: String,
        value: Bytes,
    },
    Update {
        key: String,
        value: Bytes,
        expected: i64,
    },
}

/// Applies a batch of writes in one durable transaction.
pub trait BatchApply: Send + 'static {
    /// One outcome per op, in order; an `Err` fails the whole batch.
    fn apply(&mut self, ops: &[Op]) -> Result<Vec<Outcome>>;
}

type Reply = SyncSender<Result<Outcome, String>>;

/// The committer thread and the queue in front of it.
pub struct Group {
    tx: Option<Sender<(Op, Reply)>>,
    thread: Option<JoinHandle<()>>,
}

impl Group {
    /// Starts a committer over `engine`, taking at most `max_batch` writes per transaction.
    pub fn start<A: BatchApply>(mut engine: A, max_batch: usize) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<(Op, Reply)>();
        let thread = thread::Builder::new()
            .name("group-committer".into())
            .spawn(move || serve(&mut engine, &rx, max_batch.max(1)))
            .context("cannot start the committer thread")?;
        Ok(Group {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// A handle for one writer thread.
    pub fn writer(&self) -> Result<GroupWriter> {
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| anyhow!("committer stopped"))?
            .clone();
        Ok(GroupWriter { tx })
    }

    /// Stops the committer once every handle is gone, and waits for it.
    pub fn stop(mut self) -> Result<()> {
        self.tx.take();
        match self.thread.take().map(JoinHandle::join) {
            Some(Err(_)) => Err(anyhow!("the committer thread panicked")),
            _ => Ok(()),
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve<A: BatchApply>(engine: &mut A, rx: &Receiver<(Op, Reply)>, max_batch: usize) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let (ops, replies): (Vec<Op>, Vec<Reply>) = batch.into_iter().unzip();
        match engine.apply(&ops) {
            Ok(outcomes) if outcomes.len() == ops.len() => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Ok(_) => {
                for reply in replies {
                    let _ =
                        reply.send(Err("committer returned the wrong number of outcomes".into()));
                }
            }
            Err(e) => {
                let why = format!("{e:#}");
                for reply in replies {
                    let _ = reply.send(Err(why.clone()));
                }
            }
        }
    }
}

/// One writer's way into a [`Group`].
pub struct GroupWriter {
    tx: Sender<(Op, Reply)>,
}

impl GroupWriter {
    fn call(&self, op: Op) -> Result<Outcome> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.tx
            .send((op, reply))
            .map_err(|_| anyhow!("committer stopped"))?;
        answer
            .recv()
            .map_err(|_| anyhow!("committer stopped"))?
            .map_err(|e| anyhow!(e))
    }
}

impl Writer for GroupWriter {
    fn create(&mut self, key: &str, value: &Bytes) -> Result<Outcome> {
        self.call(Op::Create {
            key: key.into(),
            value: value.clone(),
        })
    }

    fn update(&mut self, key: &str, value: &Bytes, expected: i64) -> Result<Outcome> {
        self.call(Op::Update {
            key: key.into(),
            value: value.clone(),
            expected,
        })
    }
}
