//! `listen`/`input` (SDK.md §5): runs waiting for the next message of a user (or of anyone in
//! a group) in one chat. The dispatcher offers every inbound message to `Listeners` first; a
//! message a waiter takes is consumed and triggers no rule. `op_isobot_listen` is the op.

use super::{Hold, RunEnded, Services};
use crate::event::Message;
use crate::run::{ContextKind, Runs};
use deno_core::{op2, OpState};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;

/// Default wait, and the clamp bounds (SDK.md §5).
pub const DEFAULT_WAIT: Duration = Duration::from_millis(60_000);
pub const MIN_WAIT: Duration = Duration::from_millis(1_000);
pub const MAX_WAIT: Duration = Duration::from_millis(900_000);

/// `waitMs` as a plugin passed it → the wait actually used.
pub fn clamp_wait(ms: f64) -> Duration {
    crate::duration::from_ms(ms, MIN_WAIT, MAX_WAIT).unwrap_or(DEFAULT_WAIT)
}

/// Where a waiter listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenScope {
    pub im: String,
    pub account: String,
    pub chat: String,
    /// `None`: any member of the group (`scope === 'group'`).
    pub user: Option<String>,
}

impl ListenScope {
    fn admits(&self, m: &Message) -> bool {
        self.im == m.im
            && self.account == m.account
            && self.chat == m.chat
            && self.user.as_ref().is_none_or(|u| *u == m.user)
    }
}

struct Waiter {
    id: u64,
    /// The waiting run: a message it re-injected itself (`breakIn`) is not its answer.
    run: u32,
    scope: ListenScope,
    tx: oneshot::Sender<String>,
}

/// All waiting runs of the process.
#[derive(Default)]
pub struct Listeners {
    next: AtomicU64,
    waiters: Mutex<Vec<Waiter>>,
}

impl Listeners {
    /// Registers a waiter of run `run`; the receiver gets the text of the message it takes.
    pub fn wait(&self, run: u32, scope: ListenScope) -> (u64, oneshot::Receiver<String>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiters.lock() {
            w.push(Waiter { id, run, scope, tx });
        }
        (id, rx)
    }

    /// Forgets a waiter that gave up (timeout).
    pub fn cancel(&self, id: u64) {
        if let Ok(mut w) = self.waiters.lock() {
            w.retain(|x| x.id != id);
        }
    }

    /// Hands `msg` to the waiter it belongs to, if any: a waiter for this very user first, then
    /// a group-scope waiter, oldest first. Returns whether the message was consumed.
    pub fn offer(&self, msg: &Message) -> bool {
        let Ok(mut waiters) = self.waiters.lock() else {
            return false;
        };
        if waiters.is_empty() {
            return false;
        }
        // A waiter whose run already ended (receiver dropped) is dropped here too.
        waiters.retain(|w| !w.tx.is_closed());
        let from_run = msg.break_in.map(|b| b.run);
        let takes = |w: &Waiter| Some(w.run) != from_run && w.scope.admits(msg);
        let pick = waiters
            .iter()
            .position(|w| w.scope.user.is_some() && takes(w))
            .or_else(|| waiters.iter().position(takes));
        match pick {
            Some(i) => {
                let w = waiters.remove(i);
                w.tx.send(msg.text.clone()).is_ok()
            }
            None => false,
        }
    }

    /// Where the runs waiting now listen (a cluster node keeps their chats' partitions).
    pub fn scopes(&self) -> Vec<ListenScope> {
        self.waiters
            .lock()
            .map(|w| {
                w.iter()
                    .filter(|w| !w.tx.is_closed())
                    .map(|w| w.scope.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn waiting(&self) -> usize {
        self.waiters.lock().map(|w| w.len()).unwrap_or(0)
    }
}

deno_core::extension!(isobot_listen, ops = [op_isobot_listen]);

#[op2]
#[string]
pub(crate) async fn op_isobot_listen(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    wait_ms: f64,
    group: bool,
) -> Result<String, RunEnded> {
    listen(state, run_id, wait_ms, group).await
}

/// The wait itself, shared with the blocking es5 `input` (`ext::es5`): the next message's
/// text, `''` when the wait ends first or the run has no chat.
pub(crate) async fn listen(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    wait_ms: f64,
    group: bool,
) -> Result<String, RunEnded> {
    let _hold = Hold::new(&state, run_id);
    let (listeners, scope) = {
        let s = state.borrow();
        let run = s.borrow::<Runs>().get(run_id).ok_or(RunEnded { run_id })?;
        let ctx = &run.ctx;
        if ctx.kind != ContextKind::Message {
            return Ok(String::new());
        }
        let m = &ctx.message;
        let scope = ListenScope {
            im: m.im.clone(),
            account: m.account.clone(),
            chat: m.chat.clone(),
            // Group scope only means something in a group; in a private chat it is the user.
            user: (!group || m.chat.is_empty()).then(|| m.user.clone()),
        };
        (s.borrow::<Arc<Services>>().listeners.clone(), scope)
    };
    let (id, rx) = listeners.wait(run_id, scope);
    match tokio::time::timeout(clamp_wait(wait_ms), rx).await {
        Ok(Ok(text)) => Ok(text),
        _ => {
            listeners.cancel(id);
            Ok(String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(chat: &str, user: &str, text: &str) -> Message {
        Message {
            im: "qq".into(),
            account: "bot".into(),
            chat: chat.into(),
            user: user.into(),
            text: text.into(),
            ..Message::default()
        }
    }

    fn scope(chat: &str, user: Option<&str>) -> ListenScope {
        ListenScope {
            im: "qq".into(),
            account: "bot".into(),
            chat: chat.into(),
            user: user.map(str::to_string),
        }
    }

    #[test]
    fn each_user_gets_their_own_answer_and_group_scope_takes_anyone() {
        let l = Listeners::default();
        let (_, mut a) = l.wait(1, scope("g", Some("alice")));
        let (_, mut b) = l.wait(1, scope("g", Some("bob")));
        let (_, mut any) = l.wait(1, scope("g", None));
        assert!(l.offer(&msg("g", "bob", "from bob")));
        assert!(l.offer(&msg("g", "alice", "from alice")));
        assert!(l.offer(&msg("g", "carol", "from carol")));
        assert!(!l.offer(&msg("g", "carol", "nobody waits")));
        assert!(!l.offer(&msg("other", "alice", "other chat")));
        assert_eq!(a.try_recv().unwrap(), "from alice");
        assert_eq!(b.try_recv().unwrap(), "from bob");
        assert_eq!(any.try_recv().unwrap(), "from carol");
    }

    #[test]
    fn cancelled_and_dropped_waiters_take_nothing() {
        let l = Listeners::default();
        let (id, _rx) = l.wait(1, scope("", Some("u")));
        l.cancel(id);
        assert!(!l.offer(&msg("", "u", "x")));
        let (_, rx) = l.wait(1, scope("", Some("u")));
        drop(rx);
        assert!(!l.offer(&msg("", "u", "x")));
        assert_eq!(l.waiting(), 0);
    }

    #[test]
    fn a_run_does_not_take_the_message_it_re_injected() {
        let l = Listeners::default();
        let (_, mut own) = l.wait(7, scope("", Some("u")));
        let mut again = msg("", "u", "re-injected");
        again.break_in = Some(crate::event::BreakIn { run: 7, depth: 1 });
        assert!(!l.offer(&again), "run 7 re-injected it: not its answer");
        let (_, mut other) = l.wait(8, scope("", Some("u")));
        assert!(l.offer(&again), "another run waiting for the user takes it");
        assert!(own.try_recv().is_err());
        assert_eq!(other.try_recv().unwrap(), "re-injected");
        assert!(l.offer(&msg("", "u", "typed")), "run 7 still waits");
        assert_eq!(own.try_recv().unwrap(), "typed");
    }

    #[test]
    fn waits_are_clamped() {
        assert_eq!(clamp_wait(0.0), DEFAULT_WAIT);
        assert_eq!(clamp_wait(f64::NAN), DEFAULT_WAIT);
        assert_eq!(clamp_wait(10.0), MIN_WAIT);
        assert_eq!(clamp_wait(5_000.0), Duration::from_secs(5));
        assert_eq!(clamp_wait(1e9), MAX_WAIT);
        assert_eq!(clamp_wait(1e300), MAX_WAIT);
    }
}
