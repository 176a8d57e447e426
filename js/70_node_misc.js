// 70_node_misc.js - small built-ins libraries load: `diagnostics_channel` (channels nobody
// subscribes to), `async_hooks` (AsyncLocalStorage on the isolate's async context,
// AsyncResource), `perf_hooks`, `console`, `module` (createRequire, builtinModules), and the data
// members package code reads off modules isobot only stubs (http.STATUS_CODES, net.isIP ...).
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;

  // ---- diagnostics_channel --------------------------------------------------------------
  I.nodeModule("diagnostics_channel", () => {
    class Channel {
      constructor(name) {
        this.name = name;
        this._subscribers = [];
      }
      get hasSubscribers() {
        return this._subscribers.length > 0;
      }
      subscribe(fn) {
        P.AnyPush(this._subscribers, fn);
      }
      unsubscribe(fn) {
        const i = P.AnyIndexOf(this._subscribers, fn);
        if (i >= 0) P.AnySplice(this._subscribers, i, 1);
        return i >= 0;
      }
      publish(message) {
        for (const fn of P.AnySlice(this._subscribers)) fn(message, this.name);
      }
      bindStore() {}
      unbindStore() {}
      runStores(_data, fn, thisArg, ...args) {
        return P.FunctionPrototypeApply(fn, thisArg, args);
      }
    }
    const channels = new P.SafeMap();
    const channel = (name) => {
      let c = channels.get(name);
      if (c === undefined) {
        c = new Channel(name);
        channels.set(name, c);
      }
      return c;
    };
    const tracingChannel = (name) => {
      const t = {};
      for (const k of ["start", "end", "asyncStart", "asyncEnd", "error"]) t[k] = channel(`tracing:${name}:${k}`);
      t.hasSubscribers = false;
      t.subscribe = () => {};
      t.unsubscribe = () => {};
      t.traceSync = (fn, _ctx, thisArg, ...args) => P.FunctionPrototypeApply(fn, thisArg, args);
      t.tracePromise = (fn, _ctx, thisArg, ...args) => P.FunctionPrototypeApply(fn, thisArg, args);
      t.traceCallback = (fn, _pos, _ctx, thisArg, ...args) => P.FunctionPrototypeApply(fn, thisArg, args);
      return t;
    };
    return {
      channel,
      hasSubscribers: (name) => channel(name).hasSubscribers,
      subscribe: (name, fn) => channel(name).subscribe(fn),
      unsubscribe: (name, fn) => channel(name).unsubscribe(fn),
      tracingChannel,
      Channel,
    };
  });

  // ---- async_hooks ----------------------------------------------------------------------
  I.nodeModule("async_hooks", () => {
    let nextKey = 1;
    /** A store that follows awaits and callbacks: kept on the isolate's async context. */
    class AsyncLocalStorage {
      #key = `als${nextKey++}`;
      getStore() {
        const ctx = I.getAsyncContext();
        return ctx !== undefined && ctx !== null ? ctx[this.#key] : undefined;
      }
      run(store, fn, ...args) {
        const prev = I.getAsyncContext();
        I.setAsyncContext({ ...(prev ?? {}), [this.#key]: store });
        try {
          return fn(...args);
        } finally {
          I.setAsyncContext(prev);
        }
      }
      enterWith(store) {
        I.setAsyncContext({ ...(I.getAsyncContext() ?? {}), [this.#key]: store });
      }
      exit(fn, ...args) {
        return this.run(undefined, fn, ...args);
      }
      disable() {}
      static bind(fn) {
        return P.FunctionPrototypeBind(AsyncResource, fn);
      }
      static snapshot() {
        const ctx = I.getAsyncContext();
        return (fn, ...args) => {
          const prev = I.getAsyncContext();
          I.setAsyncContext(ctx);
          try {
            return fn(...args);
          } finally {
            I.setAsyncContext(prev);
          }
        };
      }
    }
    class AsyncResource {
      #ctx = I.getAsyncContext();
      constructor(type) {
        this.type = type;
      }
      runInAsyncScope(fn, thisArg, ...args) {
        const prev = I.getAsyncContext();
        I.setAsyncContext(this.#ctx);
        try {
          return P.FunctionPrototypeApply(fn, thisArg, args);
        } finally {
          I.setAsyncContext(prev);
        }
      }
      bind(fn, thisArg) {
        return (...args) => this.runInAsyncScope(fn, thisArg, ...args);
      }
      emitDestroy() {
        return this;
      }
      asyncId() {
        return 0;
      }
      triggerAsyncId() {
        return 0;
      }
      static bind(fn, type, thisArg) {
        return P.FunctionPrototypeBind(new AsyncResource(type ?? "bound-anonymous-fn"), fn, thisArg);
      }
    }
    return {
      AsyncLocalStorage,
      AsyncResource,
      createHook: () => ({ enable() { return this; }, disable() { return this; } }),
      executionAsyncId: () => 0,
      triggerAsyncId: () => 0,
      executionAsyncResource: () => ({}),
    };
  });

  // ---- perf_hooks -----------------------------------------------------------------------
  const performance = globalThis.performance ?? {
    timeOrigin: P.DateNow(),
    now: () => ops.op_isobot_node_hrtime() / 1e6,
    mark: () => {},
    measure: () => {},
    clearMarks: () => {},
    clearMeasures: () => {},
    getEntries: () => [],
    getEntriesByName: () => [],
    getEntriesByType: () => [],
    toJSON: () => ({}),
  };
  if (globalThis.performance === undefined) {
    P.ObjectDefineProperty(globalThis, "performance", { __proto__: null, value: performance, writable: true, configurable: true, enumerable: false });
  }
  I.nodeModule("perf_hooks", () => ({
    performance,
    PerformanceObserver: class PerformanceObserver {
      observe() {}
      disconnect() {}
    },
    monitorEventLoopDelay: () => ({ enable() {}, disable() {}, percentile: () => 0, mean: 0, max: 0, min: 0 }),
    constants: {},
  }));

  // ---- console --------------------------------------------------------------------------
  I.nodeModule("console", () => {
    const c = globalThis.console;
    function Console() {
      return c;
    }
    return { ...c, Console, console: c };
  });

  // ---- module ---------------------------------------------------------------------------
  I.nodeModule("module", () => {
    const builtinModules = [
      "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "crypto", "dgram",
      "diagnostics_channel", "dns", "events", "fs", "fs/promises", "http", "http2", "https", "module",
      "net", "os", "path", "perf_hooks", "process", "querystring", "readline", "stream",
      "string_decoder", "timers", "timers/promises", "tls", "url", "util", "util/types", "vm",
      "worker_threads", "zlib",
    ];
    const dirOf = (f) => {
      const path = typeof f === "string" && P.StringPrototypeStartsWith(f, "file://") ? P.decodeURIComponent(P.AnySlice(f, 7)) : P.StringCtor(f);
      return P.StringPrototypeEndsWith(path, "/") ? P.AnySlice(path, 0, -1) : I.path.dirname(path);
    };
    function Module() {}
    Module.createRequire = (filename) => I.makeRequire(dirOf(filename), null);
    Module.builtinModules = builtinModules;
    Module.isBuiltin = (name) => P.AnyIncludes(builtinModules, P.AnyReplace(P.StringCtor(name), /^node:/, ""));
    Module.Module = Module;
    return Module;
  });

  // ---- what packages read off stubbed modules -------------------------------------------
  const STATUS_CODES = {
    100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted",
    204: "No Content", 206: "Partial Content", 301: "Moved Permanently", 302: "Found",
    303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
    413: "Payload Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
  };
  const METHODS = ["ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "M-SEARCH", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH", "PURGE", "PUT", "QUERY", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE"];
  const isIPv4 = (s) => P.AnyTest(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/, P.StringCtor(s));
  const isIPv6 = (s) => {
    try {
      return P.AnyIncludes(P.StringCtor(s), ":") && new I.globals.URL(`http://[${s}]/`).hostname !== "";
    } catch {
      return false;
    }
  };
  // ---- http, https, child_process: they load; what leaves the sandbox throws when called --
  // Plugins import them without using them on the path that runs: an `https.Agent` handed to
  // axios (`new Agent({ rejectUnauthorized: false })`), an `exec` branch for another setup.
  // An Agent is accepted and ignored: fetch() and the fetch-based clients pool connections
  // themselves. `http.request()`, `https.get()`, `child_process.exec()` ... throw.
  class Agent {
    constructor(options) {
      this.options = { ...(options ?? {}) };
      this.keepAlive = !!this.options.keepAlive;
      this.maxSockets = this.options.maxSockets ?? Infinity;
      this.maxFreeSockets = this.options.maxFreeSockets ?? 256;
      this.sockets = {};
      this.freeSockets = {};
      this.requests = {};
    }
    destroy() {}
  }
  class HttpAgent extends Agent {
    get defaultPort() {
      return 80;
    }
    get protocol() {
      return "http:";
    }
  }
  class HttpsAgent extends Agent {
    get defaultPort() {
      return 443;
    }
    get protocol() {
      return "https:";
    }
  }
  const httpModule = (name, AgentClass) => () =>
    I.stubModule(name, {
      STATUS_CODES,
      METHODS,
      maxHeaderSize: 16384,
      Agent: AgentClass,
      globalAgent: new AgentClass({ keepAlive: true }),
    });
  I.nodeModule("http", httpModule("http", HttpAgent));
  I.nodeModule("https", httpModule("https", HttpsAgent));
  I.nodeModule("child_process", () => I.stubModule("child_process", {}));

  P.ObjectAssign(I.nodeStubs, {
    http2: () => ({ constants: {}, sensitiveHeaders: P.Symbol("nodejs.http2.sensitiveHeaders") }),
    net: () => ({ isIP: (s) => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0), isIPv4, isIPv6 }),
    zlib: () => ({ constants: {} }),
    worker_threads: () => ({
      isMainThread: true,
      parentPort: null,
      workerData: null,
      threadId: 0,
      resourceLimits: {},
      markAsUncloneable: () => {},
    }),
    tls: () => ({ DEFAULT_MIN_VERSION: "TLSv1.2", DEFAULT_MAX_VERSION: "TLSv1.3", rootCertificates: [] }),
    dns: () => ({}),
    v8: () => ({}),
    inspector: () => ({ url: () => undefined, console: globalThis.console }),
    readline: () => ({}),
  });
})(globalThis);
