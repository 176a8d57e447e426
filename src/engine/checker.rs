//! The compile checker: one thread with a blank runtime that compiles plugin versions as they
//! load, so a broken save is reported (file:line) without starting an isolate for it. Started on
//! first use; its runtime is replaced now and then so compiled code does not pile up in it.

use super::runtime::{compile, Blank};
use super::{EngineError, IsolateLimits, PluginCode};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// Checks one runtime serves before it is replaced.
const CHECKS_PER_RUNTIME: usize = 256;

struct Check {
    code: PluginCode,
    limits: IsolateLimits,
    reply: oneshot::Sender<Result<(), EngineError>>,
}

#[derive(Default)]
pub(super) struct Checker {
    jobs: Mutex<Option<std::sync::mpsc::Sender<Check>>>,
}

impl Checker {
    pub async fn check(&self, code: PluginCode, limits: IsolateLimits) -> Result<(), EngineError> {
        let (reply, done) = oneshot::channel();
        let mut job = Check {
            code,
            limits,
            reply,
        };
        // A checker thread that died (it never should) is replaced once.
        for _ in 0..2 {
            let sender = self.sender()?;
            match sender.send(job) {
                Ok(()) => {
                    return done.await.map_err(|_| {
                        EngineError::Thread("the compile checker stopped during a check".into())
                    })?
                }
                Err(std::sync::mpsc::SendError(j)) => {
                    job = j;
                    *self.jobs.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
            }
        }
        Err(EngineError::Thread(
            "the compile checker cannot start".into(),
        ))
    }

    fn sender(&self) -> Result<std::sync::mpsc::Sender<Check>, EngineError> {
        let mut slot = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let (tx, rx) = std::sync::mpsc::channel::<Check>();
        std::thread::Builder::new()
            .name("isolate (compile checker)".into())
            .spawn(move || serve(rx))
            .map_err(|e| EngineError::Thread(e.to_string()))?;
        *slot = Some(tx.clone());
        Ok(tx)
    }
}

fn serve(rx: std::sync::mpsc::Receiver<Check>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let _guard = rt.enter();
    let mut current: Option<(Blank, usize)> = None;
    while let Ok(check) = rx.recv() {
        // A runtime of other limits (heap cap), or one that served its share, is replaced.
        let fits = current
            .as_ref()
            .is_some_and(|(b, n)| b.limits == check.limits && *n < CHECKS_PER_RUNTIME);
        if !fits {
            current = None;
            match Blank::new(check.limits) {
                Ok(b) => current = Some((b, 0)),
                Err(e) => {
                    let _ = check.reply.send(Err(e));
                    continue;
                }
            }
        }
        let Some((blank, n)) = current.as_mut() else {
            continue;
        };
        *n += 1;
        let result = compile(&mut blank.runtime, &check.code).map(|_| ());
        if blank.heap_hit() {
            current = None;
        }
        let _ = check.reply.send(result);
    }
}
