//! The TOML shape of a bridge preset (serde, `deny_unknown_fields`): what `presets.toml` and an
//! account's `override` table may say. `preset.rs` checks it into the typed `Preset`.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPreset {
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) account: AccountKeys,
    pub(super) inbound: Option<RawInbound>,
    pub(super) send: RawSend,
    pub(super) recall: Option<RawKind>,
}

/// The keys an `[[accounts]]` entry of this preset must or may give (`{{account.<key>}}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountKeys {
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub optional: Vec<String>,
    /// Never logged, never in errors.
    #[serde(default)]
    pub secret: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInbound {
    #[serde(default)]
    pub(super) lenient_json: bool,
    #[serde(default)]
    pub(super) auth: Vec<RawAuth>,
    pub(super) account_by: Option<RawAccountBy>,
    pub(super) ack: Ack,
    #[serde(default)]
    pub(super) drop_if: Vec<RawPred>,
    #[serde(default)]
    pub(super) accept: Vec<RawPred>,
    #[serde(default)]
    pub(super) self_if: Vec<RawPred>,
    pub(super) dedup: Option<RawDedup>,
    pub(super) max_age: Option<RawMaxAge>,
    #[serde(default)]
    pub(super) group_if: Vec<RawPred>,
    #[serde(default)]
    pub(super) mentions_me_if: Vec<RawPred>,
    pub(super) mentions: Option<String>,
    #[serde(default)]
    pub(super) fields: BTreeMap<String, RawField>,
    pub(super) private: Shape,
    pub(super) group: Shape,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    pub(super) header: Option<String>,
    pub(super) query: Option<String>,
    pub(super) value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccountBy {
    pub(super) pointer: String,
    pub(super) equals: String,
}

/// What every accepted callback is answered with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default = "json_type")]
    pub content_type: String,
    #[serde(default)]
    pub body: String,
}

fn ok_status() -> u16 {
    200
}

fn json_type() -> String {
    "application/json".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPred {
    pub(super) pointer: Option<String>,
    pub(super) field: Option<String>,
    pub(super) equals: Option<Value>,
    pub(super) not_equals: Option<Value>,
    #[serde(rename = "in")]
    pub(super) in_: Option<Vec<Value>>,
    pub(super) not_in: Option<Vec<Value>>,
    pub(super) exists: Option<bool>,
    pub(super) prefix: Option<String>,
    pub(super) suffix: Option<String>,
    pub(super) contains: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDedup {
    pub(super) key: Vec<String>,
    #[serde(default)]
    pub(super) fallback: Vec<String>,
    pub(super) ttl: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaxAge {
    pub(super) field: String,
    #[serde(default = "seconds")]
    pub(super) unit: String,
    pub(super) max: String,
}

fn seconds() -> String {
    "s".into()
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawField {
    Pointer(String),
    Spec(RawFieldSpec),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFieldSpec {
    pub(super) pointer: Option<String>,
    pub(super) field: Option<String>,
    pub(super) default: Option<String>,
    #[serde(default)]
    pub(super) unescape_u: bool,
    #[serde(default)]
    pub(super) emoji_tags: bool,
    pub(super) xml_text: Option<String>,
    pub(super) split_prefix: Option<String>,
    pub(super) take: Option<String>,
    pub(super) strip_regex: Option<String>,
    pub(super) split: Option<String>,
}

/// Templates of the message fields for one of the two layouts (private, group).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    #[serde(default)]
    pub chat: String,
    #[serde(default)]
    pub chat_name: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub message_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSend {
    pub(super) base: String,
    #[serde(default = "post")]
    pub(super) method: String,
    #[serde(default)]
    pub(super) headers: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) ok: Vec<RawPred>,
    #[serde(default)]
    pub(super) error: Vec<String>,
    pub(super) error_code: Option<String>,
    pub(super) receipt: Option<Receipt>,
    pub(super) text_format: Option<TextFormat>,
    pub(super) text: Option<RawKind>,
    pub(super) image: Option<RawKind>,
    pub(super) file: Option<RawKind>,
    pub(super) video: Option<RawKind>,
    pub(super) voice: Option<RawKind>,
}

fn post() -> String {
    "POST".into()
}

/// How the receipt id is made from a send's answer (and taken apart again for a recall).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub parts: Vec<String>,
    #[serde(default = "colon")]
    pub join: String,
}

fn colon() -> String {
    ":".into()
}

/// How `{{text}}` is written for the framework.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextFormat {
    /// What `\n` becomes (QianXun wants `\r`).
    pub newline: Option<String>,
    /// `qx_tags`: characters outside letters and Han as `[emoji=xxxx]` UTF-16 units.
    pub emoji: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKind {
    #[serde(default)]
    pub(super) path: String,
    pub(super) method: Option<String>,
    pub(super) body: Value,
    pub(super) media: Option<MediaSpec>,
}

/// Which isobot media sources the framework takes as they are: `url` (http/https), `path`
/// (a local path, handed over as written: right when the framework runs on isobot's machine).
/// Anything else is refused with an error that says what the framework takes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSpec {
    #[serde(default)]
    pub accept: Vec<String>,
}
