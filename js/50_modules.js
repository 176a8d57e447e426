// 50_modules.js - CommonJS `require` of relative files and npm packages (one module cache per
// plugin version, so a package is evaluated once per isolate; a reload starts empty), `importJs`,
// the SDK for `middleware.js` by any relative path that reaches the plugins folder's one,
// and Node built-ins through `I.nodeBuiltin` (js/6x_node_*.js) or a clear error. Resolution and
// confinement are Rust (op_isobot_module_resolve / op_isobot_module_read, src/ext/modules.rs).
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;
  const core = I.core;

  const NODE_BUILTINS = new P.SafeSet([
    "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto",
    "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "fs/promises", "http", "http2",
    "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode",
    "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls", "trace_events",
    "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib", "assert/strict",
    "dns/promises", "path/posix", "path/win32", "readline/promises", "stream/consumers",
    "stream/promises", "stream/web", "timers/promises", "util/types",
  ]);
  const MIDDLEWARE = new P.SafeSet(["./middleware.js", "./middleware", "middleware", "middleware.js"]);
  /** A line starting with an import/export statement (as `ext::transpile::has_module_syntax`). */
  const ESM_LINE = /^[ \t]*(?:import[\s{*'"]|export[\s{*])/m;

  /** path -> module, as Node's `require.cache` (an entry deleted there is loaded again). */
  const cache = P.ObjectCreate(null);
  /** `dir \n spec` -> resolution, so a cached module costs no op on later runs. */
  const resolved = new P.SafeMap();

  function dirOf(path) {
    const i = P.StringPrototypeLastIndexOf(path, "/");
    return i <= 0 ? "/" : P.StringPrototypeSlice(path, 0, i);
  }

  /** The SDK for code in helper modules: each call acts for the run it is running in. */
  let ambient = null;
  function ambientSdk() {
    if (ambient !== null) return ambient;
    ambient = {};
    for (const name of P.ObjectKeys(I.makeSdk(0))) {
      I.put(ambient, name, (...args) => I.makeSdk(I.currentRunId())[name](...args));
    }
    // Constructors stay themselves (an arrow wrapper cannot be called with `new`).
    I.put(ambient, "Sender", I.makeSdk(0).Sender);
    I.put(ambient, "Cron", I.makeSdk(0).Cron);
    return ambient;
  }

  function builtin(spec, dir) {
    const name = P.StringPrototypeStartsWith(spec, "node:") ? P.StringPrototypeSlice(spec, 5) : spec;
    if (I.nodeBuiltin) {
      const m = I.nodeBuiltin(name, P.StringPrototypeIncludes(dir, "/node_modules/"));
      if (m !== undefined) return m;
    }
    const e = new P.ErrorCtor(
      `require('${spec}'): the Node built-in module '${name}' is not available in isobot. Plugins run in a ` +
        `sandbox without process or socket access; use fetch() for HTTP, fs inside the plugins and data ` +
        `folders, and the SDK's buckets for storage.`,
    );
    I.put(e, "code", "ERR_ISOBOT_BUILTIN_UNAVAILABLE");
    throw e;
  }

  function resolve(fromDir, spec) {
    const key = fromDir + "\n" + spec;
    const hit = P.MapPrototypeGet(resolved, key);
    if (hit !== undefined) return hit;
    const r = ops.op_isobot_module_resolve(fromDir, spec);
    if (r.error !== null) {
      const e = new P.ErrorCtor(r.error);
      I.put(e, "code", r.code);
      throw e;
    }
    P.MapPrototypeSet(resolved, key, r);
    return r;
  }

  /** A compile error of an ES module file, said plainly. */
  function compileError(err, path) {
    const e = err.thrown;
    if (e instanceof P.SyntaxError && P.AnyTest(/\b(import|export)\b/, e.message) && P.StringPrototypeIncludes(path, "/node_modules/")) {
      const clear = new P.ErrorCtor(
        `${path} is an ES module (${e.message}); isobot loads CommonJS only \u2014 install a version of the ` +
          `package that ships CommonJS, or use another package`,
      );
      I.put(clear, "code", "ERR_REQUIRE_ESM");
      return clear;
    }
    return e;
  }

  /**
   * Web APIs isobot lacks, as package code sees them: declared but undefined, so `typeof X`
   * feature checks say "absent" and referencing one while a package loads is no ReferenceError
   * (undici, which cheerio loads, reads ReadableStream and MessagePort at load time).
   */
  const ABSENT_WEB = [
    "ReadableStream", "WritableStream", "TransformStream", "ByteLengthQueuingStrategy",
    "CountQueuingStrategy", "TextEncoderStream", "TextDecoderStream", "CompressionStream",
    "DecompressionStream", "MessagePort", "MessageChannel", "BroadcastChannel", "FormData",
    "Request", "XMLHttpRequest", "WebSocket", "Worker", "FileReader", "navigator",
  ];
  let absentWeb = null;
  const MODULE_PARAMS = ["exports", "require", "module", "__filename", "__dirname"];

  /** The module function of `source`; package code gets the ABSENT_WEB names in scope. */
  function compile(source, path) {
    if (!P.StringPrototypeIncludes(path, "/node_modules/")) {
      return core.compileFunction(source, "file://" + path, undefined, MODULE_PARAMS);
    }
    if (absentWeb === null) absentWeb = P.ArrayPrototypeFilter(ABSENT_WEB, (n) => !(n in globalThis));
    // The module is an inner function (its own declarations may shadow the names); the wrapper
    // sits on the first line, so line numbers stay those of the file.
    const [outer, err] = core.compileFunction(
      `return function (${P.ArrayPrototypeJoin(MODULE_PARAMS, ", ")}) {${source}\n};`,
      "file://" + path,
      undefined,
      absentWeb,
    );
    return err ? [null, err] : [P.FunctionPrototypeCall(outer, undefined), null];
  }

  function load(fromDir, spec) {
    return loadResolved(resolve(fromDir, spec));
  }

  function loadResolved(r) {
    if (r.format === "sdk") return ambientSdk();
    const hit = cache[r.path];
    if (hit !== undefined) return hit.exports;
    if (r.format === "empty") {
      const m = { exports: {}, id: r.path, filename: r.path, loaded: true };
      cache[r.path] = m;
      return m.exports;
    }
    let source = ops.op_isobot_module_read(r.path);
    if (r.format === "json") {
      let exports;
      try {
        exports = P.JSONParse(P.StringPrototypeCharCodeAt(source, 0) === 0xfeff ? P.StringPrototypeSlice(source, 1) : source);
      } catch (e) {
        e.message = `${r.path}: ${e.message}`;
        throw e;
      }
      const m = { exports, id: r.path, filename: r.path, loaded: true };
      cache[r.path] = m;
      return m.exports;
    }
    // A `#!` line (CLI entry points) is not valid inside a function body.
    if (P.StringPrototypeStartsWith(source, "#!")) source = "//" + source;
    // TypeScript helpers: types stripped, ES modules converted, lines kept (src/ext/transpile.rs).
    if (r.format === "ts") source = ops.op_isobot_module_transpile(r.path, source, true);
    const dir = dirOf(r.path);
    const require = makeRequire(dir, null);
    const m = { exports: {}, id: r.path, filename: r.path, path: dir, loaded: false, children: [], require };
    // Cached before it runs, so require cycles see the partial exports (as in Node).
    cache[r.path] = m;
    let [fn, err] = compile(source, r.path);
    // A helper of the plugins folder written as an ES module (import/export lines) is converted
    // to CommonJS once V8 has refused it; plain CommonJS files are compiled as they are.
    if (err && r.format !== "ts" && !P.StringPrototypeIncludes(r.path, "/node_modules/") && P.RegExpPrototypeExec(ESM_LINE, source) !== null) {
      [fn, err] = compile(ops.op_isobot_module_transpile(r.path, source, false), r.path);
    }
    if (err) {
      delete cache[r.path];
      throw compileError(err, r.path);
    }
    try {
      P.FunctionPrototypeCall(fn, m.exports, m.exports, require, m, r.path, dir);
    } catch (e) {
      delete cache[r.path];
      throw e;
    }
    m.loaded = true;
    return m.exports;
  }

  /** `require` for code in `dir`; `sdk` is the run-bound SDK for the plugin file itself. */
  function makeRequire(dir, sdk) {
    function require(name) {
      const spec = P.StringCtor(name);
      const sdkHere = () => (sdk !== null ? sdk() : ambientSdk());
      if (MIDDLEWARE.has(spec)) return sdkHere();
      if (P.StringPrototypeStartsWith(spec, "node:") || NODE_BUILTINS.has(spec)) return builtin(spec, dir);
      // Relative files and npm packages (node_modules): resolved in Rust, which also says
      // whether a path such as '../middleware.js' reaches the plugins folder's SDK.
      const r = resolve(dir, spec);
      if (r.format === "sdk") return sdkHere();
      return loadResolved(r);
    }
    require.cache = cache;
    require.resolve = (spec) => {
      const s = P.StringCtor(spec);
      return P.StringPrototypeStartsWith(s, "node:") || NODE_BUILTINS.has(s) ? s : resolve(dir, s).path;
    };
    require.resolve.paths = () => [];
    return require;
  }
  I.makeRequire = makeRequire;

  /** `importJs('file.js')` or `importJs('author:file.js')`: another script of the folder. */
  I.importJs = (name) => {
    // Primordials only: a plugin may have replaced String.prototype methods.
    const spec = P.StringCtor(name);
    const colon = P.StringPrototypeIndexOf(spec, ":");
    const file = colon >= 0 ? P.StringPrototypeSlice(spec, colon + 1) : spec;
    return load("", "./" + (P.StringPrototypeStartsWith(file, "./") ? P.StringPrototypeSlice(file, 2) : file));
  };
})(globalThis);
