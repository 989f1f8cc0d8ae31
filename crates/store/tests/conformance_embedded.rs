//! The conformance suite against the embedded backend, on a fresh temporary directory.

use std::sync::Arc;

use skiff_store::conformance::Fixture;
use skiff_store::EmbeddedStore;

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(dir.path().join("data")).expect("open embedded store");
    Fixture {
        store: Arc::new(store),
        guard: Box::new(dir),
    }
}

skiff_store::conformance_tests!(fixture());
