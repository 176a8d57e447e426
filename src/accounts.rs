//! Which bot account sends a push: the five account-selection rules of SDK.md §3, as a pure function.
//!
//! Inputs are a snapshot of the configured accounts (with their online state) and the run's
//! context; the output names the account and the rule that chose it, so `isobot run` and the
//! logs can say why. No I/O happens here; the `Outbox` takes the snapshot and acts on the choice.

use serde::Serialize;
use thiserror::Error;

/// One account as selection sees it (borrowed: selection runs on every push).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountView<'a> {
    pub im: &'a str,
    pub id: &'a str,
    pub default: bool,
    pub online: bool,
}

/// The run context, reduced to what selection needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// A message run: the IM and the account that received the message.
    Message {
        im: &'a str,
        account: &'a str,
    },
    Cron,
    Fake,
    Route,
}

/// Which rule of SDK.md §3 picked the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectionRule {
    /// 1. `account_id` / `accountID` / `accountId` named it.
    Explicit,
    /// 2. message context, same IM: the receiving account.
    ReceivingAccount,
    /// 3. cron / fake / route context: the target IM's default.
    ContextDefault,
    /// 4. cross-IM push from a message context: the target IM's default.
    CrossImDefault,
    /// 5. no default: the first online account of the IM.
    FirstOnline,
}

impl SelectionRule {
    /// The serialised name (`receiving_account`), for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            SelectionRule::Explicit => "explicit",
            SelectionRule::ReceivingAccount => "receiving_account",
            SelectionRule::ContextDefault => "context_default",
            SelectionRule::CrossImDefault => "cross_im_default",
            SelectionRule::FirstOnline => "first_online",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            SelectionRule::Explicit => "explicit account option",
            SelectionRule::ReceivingAccount => "same IM as the message: the receiving account",
            SelectionRule::ContextDefault => "no message context: the IM's default account",
            SelectionRule::CrossImDefault => "cross-IM push: the target IM's default account",
            SelectionRule::FirstOnline => "IM has no default: first online account",
        }
    }
}

/// The outcome when a send can go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Account {
        id: String,
        rule: SelectionRule,
    },
    /// The IM has no accounts at all: the push resolves `0`.
    NoAccounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SelectError {
    #[error("account `{id}` does not exist for {im}; configured {im} accounts: {known}")]
    UnknownAccount {
        im: String,
        id: String,
        known: String,
    },
    #[error(
        "account `{id}` belongs to {actual}, not {im}; pick a {im} account or push to {actual}"
    )]
    WrongIm {
        im: String,
        id: String,
        actual: String,
    },
    #[error("adapter offline: no {im} account is online ({known}); check the adapter connection")]
    Offline { im: String, known: String },
}

/// The account that received a message of `im` whose ingress named none (a bridge, the
/// API, the stdin console): the IM's default, else its first online account, else its first
/// account. `None` when the IM has no account at all. Replies go through this account.
pub fn receiving_account<'a>(accounts: &[AccountView<'a>], im: &str) -> Option<&'a str> {
    let of_im = || accounts.iter().filter(|a| a.im == im);
    of_im()
        .find(|a| a.default)
        .or_else(|| of_im().find(|a| a.online))
        .or_else(|| of_im().next())
        .map(|a| a.id)
}

/// Picks the sending account for a push to `im` (SDK.md §3).
pub fn select_account(
    accounts: &[AccountView<'_>],
    im: &str,
    explicit: Option<&str>,
    origin: Origin<'_>,
) -> Result<Choice, SelectError> {
    let of_im = || accounts.iter().filter(|a| a.im == im);
    let known = || {
        let ids: Vec<&str> = of_im().map(|a| a.id).collect();
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.join(", ")
        }
    };
    if let Some(id) = explicit {
        if of_im().any(|a| a.id == id) {
            return Ok(pick(id, SelectionRule::Explicit));
        }
        if let Some(other) = accounts.iter().find(|a| a.id == id) {
            return Err(SelectError::WrongIm {
                im: im.to_string(),
                id: id.to_string(),
                actual: other.im.to_string(),
            });
        }
        return Err(SelectError::UnknownAccount {
            im: im.to_string(),
            id: id.to_string(),
            known: known(),
        });
    }
    let default_rule = match origin {
        Origin::Message {
            im: msg_im,
            account,
        } if msg_im == im => {
            if of_im().any(|a| a.id == account) {
                return Ok(pick(account, SelectionRule::ReceivingAccount));
            }
            // The receiving account is not configured here (e.g. a bridge posted the message):
            // fall through to the IM's default like any other push.
            SelectionRule::CrossImDefault
        }
        Origin::Message { .. } => SelectionRule::CrossImDefault,
        Origin::Cron | Origin::Fake | Origin::Route => SelectionRule::ContextDefault,
    };
    if let Some(default) = of_im().find(|a| a.default) {
        return Ok(pick(default.id, default_rule));
    }
    if let Some(online) = of_im().find(|a| a.online) {
        return Ok(pick(online.id, SelectionRule::FirstOnline));
    }
    if of_im().next().is_none() {
        return Ok(Choice::NoAccounts);
    }
    Err(SelectError::Offline {
        im: im.to_string(),
        known: known(),
    })
}

fn pick(id: &str, rule: SelectionRule) -> Choice {
    Choice::Account {
        id: id.to_string(),
        rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(
        im: &'static str,
        id: &'static str,
        default: bool,
        online: bool,
    ) -> AccountView<'static> {
        AccountView {
            im,
            id,
            default,
            online,
        }
    }

    fn accounts() -> Vec<AccountView<'static>> {
        vec![
            acc("qq", "qa", false, true),
            acc("qq", "qb", true, true),
            acc("telegram", "ta", false, false),
            acc("telegram", "tb", false, true),
            acc("weixin", "wa", false, false),
        ]
    }

    fn ok(id: &str, rule: SelectionRule) -> Result<Choice, SelectError> {
        Ok(Choice::Account {
            id: id.into(),
            rule,
        })
    }

    #[test]
    fn selection_table() {
        let a = accounts();
        let msg_qa = Origin::Message {
            im: "qq",
            account: "qa",
        };
        type Case<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Origin<'a>,
            Result<Choice, SelectError>,
        );
        let cases: Vec<Case> = vec![
            (
                "explicit wins over context",
                "qq",
                Some("qa"),
                Origin::Cron,
                ok("qa", SelectionRule::Explicit),
            ),
            (
                "explicit wins over receiving",
                "qq",
                Some("qb"),
                msg_qa,
                ok("qb", SelectionRule::Explicit),
            ),
            (
                "explicit offline account still explicit",
                "telegram",
                Some("ta"),
                Origin::Fake,
                ok("ta", SelectionRule::Explicit),
            ),
            (
                "explicit unknown",
                "qq",
                Some("nope"),
                Origin::Cron,
                Err(SelectError::UnknownAccount {
                    im: "qq".into(),
                    id: "nope".into(),
                    known: "qa, qb".into(),
                }),
            ),
            (
                "explicit of another IM",
                "qq",
                Some("tb"),
                Origin::Cron,
                Err(SelectError::WrongIm {
                    im: "qq".into(),
                    id: "tb".into(),
                    actual: "telegram".into(),
                }),
            ),
            (
                "same IM → receiving account",
                "qq",
                None,
                msg_qa,
                ok("qa", SelectionRule::ReceivingAccount),
            ),
            (
                "cross-IM → target default",
                "qq",
                None,
                Origin::Message {
                    im: "telegram",
                    account: "tb",
                },
                ok("qb", SelectionRule::CrossImDefault),
            ),
            (
                "cron → default",
                "qq",
                None,
                Origin::Cron,
                ok("qb", SelectionRule::ContextDefault),
            ),
            (
                "fake → default",
                "qq",
                None,
                Origin::Fake,
                ok("qb", SelectionRule::ContextDefault),
            ),
            (
                "route → default",
                "qq",
                None,
                Origin::Route,
                ok("qb", SelectionRule::ContextDefault),
            ),
            (
                "no default → first online",
                "telegram",
                None,
                Origin::Cron,
                ok("tb", SelectionRule::FirstOnline),
            ),
            (
                "cross-IM, no default → first online",
                "telegram",
                None,
                msg_qa,
                ok("tb", SelectionRule::FirstOnline),
            ),
            (
                "IM without accounts → none",
                "discord",
                None,
                Origin::Cron,
                Ok(Choice::NoAccounts),
            ),
            (
                "accounts but none online → offline",
                "weixin",
                None,
                Origin::Cron,
                Err(SelectError::Offline {
                    im: "weixin".into(),
                    known: "wa".into(),
                }),
            ),
            (
                "unknown receiving account → default",
                "qq",
                None,
                Origin::Message {
                    im: "qq",
                    account: "bridge",
                },
                ok("qb", SelectionRule::CrossImDefault),
            ),
        ];
        for (name, im, explicit, origin, want) in cases {
            assert_eq!(
                select_account(&a, im, explicit, origin),
                want,
                "case: {name}"
            );
        }
    }

    #[test]
    fn receiving_account_table() {
        let a = accounts();
        let cases: &[(&str, Option<&str>)] = &[
            ("qq", Some("qb")),       // the default
            ("telegram", Some("tb")), // no default: first online
            ("weixin", Some("wa")),   // none online: first
            ("discord", None),        // no account
        ];
        for (im, want) in cases {
            assert_eq!(receiving_account(&a, im), *want, "{im}");
        }
    }

    #[test]
    fn errors_name_the_account_and_the_fix() {
        let e = select_account(&accounts(), "qq", Some("nope"), Origin::Cron).unwrap_err();
        assert_eq!(
            e.to_string(),
            "account `nope` does not exist for qq; configured qq accounts: qa, qb"
        );
        let e = select_account(&accounts(), "weixin", None, Origin::Cron).unwrap_err();
        assert!(e.to_string().starts_with("adapter offline"), "{e}");
    }
}
