// 90_runtime.js - starts runs: calls the compiled plugin function with a per-run `require`,
// `module` and `exports`, and reports how the run ended to Rust (op_isobot_run_done).
// The plugin function itself is compiled by Rust once per plugin version and handed to `install`.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;

  /** Thrown by process.exit(): ends the run, not the process (SDK.md sec. 9). */
  const EXIT = P.SymbolFor("isobot.exit");

  let plugin = null;

  function makeRequire(runId) {
    let sdk = null;
    return I.makeRequire(plugin.dirname, () => (sdk === null ? (sdk = I.makeSdk(runId)) : sdk));
  }

  /** `[message, stack]` of a thrown value, as the run's status shows it. */
  function describe(error) {
    if (error instanceof P.ErrorCtor) {
      return [`${error.name}: ${error.message}`, P.StringCtor(error.stack ?? "")];
    }
    return [`Uncaught ${I.format([error])}`, ""];
  }

  const isExit = (error) => error !== null && typeof error === "object" && error[EXIT] !== undefined;

  function done(runId, ok, error) {
    if (ok || isExit(error)) {
      ops.op_isobot_run_done(runId, true, "", "");
      return;
    }
    const [message, stack] = describe(error);
    ops.op_isobot_run_done(runId, false, message, stack);
  }

  /**
   * An error nobody caught in code of the current run (an unhandled rejection, a throwing timer
   * or nextTick callback) fails that run (SDK.md sec. 1), also after its body returned. Returns
   * false when no run is current (code of a module's top level): the caller reports it.
   */
  I.uncaught = (error) => {
    if (isExit(error)) return true;
    const runId = I.currentRunId();
    if (runId === 0) return false;
    const [message, stack] = describe(error);
    ops.op_isobot_run_fail(runId, message, stack);
    return true;
  };

  /** `es5`: the plugin uses the globals of legacy es5 plugins (js/55_es5.js). */
  I.install = (fn, filename, dirname, es5) => {
    plugin = { fn, filename, dirname };
    I.pluginFilename = filename;
    I.pluginDirname = dirname;
    if (es5) I.installEs5();
  };

  I.start = (runId) => {
    const prev = I.getAsyncContext();
    I.setAsyncContext({ runId });
    try {
      const module = { exports: {} };
      const promise = P.FunctionPrototypeCall(
        plugin.fn,
        undefined,
        makeRequire(runId),
        module,
        module.exports,
        plugin.filename,
        plugin.dirname,
      );
      P.PromisePrototypeThen(
        promise,
        () => done(runId, true, null),
        (e) => done(runId, false, e),
      );
    } catch (e) {
      done(runId, false, e);
    } finally {
      I.setAsyncContext(prev);
    }
  };

  I.exitError = (code) => {
    const e = new P.ErrorCtor(`process.exit(${code ?? 0})`);
    e[EXIT] = code ?? 0;
    return e;
  };

  // A rejected promise nobody handled fails the run it belongs to: deno_core calls this in the
  // async context that was current when the promise was rejected, which is that run's. It must
  // not stop the event loop of an isolate that serves other runs, so it is always "handled".
  I.setUnhandledPromiseRejectionHandler((_promise, reason) => {
    if (!I.uncaught(reason)) {
      ops.op_isobot_log(0, 3, `unhandled promise rejection: ${I.format([reason])}`);
    }
    return true;
  });

  // Plugins see no engine internals: `Deno` and this object are deleted by the Rust side once
  // the runtime is created (deno_core binds ops through `Deno.core` at creation, so the
  // snapshot must keep it).
})(globalThis);
