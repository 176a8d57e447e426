// 60_node.js - the registry of Node built-in modules (`I.nodeBuiltin`, called by 50_modules.js):
// the js/6x_node_*.js files register a factory per module name; a module is built on its first
// require in an isolate and shared by every later one. Built-ins isobot cannot offer (sockets,
// processes, workers) throw a clear error when plugin code requires them; package code gets a
// stub whose functions throw that error when called, so a library that merely loads them
// (cheerio loads undici, which loads net, tls, http2 ...) still works. `http`, `https` and
// `child_process` load for plugin code too (70_node_misc.js): plugins import them for an
// `Agent` or a branch they never take.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;

  /** name -> () => module; filled by the js/6x files at snapshot time. */
  const factories = P.ObjectCreate(null);
  /** name -> module; filled at run time, per isolate. */
  const built = new P.SafeMap();

  I.nodeModule = (name, factory) => {
    factories[name] = factory;
  };

  /** The error for something isobot does not offer, saying what to use instead. */
  I.unavailable = (what, instead) => {
    const e = new P.ErrorCtor(`${what} is not available in isobot${instead ? `: ${instead}` : ""}`);
    I.put(e, "code", "ERR_ISOBOT_UNAVAILABLE");
    return e;
  };

  /** What each unavailable module's error suggests. */
  const NO_SOCKETS = "plugins run in a sandbox without sockets";
  const INSTEAD = {
    http: `${NO_SOCKETS}; use fetch() or axios for HTTP requests`,
    https: `${NO_SOCKETS}; use fetch() or axios for HTTP requests`,
    http2: `${NO_SOCKETS}; use fetch() or axios for HTTP requests`,
    net: `${NO_SOCKETS}; use fetch() for network access`,
    tls: `${NO_SOCKETS}; use fetch() for network access`,
    dgram: `${NO_SOCKETS}; use fetch() for network access`,
    dns: `${NO_SOCKETS}; use fetch() for network access`,
    child_process: "plugins cannot start processes; do the work in JavaScript or behind an HTTP API reached with fetch()",
    cluster: "plugins cannot start processes; each plugin already runs in its own isolate",
    worker_threads: "plugins cannot start threads; each plugin already runs in its own isolate",
    vm: "plugins cannot create JavaScript contexts",
  };

  /** The error for a module isobot does not offer. */
  const moduleError = (name) =>
    I.unavailable(`require('${name}'): the Node built-in module '${name}'`, INSTEAD[name]);

  /**
   * A stand-in for a module whose functions would leave the sandbox: data members a library
   * reads at load time are there, and every other member is a function that throws the
   * not-available error (naming it, e.g. `child_process.exec()`) when it is called.
   */
  function stubModule(name, members) {
    const fails = new P.MapCtor();
    const fail = (key) => {
      let f = P.MapPrototypeGet(fails, key);
      if (f === undefined) {
        f = function () {
          throw I.unavailable(`${name}.${key}()`, INSTEAD[name]);
        };
        P.MapPrototypeSet(fails, key, f);
      }
      return f;
    };
    const handler = {
      get(target, key) {
        if (key in target) return target[key];
        if (typeof key === "symbol" || key === "then" || key === "__esModule") return undefined;
        return fail(key);
      },
    };
    return new P.Proxy(P.ObjectAssign(P.ObjectCreate(null), members ?? {}), handler);
  }
  I.stubModule = stubModule;

  /**
   * The module for a Node built-in name (without `node:`), or undefined (50_modules.js then
   * throws its "not available" error). `fromPackage`: the requiring file is in node_modules.
   */
  I.nodeBuiltin = (name, fromPackage) => {
    const hit = P.MapPrototypeGet(built, name);
    if (hit !== undefined) return hit;
    const factory = factories[name];
    if (factory === undefined) {
      if (!fromPackage) {
        if (INSTEAD[name] !== undefined) throw moduleError(name);
        return undefined;
      }
      const stubs = I.nodeStubs[name];
      const m = stubModule(name, stubs === undefined ? {} : stubs());
      P.MapPrototypeSet(built, name, m);
      return m;
    }
    const m = factory();
    P.MapPrototypeSet(built, name, m);
    return m;
  };

  /** name -> () => members of the stub a package gets (filled by 70_node_misc.js). */
  I.nodeStubs = P.ObjectCreate(null);

  P.ObjectDefineProperty(globalThis, "global", {
    __proto__: null,
    value: globalThis,
    writable: true,
    configurable: true,
    enumerable: false,
  });
})(globalThis);
