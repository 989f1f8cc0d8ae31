//! skiff's node agent. For now: [`hollow`] nodes, which register, heartbeat and run pods
//! without containers (for tests and scale measurements, as KWOK does).

pub mod hollow;
