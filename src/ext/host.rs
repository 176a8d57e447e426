//! The bot a plugin runs in, as autClaw's `middleware.js` exposes it: `name()`, `version()`,
//! `port()` and `getActiveImtypes()` (the IMs with an account online now). JS:
//! `js/25_autclaw.js`, which also holds the autClaw functions isobot has no data or action for
//! (they reject with "<name> is not supported in isobot").

use super::{js_file, JsFile, Services};
use deno_core::{op2, OpState};
use serde::Serialize;
use std::sync::Arc;

deno_core::extension!(isobot_host, ops = [op_isobot_host]);

pub(super) const JS: &[JsFile] = &[js_file!("25_autclaw.js")];

#[derive(Serialize)]
pub(crate) struct HostInfo {
    name: &'static str,
    version: &'static str,
    /// The HTTP server's port; `None` when the command serves none.
    port: Option<u16>,
    /// IMs with at least one online account, in config order.
    ims: Vec<String>,
}

#[op2]
#[serde]
pub(crate) fn op_isobot_host(state: &OpState) -> HostInfo {
    let services = state.borrow::<Arc<Services>>();
    let mut ims: Vec<String> = Vec::new();
    for view in services.outbox.views() {
        if view.online && !ims.iter().any(|im| im == view.im) {
            ims.push(view.im.to_string());
        }
    }
    HostInfo {
        name: "isobot",
        version: env!("CARGO_PKG_VERSION"),
        port: services.listen.map(|a| a.port()),
        ims,
    }
}
