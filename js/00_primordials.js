// 00_primordials.js - captures the built-ins and ops the runtime uses before any plugin code runs,
// so a plugin that overwrites Array.prototype.push or JSON.stringify cannot break the SDK.
// Everything shared between the runtime files lives on `globalThis.__isobot_internal`, which the
// Rust side takes and deletes before the first plugin runs (internals stay hidden from plugins).
"use strict";
((globalThis) => {
  const core = globalThis.Deno.core;
  // deno_core's primordials (Node's set: `ArrayPrototypePush(a, x)`, `StringPrototypeSlice(s, i)`,
  // `JSONParse`, `ObjectDefineProperty`, `SafeMap`, `SafeSet`, `SafeRegExp`, `SafeArrayIterator`,
  // ...), captured by deno_core before any other script, plus isobot's older short names.
  // Conventions for runtime code: call built-in methods through P (never `x.push(...)`), create
  // maps and sets as `P.SafeMap`/`P.SafeSet` (their frozen prototypes are out of a plugin's
  // reach), give property descriptors and option bags read with defaults `__proto__: null`.
  const B = globalThis.__bootstrap.primordials;

  // `P.Any<Method>(x, ...args)` is `x.<method>(...args)` for a receiver whose type the caller
  // does not pin down (a path string or an array of them, a Buffer or a string): strings and
  // arrays (and numbers for `toString`) get the built-in captured here, anything else its own
  // method (Buffer, Blob, a stream), exactly as the method call would have resolved it.
  const ANY = [
    "charCodeAt", "codePointAt", "charAt", "startsWith", "endsWith", "toLowerCase", "toUpperCase",
    "padStart", "padEnd", "repeat", "trim", "trimStart", "trimEnd", "split", "replace", "replaceAll",
    "normalize", "localeCompare", "match", "matchAll", "search", "substring", "substr", "push", "pop",
    "shift", "unshift", "splice", "join", "map", "filter", "forEach", "some", "every", "reduce",
    "reduceRight", "find", "findIndex", "findLast", "findLastIndex", "flat", "flatMap", "slice",
    "includes", "indexOf", "lastIndexOf", "concat", "at", "toString",
  ];
  const anyMethods = { __proto__: null };
  const NumberToString = Number.prototype.toString;
  for (let i = 0; i < ANY.length; i++) {
    const name = ANY[i];
    const forString = B.ObjectPrototypeHasOwnProperty(String.prototype, name) ? String.prototype[name] : undefined;
    const forArray = B.ObjectPrototypeHasOwnProperty(Array.prototype, name) ? Array.prototype[name] : undefined;
    const forNumber = name === "toString" ? NumberToString : undefined;
    anyMethods[`Any${B.StringPrototypeToUpperCase(name[0])}${B.StringPrototypeSlice(name, 1)}`] = (x, ...args) => {
      if (typeof x === "string" && forString !== undefined) return B.ReflectApply(forString, x, args);
      if (forArray !== undefined && B.ArrayIsArray(x)) return B.ReflectApply(forArray, x, args);
      if (typeof x === "number" && forNumber !== undefined) return B.ReflectApply(forNumber, x, args);
      return B.ReflectApply(x[name], x, args);
    };
  }
  /** `re.test(s)` without the (swappable) `exec` lookup `RegExp.prototype.test` does. */
  anyMethods.AnyTest = (re, s) =>
    re instanceof B.RegExp ? B.RegExpPrototypeExec(re, s) !== null : re.test(s);
  const collected = { __proto__: null };
  // Copied by key: the primordials' methods are not enumerable, so `...B` would miss them.
  for (const from of [B, anyMethods]) {
    const keys = B.ReflectOwnKeys(from);
    for (let i = 0; i < keys.length; i++) collected[keys[i]] = from[keys[i]];
  }
  const own = {
    // Older names, kept so both spellings read the same captured built-in.
    MapCtor: B.Map,
    PromiseCtor: B.Promise,
    ErrorCtor: B.Error,
    TypeErrorCtor: B.TypeError,
    StringCtor: B.String,
    NumberCtor: B.Number,
    PromiseResolve: B.PromiseResolve,
  };
  const ownKeys = B.ObjectKeys(own);
  for (let i = 0; i < ownKeys.length; i++) collected[ownKeys[i]] = own[ownKeys[i]];
  // `collected` is a dictionary-mode object (null prototype, ~800 keys): every `P.X` would be a
  // hash lookup (a warm run measured 3x slower). A spread copy is a fast-mode object; its
  // prototype is then set to null and it is frozen, which keeps it fast.
  const P = { ...collected };
  B.ObjectSetPrototypeOf(P, null);
  B.ObjectFreeze(P);
  // deno_core's bindings of async ops (its 00_infra.js) call `originalOp.call(this, ...)`: a
  // plugin that replaced Function.prototype.call would break every async op of its isolate.
  // So `call` is read-only (assigning it is ignored, or a TypeError in strict code).
  B.ObjectDefineProperty(Function.prototype, "call", {
    __proto__: null,
    writable: false,
    configurable: false,
  });
  const globals = { __proto__: null };
  globalThis.__isobot_internal = {
    P,
    core,
    ops: core.ops,
    getAsyncContext: core.getAsyncContext,
    setAsyncContext: core.setAsyncContext,
    createTimer: core.createTimer,
    cancelTimer: core.cancelTimer,
    setUnhandledPromiseRejectionHandler: core.setUnhandledPromiseRejectionHandler,
    encode: core.encode,
    decode: core.decode,
    /**
     * `o[k] = v` for an object the runtime made: a data property as assignment would create it,
     * but defined, so a setter or getter a plugin put on Object.prototype under `k` is not hit.
     */
    put(o, k, v) {
      P.ObjectDefineProperty(o, k, {
        __proto__: null,
        value: v,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    },
    /** The web/Node globals as installed, for runtime code (a plugin may replace the global). */
    globals,
    /** Installs a web/Node global the way browsers do: writable, configurable, not enumerable. */
    defineGlobal(name, value) {
      globals[name] = value;
      P.ObjectDefineProperty(globalThis, name, {
        __proto__: null,
        value,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    },
  };
})(globalThis);
