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

  function done(runId, ok, error) {
    if (ok) {
      ops.op_isobot_run_done(runId, true, "", "");
      return;
    }
    if (error !== null && typeof error === "object" && error[EXIT] !== undefined) {
      ops.op_isobot_run_done(runId, true, "", "");
      return;
    }
    let message;
    let stack = "";
    if (error instanceof P.ErrorCtor) {
      message = `${error.name}: ${error.message}`;
      stack = P.StringCtor(error.stack ?? "");
    } else {
      message = `Uncaught ${I.format([error])}`;
    }
    ops.op_isobot_run_done(runId, false, message, stack);
  }

  I.install = (fn, filename, dirname) => {
    plugin = { fn, filename, dirname };
    I.pluginFilename = filename;
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

  // A rejected promise nobody awaited (e.g. an un-awaited push that failed) must not stop the
  // event loop of an isolate that serves other runs: log it against its run and carry on.
  I.setUnhandledPromiseRejectionHandler((_promise, reason) => {
    if (reason !== null && typeof reason === "object" && reason[EXIT] !== undefined) return true;
    ops.op_isobot_log(I.currentRunId(), 3, `unhandled promise rejection: ${I.format([reason])}`);
    return true;
  });

  // Plugins see no engine internals: `Deno` and this object are deleted by the Rust side once
  // the runtime is created (deno_core binds ops through `Deno.core` at creation, so the
  // snapshot must keep it).
})(globalThis);
