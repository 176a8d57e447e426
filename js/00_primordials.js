// 00_primordials.js - captures the built-ins and ops the runtime uses before any plugin code runs,
// so a plugin that overwrites Array.prototype.push or JSON.stringify cannot break the SDK.
// Everything shared between the runtime files lives on `globalThis.__isobot_internal`, which the
// Rust side takes and deletes before the first plugin runs (internals stay hidden from plugins).
"use strict";
((globalThis) => {
  const core = globalThis.Deno.core;
  const P = {
    ObjectFreeze: Object.freeze,
    ObjectAssign: Object.assign,
    ObjectKeys: Object.keys,
    ObjectFromEntries: Object.fromEntries,
    ObjectCreate: Object.create,
    ObjectDefineProperty: Object.defineProperty,
    ArrayIsArray: Array.isArray,
    ArrayPrototypeMap: Function.prototype.call.bind(Array.prototype.map),
    ArrayPrototypeJoin: Function.prototype.call.bind(Array.prototype.join),
    ArrayPrototypePush: Function.prototype.call.bind(Array.prototype.push),
    ArrayPrototypeSlice: Function.prototype.call.bind(Array.prototype.slice),
    StringPrototypeStartsWith: Function.prototype.call.bind(String.prototype.startsWith),
    StringPrototypeEndsWith: Function.prototype.call.bind(String.prototype.endsWith),
    StringPrototypeIncludes: Function.prototype.call.bind(String.prototype.includes),
    FunctionPrototypeCall: Function.prototype.call.bind(Function.prototype.call),
    JSONStringify: JSON.stringify,
    JSONParse: JSON.parse,
    MapCtor: Map,
    MapPrototypeGet: Function.prototype.call.bind(Map.prototype.get),
    MapPrototypeSet: Function.prototype.call.bind(Map.prototype.set),
    MapPrototypeDelete: Function.prototype.call.bind(Map.prototype.delete),
    PromiseResolve: Promise.resolve.bind(Promise),
    PromiseReject: Promise.reject.bind(Promise),
    PromisePrototypeThen: Function.prototype.call.bind(Promise.prototype.then),
    PromiseCtor: Promise,
    ErrorCtor: Error,
    TypeErrorCtor: TypeError,
    StringCtor: String,
    NumberCtor: Number,
    NumberIsFinite: Number.isFinite,
    SymbolFor: Symbol.for,
  };
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
    /** Installs a web/Node global the way browsers do: writable, configurable, not enumerable. */
    defineGlobal(name, value) {
      P.ObjectDefineProperty(globalThis, name, {
        value,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    },
    // Capability files (js/30_*.js ...) add SDK functions here: `(sdk, runId) => void` for the
    // object `require('./middleware.js')` returns, `(sender, runId) => void` for every Sender.
    sdkExtensions: [],
    senderExtensions: [],
  };
})(globalThis);
