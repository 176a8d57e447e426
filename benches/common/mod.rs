//! Setup shared by the in-process benches: services with one default console account and a
//! redb store in a temp folder named for the bench.

use isobot::adapters::console::Console;
use isobot::adapters::{Account, AdapterSet};
use isobot::ext::Services;
use std::path::Path;
use std::sync::Arc;

/// Services on `rt` with a quiet console account `qq`/`bot` and a lazy redb store under
/// `<tmp>/isobot-bench-<name>`.
#[allow(dead_code)] // each bench compiles this module and uses only some of it
pub fn services(rt: &tokio::runtime::Runtime, name: &str) -> Arc<Services> {
    let _guard = rt.enter();
    services_at(&std::env::temp_dir().join(format!("isobot-bench-{name}")))
}

/// The same services with the store in `store_dir`, on the runtime of the caller.
pub fn services_at(store_dir: &Path) -> Arc<Services> {
    let console = Arc::new(Console::new(false));
    let accounts = vec![Account {
        im: "qq".into(),
        id: "bot".into(),
        default: true,
        adapter: console,
    }];
    let handle = tokio::runtime::Handle::current();
    Services::builder(Arc::new(AdapterSet::new(accounts, handle)))
        .store(Arc::new(isobot::store::RedbStore::lazy(store_dir)))
        .build()
        .expect("services")
}
