// 10_console.js - `console` for plugins: every line goes to isobot's log (tracing) with the plugin
// id and the run id, and into the run's own log (shown by `isobot run` and returned by the API).
// The run is found through V8's async context, which follows awaits, timers and callbacks.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;
  const LEVELS = { debug: 0, log: 1, info: 1, warn: 2, error: 3 };

  function currentRunId() {
    const ctx = I.getAsyncContext();
    return ctx && typeof ctx.runId === "number" ? ctx.runId : 0;
  }

  /** Whether `o.toJSON` is one a plugin defined on Object.prototype itself. */
  function inheritsObjectToJSON(o) {
    const d = P.ReflectGetOwnPropertyDescriptor(P.ObjectPrototype, "toJSON");
    if (d === undefined) return false;
    for (let p = o; p !== null && p !== P.ObjectPrototype; p = P.ObjectGetPrototypeOf(p)) {
      if (P.ObjectPrototypeHasOwnProperty(p, "toJSON")) return false;
    }
    return true;
  }

  function show(v, seen) {
    if (typeof v === "string") return v;
    if (v instanceof P.ErrorCtor) return v.stack || P.StringCtor(v);
    if (typeof v === "function") return `[Function ${v.name || "anonymous"}]`;
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "symbol" || v === undefined) return P.StringCtor(v);
    if (typeof v !== "object" || v === null) return P.StringCtor(v);
    try {
      return P.JSONStringify(v, function (k, x) {
        // A toJSON a plugin put on Object.prototype would turn every object into its result:
        // values log as they are (a Date's own toJSON still applies).
        const original = this[k];
        if (x !== original && typeof original === "object" && original !== null && inheritsObjectToJSON(original)) {
          x = original;
        }
        if (typeof x === "bigint") return `${x}n`;
        if (typeof x === "object" && x !== null) {
          if (seen.has(x)) return "[Circular]";
          seen.add(x);
        }
        return x;
      });
    } catch {
      return P.StringCtor(v);
    }
  }

  function format(args) {
    const parts = [];
    for (let i = 0; i < args.length; i++) {
      P.ArrayPrototypePush(parts, show(args[i], new P.SafeWeakSet()));
    }
    return P.ArrayPrototypeJoin(parts, " ");
  }

  function emit(level, args) {
    ops.op_isobot_log(currentRunId(), level, format(args));
  }

  const console = {
    log: (...a) => emit(LEVELS.log, a),
    info: (...a) => emit(LEVELS.info, a),
    warn: (...a) => emit(LEVELS.warn, a),
    error: (...a) => emit(LEVELS.error, a),
    debug: (...a) => emit(LEVELS.debug, a),
    trace: (...a) => emit(LEVELS.debug, a),
  };
  P.ObjectDefineProperty(globalThis, "console", {
    __proto__: null,
    value: console,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  I.currentRunId = currentRunId;
  I.format = format;
})(globalThis);
