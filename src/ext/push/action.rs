//! `callAction(name, params, options?)`: any protocol action of an account (OneBot actions such
//! as `set_group_add_request`, Telegram methods such as `answerCallbackQuery`). Guarded: the
//! account is the one that received the run's message or event, or one the plugin names
//! explicitly (`options.account_id`, with `options.imType` when the id is not unique); a
//! cron or route run without a named account calls nothing. The call is recorded on the run.

use super::items::first_str;
use super::{record, scope, PushError, MAX_TIMEOUT, MIN_TIMEOUT};
use crate::accounts::{AccountView, SelectionRule};
use crate::outgoing::{ActionRequest, Outbox};
use crate::run::{ContextKind, RunContext, SendKind, SendRecord, SendResult};
use deno_core::{op2, OpState};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Default limit of one action (some, like member lists, take a while).
const ACTION_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest action name accepted (names are identifiers like `get_group_member_list`).
const NAME_MAX: usize = 64;

#[derive(Deserialize)]
pub(crate) struct CallArgs {
    name: String,
    params: Option<Map<String, Value>>,
    options: Option<Map<String, Value>>,
}

/// Why a `callAction` was refused before it reached an adapter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error("action name `{0}` is not valid; pass a name like `get_login_info` or `answerCallbackQuery`")]
    BadName(String),
    #[error("callAction outside a message or event run needs the account: pass {{account_id: \"…\"}} as the third argument")]
    NoAccount,
    #[error("account `{id}` exists for several IMs ({ims}); add imType to the options")]
    Ambiguous { id: String, ims: String },
    #[error("no account `{id}`{for_im} is configured; configured accounts: {known}")]
    Unknown {
        id: String,
        for_im: String,
        known: String,
    },
}

/// The (im, account) the call goes through, and whether the plugin named it (pure).
pub fn target_account(
    views: &[AccountView<'_>],
    ctx: &RunContext,
    options: Option<&Map<String, Value>>,
) -> Result<(String, String, SelectionRule), CallError> {
    let explicit = first_str(options, &["account_id", "accountID", "accountId"]);
    let im = first_str(options, &["imType", "imtype", "im"]);
    let in_message = ctx.kind == ContextKind::Message && !ctx.message.account.is_empty();
    let Some(id) = explicit else {
        return match (in_message, im) {
            (true, None) => Ok((
                ctx.message.im.clone(),
                ctx.message.account.clone(),
                SelectionRule::ReceivingAccount,
            )),
            (true, Some(im)) if im == ctx.message.im => Ok((
                im,
                ctx.message.account.clone(),
                SelectionRule::ReceivingAccount,
            )),
            _ => Err(CallError::NoAccount),
        };
    };
    let im = im.or_else(|| in_message.then(|| ctx.message.im.clone()));
    let matching: Vec<&AccountView<'_>> = views
        .iter()
        .filter(|v| v.id == id && im.as_deref().is_none_or(|im| v.im == im))
        .collect();
    match matching.as_slice() {
        [one] => Ok((one.im.to_string(), id, SelectionRule::Explicit)),
        [] => Err(CallError::Unknown {
            for_im: im.map(|i| format!(" for {i}")).unwrap_or_default(),
            id,
            known: views
                .iter()
                .map(|v| format!("{}/{}", v.im, v.id))
                .collect::<Vec<_>>()
                .join(", "),
        }),
        many => Err(CallError::Ambiguous {
            id,
            ims: many.iter().map(|v| v.im).collect::<Vec<_>>().join(", "),
        }),
    }
}

fn valid_name(name: &str) -> bool {
    // `..` would climb out of the OneBot HTTP API path.
    !name.is_empty()
        && name.len() <= NAME_MAX
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// Resolves the action's result (`data` of a OneBot answer, `result` of a Bot API call).
#[op2]
#[serde]
pub(crate) async fn op_isobot_call_action(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[serde] args: CallArgs,
) -> Result<serde_json::Value, PushError> {
    call_action(state, run_id, args).await
}

impl CallArgs {
    /// Action `name` with `params` through the run's account (es5 `GroupKick`, `GroupBan`).
    pub(crate) fn new(name: &str, params: Map<String, Value>) -> Self {
        CallArgs {
            name: name.to_string(),
            params: Some(params),
            options: None,
        }
    }
}

/// The call itself, shared with the blocking es5 group globals (`ext::es5`).
pub(crate) async fn call_action(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    args: CallArgs,
) -> Result<serde_json::Value, PushError> {
    let (sc, _hold) = scope(&state, run_id)?;
    if !valid_name(&args.name) {
        return Err(PushError::Call(CallError::BadName(
            args.name.chars().take(NAME_MAX).collect(),
        )));
    }
    let params = args.params.unwrap_or_default();
    let outbox: &dyn Outbox = &*sc.services.outbox;
    let (im, account, rule) =
        target_account(&outbox.views(), &sc.ctx, args.options.as_ref()).map_err(PushError::Call)?;
    let timeout = args
        .options
        .as_ref()
        .and_then(|o| o.get("timeout"))
        .and_then(Value::as_f64)
        .and_then(|ms| crate::duration::from_ms(ms, MIN_TIMEOUT, MAX_TIMEOUT))
        .unwrap_or(ACTION_TIMEOUT);
    let mut rec = SendRecord::new(SendKind::CallAction, &im);
    rec.account = Some(account.clone());
    rec.rule = Some(rule);
    rec.body = json!({ "action": args.name, "params": params });
    let result = outbox
        .call(ActionRequest {
            im,
            account,
            action: args.name,
            params,
            timeout,
        })
        .await;
    match result {
        Ok(value) => {
            rec.result = SendResult::Sent;
            record(&state, run_id, rec);
            Ok(value)
        }
        Err(error) => {
            rec.result = SendResult::Failed;
            rec.error = Some(error.to_string());
            record(&state, run_id, rec);
            Err(PushError::Send {
                action: SendKind::CallAction,
                error,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Message;
    use serde_json::json;

    fn view<'a>(im: &'a str, id: &'a str) -> AccountView<'a> {
        AccountView {
            im,
            id,
            default: false,
            online: true,
        }
    }

    #[test]
    fn the_account_is_the_runs_or_named() {
        let views = [
            view("qq", "main"),
            view("qq", "alt"),
            view("telegram", "main"),
        ];
        let msg = RunContext::message(
            Message {
                im: "qq".into(),
                account: "main".into(),
                ..Message::default()
            },
            Vec::new(),
            None,
        );
        let opts = |v: Value| v.as_object().cloned();
        let ok = |im: &str, id: &str, rule| Ok((im.to_string(), id.to_string(), rule));
        type Case<'a> = (
            &'a str,
            &'a RunContext,
            Option<Map<String, Value>>,
            Result<(String, String, SelectionRule), CallError>,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                "message run: receiving account",
                &msg,
                None,
                ok("qq", "main", SelectionRule::ReceivingAccount),
            ),
            (
                "named in the run's IM",
                &msg,
                opts(json!({"account_id": "alt"})),
                ok("qq", "alt", SelectionRule::Explicit),
            ),
            (
                "named in another IM",
                &msg,
                opts(json!({"account_id": "main", "imType": "telegram"})),
                ok("telegram", "main", SelectionRule::Explicit),
            ),
            (
                "another IM, no account",
                &msg,
                opts(json!({"imType": "telegram"})),
                Err(CallError::NoAccount),
            ),
        ];
        for (name, ctx, o, want) in cases {
            assert_eq!(target_account(&views, ctx, o.as_ref()), want, "{name}");
        }
        let cron = RunContext::cron();
        assert_eq!(
            target_account(&views, &cron, None),
            Err(CallError::NoAccount)
        );
        assert_eq!(
            target_account(&views, &cron, opts(json!({"accountId": "alt"})).as_ref()),
            ok("qq", "alt", SelectionRule::Explicit)
        );
        assert!(matches!(
            target_account(&views, &cron, opts(json!({"account_id": "main"})).as_ref()),
            Err(CallError::Ambiguous { .. })
        ));
        let unknown = target_account(&views, &cron, opts(json!({"account_id": "x"})).as_ref());
        assert!(
            matches!(&unknown, Err(CallError::Unknown { known, .. }) if known == "qq/main, qq/alt, telegram/main"),
            "{unknown:?}"
        );
    }

    #[test]
    fn action_names() {
        for good in [
            "get_login_info",
            "answerCallbackQuery",
            ".handle_quick_operation",
        ] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "a/b", "../x", "..", "a b", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
