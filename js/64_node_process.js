// 64_node_process.js - the global `process` (and the `process` module): an EventEmitter with
// `env` (only the variables allowlisted by config `[node] env`), `argv`, `platform`, `version(s)`,
// `cwd()` = the plugins folder, `nextTick`, `hrtime`, `memoryUsage`, `uptime`, stdout/stderr that
// write to the run log, and `exit()`, which ends the *run* (SDK.md sec. 9), never isobot.
// Host facts come from op_isobot_node_process, once per isolate.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;
  const core = I.core;
  const EventEmitter = I.EventEmitter;

  const NODE_VERSION = "20.0.0";
  let facts = null;
  const host = () => (facts === null ? (facts = ops.op_isobot_node_process()) : facts);
  let startNs = null;
  I.hostFacts = host;

  /** `process.nextTick`: a microtask that runs in the async context (run) that queued it. */
  function nextTick(callback, ...args) {
    if (typeof callback !== "function") {
      const e = new P.TypeErrorCtor('The "callback" argument must be of type function');
      I.put(e, "code", "ERR_INVALID_ARG_TYPE");
      throw e;
    }
    const context = I.getAsyncContext();
    globalThis.queueMicrotask(() => {
      const prev = I.getAsyncContext();
      I.setAsyncContext(context);
      try {
        callback(...args);
      } catch (e) {
        if (!I.uncaught(e)) throw e;
      } finally {
        I.setAsyncContext(prev);
      }
    });
  }
  I.nextTick = nextTick;

  const EXIT = P.SymbolFor("isobot.exit");
  I.isExit = (e) => e !== null && typeof e === "object" && e[EXIT] !== undefined;

  function hrtime(prev) {
    const ns = ops.op_isobot_node_hrtime();
    let sec = P.MathFloor(ns / 1e9);
    let nsec = P.MathFloor(ns - sec * 1e9);
    if (P.ArrayIsArray(prev)) {
      sec -= prev[0];
      nsec -= prev[1];
      if (nsec < 0) {
        sec -= 1;
        nsec += 1e9;
      }
    }
    return [sec, nsec];
  }
  hrtime.bigint = () => P.BigInt(P.MathFloor(ops.op_isobot_node_hrtime()));

  /** stdout/stderr: whole lines go to the run log (console level info / error). */
  function stream(fd, level) {
    const s = new EventEmitter();
    let pending = "";
    s.fd = fd;
    s.isTTY = false;
    s.columns = 80;
    s.writable = true;
    s.write = (chunk, encoding, cb) => {
      const text = typeof chunk === "string" ? chunk : P.AnyToString(I.Buffer.from(chunk), typeof encoding === "string" ? encoding : "utf8");
      pending += text;
      const i = P.AnyLastIndexOf(pending, "\n");
      if (i >= 0) {
        ops.op_isobot_log(I.currentRunId(), level, P.AnySlice(pending, 0, i));
        pending = P.AnySlice(pending, i + 1);
      }
      const done = typeof encoding === "function" ? encoding : cb;
      if (typeof done === "function") nextTick(done);
      return true;
    };
    s.end = (chunk) => {
      if (chunk !== undefined && chunk !== null) s.write(chunk);
      if (pending !== "") {
        ops.op_isobot_log(I.currentRunId(), level, pending);
        pending = "";
      }
      return s;
    };
    s.cork = () => {};
    s.uncork = () => {};
    s.getColorDepth = () => 1;
    s.hasColors = () => false;
    return s;
  }

  const processProto = P.ObjectCreate(EventEmitter.prototype, {
    [P.SymbolToStringTag]: { __proto__: null, value: "process", configurable: true },
    constructor: { __proto__: null, value: function process() {}, configurable: true, writable: true },
  });
  const process = P.ObjectCreate(processProto);
  P.FunctionPrototypeCall(EventEmitter.init, process);

  function lazy(name, get) {
    P.ObjectDefineProperty(process, name, {
      __proto__: null,
      configurable: true,
      enumerable: true,
      get() {
        const value = get();
        P.ObjectDefineProperty(process, name, { __proto__: null, value, writable: true, configurable: true, enumerable: true });
        return value;
      },
      set(value) {
        P.ObjectDefineProperty(process, name, { __proto__: null, value, writable: true, configurable: true, enumerable: true });
      },
    });
  }

  P.ObjectAssign(process, {
    title: "isobot",
    version: `v${NODE_VERSION}`,
    argv0: "node",
    execArgv: [],
    execPath: "/usr/local/bin/node",
    exitCode: undefined,
    release: { name: "node" },
    config: { variables: {} },
    features: {},
    browser: undefined,
    noDeprecation: false,
    throwDeprecation: false,
    traceDeprecation: false,
    allowedNodeEnvironmentFlags: new P.Set(),
    nextTick,
    hrtime,
    cwd: () => host().cwd,
    chdir: () => {
      throw I.unavailable("process.chdir()", "the working directory of a plugin is always the plugins folder");
    },
    umask: () => 0o22,
    uptime: () => {
      const now = ops.op_isobot_node_hrtime();
      if (startNs === null) startNs = now;
      return (now - startNs) / 1e9;
    },
    memoryUsage: P.ObjectAssign(
      () => {
        const m = core.memoryUsage();
        return { rss: m.physicalTotal, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: 0 };
      },
      { rss: () => core.memoryUsage().physicalTotal },
    ),
    cpuUsage: () => ({ user: 0, system: 0 }),
    resourceUsage: () => ({}),
    emitWarning: (warning, type) => {
      const w = typeof warning === "string" ? warning : warning && warning.message;
      const t = typeof type === "string" ? type : (warning && warning.name) || "Warning";
      ops.op_isobot_log(I.currentRunId(), 2, `(node) ${t}: ${w}`);
    },
    binding: (name) => {
      throw I.unavailable(`process.binding('${name}')`);
    },
    kill: () => {
      throw I.unavailable("process.kill()");
    },
    abort: () => process.exit(134),
    /**
     * Ends the run (not isobot): the run is settled now - ok for code 0, failed otherwise - its
     * timers are cleared, and the throw unwinds the plugin's code. Sends already started finish.
     */
    exit: (code) => {
      const c = code === undefined ? (process.exitCode ?? 0) : code;
      const runId = I.currentRunId();
      if (runId !== 0) {
        const n = P.NumberCtor(c) || 0;
        ops.op_isobot_run_done(runId, n === 0, n === 0 ? "" : `process.exit(${n})`, "");
        if (I.clearRunTimers) I.clearRunTimers(runId);
      }
      throw I.exitError(c);
    },
    reallyExit: (code) => process.exit(code),
    getuid: () => 1000,
    getgid: () => 1000,
    geteuid: () => 1000,
    getegid: () => 1000,
  });
  lazy("env", () => ({ ...host().env }));
  lazy("platform", () => host().platform);
  lazy("arch", () => host().arch);
  lazy("pid", () => host().pid);
  lazy("ppid", () => 0);
  lazy("versions", () => ({ node: NODE_VERSION, v8: host().v8, isobot: host().isobot, modules: "115" }));
  lazy("argv", () => [process.execPath, I.pluginFilename ?? ""]);
  lazy("stdout", () => stream(1, 1));
  lazy("stderr", () => stream(2, 3));
  lazy("stdin", () => {
    const s = new EventEmitter();
    s.fd = 0;
    s.isTTY = false;
    s.setEncoding = () => s;
    s.resume = () => s;
    s.pause = () => s;
    return s;
  });

  P.ObjectDefineProperty(globalThis, "process", {
    __proto__: null,
    value: process,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  I.process = process;
  I.nodeModule("process", () => process);
})(globalThis);
