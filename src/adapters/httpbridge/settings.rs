//! `[[accounts]]` settings of an HTTP-bridge account (docs/adapters.md): `preset = "…"`, the
//! keys that preset declares (`account.required` / `account.optional`), and an optional
//! `override` table merged over the preset. Checked here, at config time; how the kind builds
//! its accounts: an adapter each, one callback route for those that take callbacks.

use super::inbound::is_open;
use super::preset::{compile, merged, Preset};
use super::BridgeAccount;
use crate::adapters::{
    AccountHead, AccountSettings, AccountSpec, Adapter, BuildContext, BuildError, Ingress,
    KindBuilt, Settings, SettingsError,
};
use crate::event::Inbox;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Settings of one bridge account.
#[derive(Clone)]
pub struct BridgeConfig {
    /// The built-in preset's name, or `custom` for a definition given wholly in `override`.
    pub preset_name: String,
    pub preset: Arc<Preset>,
    /// The account's values of the preset's keys.
    pub values: BTreeMap<String, String>,
}

/// Secrets stay out of debug output (config dumps, test failures).
impl std::fmt::Debug for BridgeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: BTreeMap<&str, &str> = self
            .values
            .iter()
            .map(|(k, v)| {
                let secret = self.preset.account.secret.iter().any(|s| s == k);
                (k.as_str(), if secret { "***" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("BridgeConfig")
            .field("preset", &self.preset_name)
            .field("values", &shown)
            .finish()
    }
}

impl AccountSettings for BridgeConfig {
    fn kind(&self) -> &'static str {
        super::KIND.name
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

pub(super) fn parse(
    _head: &AccountHead<'_>,
    s: &mut Settings,
) -> Result<Arc<dyn AccountSettings>, SettingsError> {
    let name = s.string("preset")?;
    let over = s.table("override")?;
    if name.is_none() && over.is_none() {
        return Err(SettingsError(format!(
            "the httpbridge adapter needs `preset = \"…\"` (built in: {}), or a whole definition in an [accounts.override] table",
            super::preset::built_in_names().join(", ")
        )));
    }
    let label = name.clone().unwrap_or_else(|| "custom".into());
    let table = merged(name.as_deref(), over).map_err(SettingsError)?;
    let preset = compile(table).map_err(|e| {
        SettingsError(format!(
            "preset {label} (with this account's override): {e}"
        ))
    })?;
    let mut values = BTreeMap::new();
    for key in &preset.account.required {
        let v = s.required(
            key,
            &format!(
                "the {label} preset needs `{key} = \"…\"` (docs/adapters.md lists what it means)"
            ),
        )?;
        values.insert(key.clone(), v);
    }
    for key in &preset.account.optional {
        if let Some(v) = s.string(key)?.filter(|v| !v.is_empty()) {
            values.insert(key.clone(), v);
        }
    }
    let config = BridgeConfig {
        preset_name: label,
        preset: Arc::new(preset),
        values,
    };
    check_base(&config)?;
    Ok(Arc::new(config))
}

/// The send URL must come out as http(s) with the account's values.
fn check_base(c: &BridgeConfig) -> Result<(), SettingsError> {
    let lookup = |n: &str| {
        n.strip_prefix("account.")
            .and_then(|k| c.values.get(k).cloned())
            .unwrap_or_default()
    };
    let base = super::value::render(&c.preset.send.base, &lookup);
    if base.starts_with("http://") || base.starts_with("https://") {
        return Ok(());
    }
    Err(SettingsError(format!(
        "the {} preset sends to `{}`, which is not an http:// or https:// URL; set the framework's API address (e.g. base_url = \"http://127.0.0.1:2531/v2/api\")",
        c.preset_name,
        base.chars().take(60).collect::<String>()
    )))
}

pub(super) fn build(specs: &[&AccountSpec], ctx: &BuildContext) -> Result<KindBuilt, BuildError> {
    let accounts: Vec<Arc<BridgeAccount>> = specs
        .iter()
        .filter_map(|spec| {
            let config = spec.settings_as::<BridgeConfig>()?;
            Some(Arc::new(BridgeAccount::new(
                &spec.im,
                &spec.id,
                config,
                ctx.client.clone(),
            )))
        })
        .collect();
    let inbound: Vec<Arc<BridgeAccount>> = accounts
        .iter()
        .filter(|a| a.preset.inbound.is_some())
        .cloned()
        .collect();
    if ctx.inbound {
        for a in inbound.iter().filter(|a| is_open(a)) {
            tracing::warn!(account = %a.id, "httpbridge account takes callbacks without a token; set inbound_token and put ?token=<inbound_token> into the framework's callback URL");
        }
    }
    Ok(KindBuilt {
        adapters: accounts
            .iter()
            .map(|a| a.clone() as Arc<dyn Adapter>)
            .collect(),
        ingress: (!inbound.is_empty())
            .then(|| Box::new(BridgeIngress { accounts: inbound }) as Box<dyn Ingress>),
    })
}

/// `POST /bridge/{account}` for the accounts whose preset takes callbacks.
struct BridgeIngress {
    accounts: Vec<Arc<BridgeAccount>>,
}

impl Ingress for BridgeIngress {
    fn routes(&self, inbox: &Inbox) -> axum::Router {
        super::inbound::routes(self.accounts.clone(), inbox.clone())
    }
}
