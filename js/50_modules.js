// 50_modules.js — CommonJS `require` of relative `.js`/`.json` files inside the plugins folder
// (one module cache per plugin version: a reload starts empty), `importJs`, and clear errors for
// Node built-ins. Resolution and confinement are Rust (op_isobot_module_read).
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;
  const core = I.core;

  const NODE_BUILTINS = new Set([
    "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto",
    "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "fs/promises", "http", "http2",
    "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode",
    "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls", "trace_events",
    "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib",
  ]);
  const MIDDLEWARE = new Set(["./middleware.js", "./middleware", "middleware", "middleware.js"]);

  const cache = new P.MapCtor();

  function dirOf(path) {
    const i = path.lastIndexOf("/");
    return i <= 0 ? "/" : path.slice(0, i);
  }

  /** The SDK for code in helper modules: each call acts for the run it is running in. */
  let ambient = null;
  function ambientSdk() {
    if (ambient !== null) return ambient;
    ambient = {};
    for (const name of P.ObjectKeys(I.makeSdk(0))) {
      ambient[name] = (...args) => I.makeSdk(I.currentRunId())[name](...args);
    }
    ambient.Sender = I.makeSdk(0).Sender;
    return ambient;
  }

  function builtinError(spec) {
    const name = spec.startsWith("node:") ? spec.slice(5) : spec;
    if (I.nodeBuiltin) {
      const m = I.nodeBuiltin(name);
      if (m !== undefined) return m;
    }
    const e = new P.ErrorCtor(
      `require('${spec}'): the Node built-in module '${name}' is not available in isobot. Plugins run in a ` +
        `sandbox without file system, process or socket access; use fetch() for HTTP and the SDK's ` +
        `buckets for storage.`,
    );
    e.code = "ERR_ISOBOT_BUILTIN_UNAVAILABLE";
    throw e;
  }

  function load(fromDir, spec) {
    const r = ops.op_isobot_module_read(fromDir, spec);
    const hit = P.MapPrototypeGet(cache, r.path);
    if (hit !== undefined) return hit.exports;
    if (r.json) {
      const m = { exports: JSON.parse(r.source), filename: r.path, loaded: true };
      P.MapPrototypeSet(cache, r.path, m);
      return m.exports;
    }
    const dir = dirOf(r.path);
    const m = { exports: {}, id: r.path, filename: r.path, path: dir, loaded: false, children: [] };
    // Cached before it runs, so require cycles see the partial exports (as in Node).
    P.MapPrototypeSet(cache, r.path, m);
    const [fn, err] = core.compileFunction(r.source, "file://" + r.path, undefined, [
      "exports",
      "require",
      "module",
      "__filename",
      "__dirname",
    ]);
    if (err) {
      P.MapPrototypeDelete(cache, r.path);
      throw err.thrown;
    }
    try {
      P.FunctionPrototypeCall(fn, m.exports, m.exports, makeRequire(dir, null), m, r.path, dir);
    } catch (e) {
      P.MapPrototypeDelete(cache, r.path);
      throw e;
    }
    m.loaded = true;
    return m.exports;
  }

  /** `require` for code in `dir`; `sdk` is the run-bound SDK for the plugin file itself. */
  function makeRequire(dir, sdk) {
    function require(name) {
      const spec = P.StringCtor(name);
      if (MIDDLEWARE.has(spec)) return sdk !== null ? sdk() : ambientSdk();
      if (spec.startsWith("./") || spec.startsWith("../") || spec.startsWith("/")) return load(dir, spec);
      if (spec.startsWith("node:") || NODE_BUILTINS.has(spec)) return builtinError(spec);
      if (I.requirePackage) return I.requirePackage(dir, spec);
      throw new P.ErrorCtor(
        `require('${spec}'): module not found. isobot loads './middleware.js' (the SDK) and relative ` +
          `.js/.json files inside the plugins folder.`,
      );
    }
    require.cache = cache;
    require.resolve = (spec) => ops.op_isobot_module_read(dir, P.StringCtor(spec)).path;
    return require;
  }
  I.makeRequire = makeRequire;

  /** `importJs('file.js')` or `importJs('author:file.js')`: another script of the folder. */
  I.importJs = (name) => {
    const spec = P.StringCtor(name);
    const file = spec.includes(":") ? spec.slice(spec.indexOf(":") + 1) : spec;
    return load("", "./" + file.replace(/^\.\//, ""));
  };
  I.sdkExtensions.push((sdk) => {
    sdk.importJs = I.importJs;
  });
})(globalThis);
