//! Setup shared by the in-process benches: services with one default console account and a
//! redb store in a temp folder named for the bench.

use isobot::adapters::console::Console;
use isobot::adapters::{Account, AdapterSet};
use isobot::ext::Services;
use std::sync::Arc;

/// Services on `rt` with a quiet console account `qq`/`bot` and a lazy redb store under
/// `<tmp>/isobot-bench-<name>`.
pub fn services(rt: &tokio::runtime::Runtime, name: &str) -> Arc<Services> {
    let console = Arc::new(Console::new(false));
    let accounts = vec![Account {
        im: "qq".into(),
        id: "bot".into(),
        default: true,
        adapter: console,
    }];
    let _guard = rt.enter();
    Services::builder(Arc::new(AdapterSet::new(accounts, rt.handle().clone())))
        .store(Arc::new(isobot::store::RedbStore::lazy(
            &std::env::temp_dir().join(format!("isobot-bench-{name}")),
        )))
        .build()
        .expect("services")
}
