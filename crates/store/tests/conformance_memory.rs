//! The conformance suite against the memory backend.

use std::sync::Arc;

use skiff_store::conformance::Fixture;
use skiff_store::MemoryStore;

async fn fixture() -> Fixture {
    Fixture {
        store: Arc::new(MemoryStore::new()),
        guard: Box::new(()),
    }
}

skiff_store::conformance_tests!(fixture());
