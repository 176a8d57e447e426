// 63_node_util.js - the `util` module (format, inspect, promisify, callbackify, inherits,
// deprecate, types, isDeepStrictEqual, TextEncoder/TextDecoder ...) and `events` (Node's
// EventEmitter: on/once/off/emit/prepend*/removeAllListeners/listenerCount, events.once).
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;
  const core = I.core;

  function invalidArg(name, expected, actual) {
    const e = new P.TypeErrorCtor(
      `The "${name}" argument must be ${expected}. Received ${actual === null ? "null" : typeof actual}`,
    );
    I.put(e, "code", "ERR_INVALID_ARG_TYPE");
    return e;
  }

  // ---- deep equality (util.isDeepStrictEqual, assert.deepEqual) ------------------------------
  function deepEqual(a, b, strict, memo) {
    if (strict ? P.ObjectIs(a, b) : a == b || (a !== a && b !== b)) return true; // eslint-disable-line eqeqeq
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
      return false;
    }
    if (strict && P.ObjectGetPrototypeOf(a) !== P.ObjectGetPrototypeOf(b)) return false;
    const tagA = I.objectToString(a);
    if (tagA !== I.objectToString(b)) return false;
    if (P.ArrayIsArray(a) !== P.ArrayIsArray(b)) return false;
    if (core.isDate(a)) {
      if (a.getTime() !== b.getTime()) return false;
    } else if (core.isRegExp(a)) {
      if (a.source !== b.source || a.flags !== b.flags || a.lastIndex !== b.lastIndex) return false;
    } else if (a instanceof P.Error || core.isNativeError(a)) {
      if (a.message !== b.message || a.name !== b.name) return false;
    } else if (P.ArrayBufferIsView(a)) {
      if (a.byteLength !== b.byteLength) return false;
      const x = new P.Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const y = new P.Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    } else if (core.isBoxedPrimitive(a)) {
      if (!P.ObjectIs(a.valueOf(), b.valueOf())) return false;
    }
    memo = memo ?? new P.SafeMap();
    const seen = memo.get(a);
    if (seen !== undefined && seen === b) return true;
    memo.set(a, b);
    if (core.isSet(a)) {
      if (a.size !== b.size) return false;
      outer: for (const x of a) {
        if (b.has(x)) continue;
        if (typeof x !== "object" || x === null) return false;
        for (const y of b) if (deepEqual(x, y, strict, memo)) continue outer;
        return false;
      }
    } else if (core.isMap(a)) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) {
        if (!b.has(k) || !deepEqual(v, b.get(k), strict, memo)) return false;
      }
    }
    const ka = P.ObjectKeys(a);
    const kb = P.ObjectKeys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!P.ObjectPrototypeHasOwnProperty(b, k)) return false;
      if (!deepEqual(a[k], b[k], strict, memo)) return false;
    }
    return true;
  }
  I.deepEqual = deepEqual;

  // ---- util -----------------------------------------------------------------------------
  const PROMISIFY = P.SymbolFor("nodejs.util.promisify.custom");

  function promisify(original) {
    if (typeof original !== "function") throw invalidArg("original", "of type function", original);
    if (typeof original[PROMISIFY] === "function") return original[PROMISIFY];
    function fn(...args) {
      return new P.PromiseCtor((resolve, reject) => {
        P.FunctionPrototypeCall(original, this, ...args, (err, ...values) => {
          if (err) reject(err);
          else resolve(values[0]);
        });
      });
    }
    P.ObjectSetPrototypeOf(fn, P.ObjectGetPrototypeOf(original));
    P.ObjectDefineProperty(fn, PROMISIFY, { __proto__: null, value: fn, enumerable: false, writable: false, configurable: true });
    const descriptors = P.ObjectGetOwnPropertyDescriptors(original);
    delete descriptors.length;
    delete descriptors.name;
    delete descriptors.prototype;
    return P.ObjectDefineProperties(fn, descriptors);
  }
  promisify.custom = PROMISIFY;

  function callbackify(original) {
    if (typeof original !== "function") throw invalidArg("original", "of type function", original);
    return function (...args) {
      const cb = P.AnyPop(args);
      if (typeof cb !== "function") throw invalidArg("last argument", "of type function", cb);
      P.PromisePrototypeThen(
        P.PromiseResolve(P.FunctionPrototypeApply(original, this, args)),
        (v) => I.nextTick(cb, null, v),
        (e) => {
          let err = e;
          if (!err) {
            err = new P.ErrorCtor("Promise was rejected with a falsy value");
            err.reason = e;
            I.put(err, "code", "ERR_FALSY_VALUE_REJECTION");
          }
          I.nextTick(cb, err);
        },
      );
    };
  }

  function inherits(ctor, superCtor) {
    if (typeof ctor !== "function") throw invalidArg("ctor", "of type function", ctor);
    if (typeof superCtor !== "function") throw invalidArg("superCtor", "of type function", superCtor);
    if (superCtor.prototype === undefined) throw invalidArg("superCtor.prototype", "of type object", undefined);
    P.ObjectDefineProperty(ctor, "super_", { __proto__: null, value: superCtor, writable: true, configurable: true });
    P.ObjectSetPrototypeOf(ctor.prototype, superCtor.prototype);
  }

  function deprecate(fn, msg, code) {
    let warned = false;
    function deprecated(...args) {
      if (!warned) {
        warned = true;
        console.warn(`[${code ?? "DEP"}] DeprecationWarning: ${msg}`);
      }
      return new.target ? P.ReflectConstruct(fn, args, new.target) : P.FunctionPrototypeApply(fn, this, args);
    }
    P.ObjectSetPrototypeOf(deprecated, fn);
    if (fn.prototype) deprecated.prototype = fn.prototype;
    return deprecated;
  }

  function debuglog() {
    const log = () => {};
    log.enabled = false;
    return log;
  }

  const types = {
    isAnyArrayBuffer: core.isAnyArrayBuffer,
    isArrayBuffer: core.isArrayBuffer,
    isArrayBufferView: (v) => P.ArrayBufferIsView(v),
    isArgumentsObject: core.isArgumentsObject,
    isAsyncFunction: core.isAsyncFunction,
    isBigIntObject: core.isBigIntObject,
    isBooleanObject: core.isBooleanObject,
    isBoxedPrimitive: core.isBoxedPrimitive,
    isDataView: core.isDataView,
    isDate: core.isDate,
    isGeneratorFunction: core.isGeneratorFunction,
    isGeneratorObject: core.isGeneratorObject,
    isMap: core.isMap,
    isMapIterator: core.isMapIterator,
    isModuleNamespaceObject: core.isModuleNamespaceObject,
    isNativeError: core.isNativeError,
    isNumberObject: core.isNumberObject,
    isPromise: core.isPromise,
    isProxy: core.isProxy,
    isRegExp: core.isRegExp,
    isSet: core.isSet,
    isSetIterator: core.isSetIterator,
    isSharedArrayBuffer: core.isSharedArrayBuffer,
    isStringObject: core.isStringObject,
    isSymbolObject: core.isSymbolObject,
    isTypedArray: core.isTypedArray,
    isWeakMap: core.isWeakMap,
    isWeakSet: core.isWeakSet,
    isKeyObject: () => false,
    isCryptoKey: () => false,
    isExternal: () => false,
  };
  for (const t of ["Uint8Array", "Uint8ClampedArray", "Uint16Array", "Uint32Array", "Int8Array", "Int16Array", "Int32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]) {
    const C = globalThis[t];
    types[`is${t}`] = (v) => core.isTypedArray(v) && v instanceof C;
  }
  I.nodeModule("util/types", () => types);

  I.nodeModule("util", () => ({
    format: I.nodeFormat,
    formatWithOptions: I.formatWithOptions,
    inspect: I.inspect,
    promisify,
    callbackify,
    inherits,
    deprecate,
    debuglog,
    debug: debuglog,
    isDeepStrictEqual: (a, b) => deepEqual(a, b, true),
    types,
    TextEncoder: I.globals.TextEncoder,
    TextDecoder: I.globals.TextDecoder,
    toUSVString: (s) => P.StringCtor(s).toWellFormed(),
    stripVTControlCharacters: (s) => P.AnyReplace(P.StringCtor(s), /\u001b\[[0-9;]*[A-Za-z]/g, ""),
    styleText: (_format, text) => text,
    getSystemErrorName: (n) => `Unknown system error ${n}`,
    isArray: P.ArrayIsArray,
    isBoolean: (v) => typeof v === "boolean",
    isBuffer: (v) => I.Buffer.isBuffer(v),
    isDate: core.isDate,
    isError: (v) => core.isNativeError(v) || v instanceof P.Error,
    isFunction: (v) => typeof v === "function",
    isNull: (v) => v === null,
    isNullOrUndefined: (v) => v === null || v === undefined,
    isNumber: (v) => typeof v === "number",
    isObject: (v) => v !== null && typeof v === "object",
    isPrimitive: (v) => v === null || (typeof v !== "object" && typeof v !== "function"),
    isRegExp: core.isRegExp,
    isString: (v) => typeof v === "string",
    isSymbol: (v) => typeof v === "symbol",
    isUndefined: (v) => v === undefined,
  }));

  // ---- events ---------------------------------------------------------------------------
  const kErrorMonitor = P.Symbol("events.errorMonitor");
  let defaultMaxListeners = 10;

  function checkListener(listener) {
    if (typeof listener !== "function") throw invalidArg("listener", "of type function", listener);
  }

  function EventEmitter(opts) {
    P.FunctionPrototypeCall(EventEmitter.init, this, opts);
  }
  EventEmitter.prototype._events = undefined;
  EventEmitter.prototype._eventsCount = 0;
  EventEmitter.prototype._maxListeners = undefined;
  EventEmitter.init = function (_opts) {
    if (this._events === undefined || this._events === P.ObjectGetPrototypeOf(this)._events) {
      this._events = P.ObjectCreate(null);
      this._eventsCount = 0;
    }
    this._maxListeners = this._maxListeners || undefined;
  };
  P.ObjectDefineProperty(EventEmitter, "defaultMaxListeners", {
    __proto__: null,
    enumerable: true,
    get: () => defaultMaxListeners,
    set: (n) => {
      defaultMaxListeners = n;
    },
  });

  const proto = EventEmitter.prototype;
  proto.setMaxListeners = function setMaxListeners(n) {
    this._maxListeners = n;
    return this;
  };
  proto.getMaxListeners = function getMaxListeners() {
    return this._maxListeners === undefined ? defaultMaxListeners : this._maxListeners;
  };
  proto.emit = function emit(type, ...args) {
    let doError = type === "error";
    const events = this._events;
    if (events !== undefined) {
      if (doError && events[kErrorMonitor] !== undefined) this.emit(kErrorMonitor, ...args);
      doError = doError && events.error === undefined;
    } else if (!doError) {
      return false;
    }
    if (doError) {
      const er = args[0];
      if (er instanceof P.Error) throw er;
      const err = new P.ErrorCtor(`Unhandled error.${er === undefined ? "" : ` (${I.inspect(er)})`}`);
      err.context = er;
      I.put(err, "code", "ERR_UNHANDLED_ERROR");
      throw err;
    }
    const handler = events[type];
    if (handler === undefined) return false;
    if (typeof handler === "function") {
      P.ReflectApply(handler, this, args);
    } else {
      const listeners = P.AnySlice(handler);
      for (let i = 0; i < listeners.length; i++) P.ReflectApply(listeners[i], this, args);
    }
    return true;
  };

  function addListener(target, type, listener, prepend) {
    checkListener(listener);
    let events = target._events;
    let existing;
    if (events === undefined) {
      events = target._events = P.ObjectCreate(null);
      target._eventsCount = 0;
    } else {
      if (events.newListener !== undefined) {
        target.emit("newListener", type, listener.listener ?? listener);
        events = target._events;
      }
      existing = events[type];
    }
    if (existing === undefined) {
      events[type] = listener;
      ++target._eventsCount;
    } else {
      if (typeof existing === "function") {
        existing = events[type] = prepend ? [listener, existing] : [existing, listener];
      } else if (prepend) {
        P.AnyUnshift(existing, listener);
      } else {
        P.AnyPush(existing, listener);
      }
      const m = target.getMaxListeners();
      if (m > 0 && existing.length > m && !existing.warned) {
        existing.warned = true;
        console.warn(
          `MaxListenersExceededWarning: Possible EventEmitter memory leak detected. ${existing.length} ${P.StringCtor(type)} listeners added. Use emitter.setMaxListeners() to increase limit`,
        );
      }
    }
    return target;
  }
  proto.addListener = function (type, listener) {
    return addListener(this, type, listener, false);
  };
  proto.on = proto.addListener;
  proto.prependListener = function (type, listener) {
    return addListener(this, type, listener, true);
  };
  function onceWrapper(...args) {
    if (!this.fired) {
      this.target.removeListener(this.type, this.wrapFn);
      this.fired = true;
      return P.ReflectApply(this.listener, this.target, args);
    }
  }
  function onceWrap(target, type, listener) {
    const state = { fired: false, wrapFn: undefined, target, type, listener };
    const wrapped = P.FunctionPrototypeBind(onceWrapper, state);
    wrapped.listener = listener;
    state.wrapFn = wrapped;
    return wrapped;
  }
  proto.once = function once(type, listener) {
    checkListener(listener);
    this.on(type, onceWrap(this, type, listener));
    return this;
  };
  proto.prependOnceListener = function (type, listener) {
    checkListener(listener);
    this.prependListener(type, onceWrap(this, type, listener));
    return this;
  };
  proto.removeListener = function removeListener(type, listener) {
    checkListener(listener);
    const events = this._events;
    if (events === undefined) return this;
    const list = events[type];
    if (list === undefined) return this;
    if (list === listener || list.listener === listener) {
      if (--this._eventsCount === 0) this._events = P.ObjectCreate(null);
      else {
        delete events[type];
        if (events.removeListener) this.emit("removeListener", type, list.listener || listener);
      }
    } else if (typeof list !== "function") {
      let position = -1;
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i] === listener || list[i].listener === listener) {
          position = i;
          break;
        }
      }
      if (position < 0) return this;
      if (position === 0) P.AnyShift(list);
      else P.AnySplice(list, position, 1);
      if (list.length === 1) events[type] = list[0];
      if (events.removeListener !== undefined) this.emit("removeListener", type, listener);
    }
    return this;
  };
  proto.off = proto.removeListener;
  proto.removeAllListeners = function removeAllListeners(type) {
    const events = this._events;
    if (events === undefined) return this;
    if (events.removeListener === undefined) {
      if (arguments.length === 0) {
        this._events = P.ObjectCreate(null);
        this._eventsCount = 0;
      } else if (events[type] !== undefined) {
        if (--this._eventsCount === 0) this._events = P.ObjectCreate(null);
        else delete events[type];
      }
      return this;
    }
    if (arguments.length === 0) {
      for (const key of P.ReflectOwnKeys(events)) {
        if (key !== "removeListener") this.removeAllListeners(key);
      }
      this.removeAllListeners("removeListener");
      this._events = P.ObjectCreate(null);
      this._eventsCount = 0;
      return this;
    }
    const listeners = events[type];
    if (typeof listeners === "function") this.removeListener(type, listeners);
    else if (listeners !== undefined) {
      for (let i = listeners.length - 1; i >= 0; i--) this.removeListener(type, listeners[i]);
    }
    return this;
  };
  function listenersOf(target, type, unwrap) {
    const events = target._events;
    if (events === undefined) return [];
    const l = events[type];
    if (l === undefined) return [];
    if (typeof l === "function") return unwrap ? [l.listener || l] : [l];
    return unwrap ? P.AnyMap(l, (x) => x.listener || x) : P.AnySlice(l);
  }
  proto.listeners = function (type) {
    return listenersOf(this, type, true);
  };
  proto.rawListeners = function (type) {
    return listenersOf(this, type, false);
  };
  proto.listenerCount = function listenerCount(type, listener) {
    const events = this._events;
    if (events === undefined) return 0;
    const l = events[type];
    if (l === undefined) return 0;
    if (typeof l === "function") return listener === undefined || l === listener || l.listener === listener ? 1 : 0;
    if (listener === undefined) return l.length;
    return P.AnyFilter(l, (x) => x === listener || x.listener === listener).length;
  };
  proto.eventNames = function eventNames() {
    return this._eventsCount > 0 ? P.ReflectOwnKeys(this._events) : [];
  };

  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.usingDomains = false;
  EventEmitter.errorMonitor = kErrorMonitor;
  EventEmitter.captureRejectionSymbol = P.SymbolFor("nodejs.rejection");
  EventEmitter.captureRejections = false;
  EventEmitter.listenerCount = (emitter, type) => emitter.listenerCount(type);
  EventEmitter.getEventListeners = (emitter, type) => emitter.listeners(type);
  EventEmitter.setMaxListeners = (n, ...targets) => {
    if (targets.length === 0) defaultMaxListeners = n;
    for (const t of targets) t.setMaxListeners(n);
  };
  EventEmitter.once = function once(emitter, name, options = {}) {
    return new P.PromiseCtor((resolve, reject) => {
      const signal = options.signal;
      if (signal && signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onError = (err) => {
        emitter.removeListener(name, onEvent);
        reject(err);
      };
      const onEvent = (...args) => {
        if (name !== "error") emitter.removeListener("error", onError);
        resolve(args);
      };
      emitter.once(name, onEvent);
      if (name !== "error") emitter.once("error", onError);
    });
  };
  EventEmitter.on = function on(emitter, event) {
    const queue = [];
    const waiting = [];
    let error = null;
    const onEvent = (...args) => {
      const w = P.AnyShift(waiting);
      if (w) w.resolve({ value: args, done: false });
      else P.AnyPush(queue, args);
    };
    const onError = (err) => {
      const w = P.AnyShift(waiting);
      if (w) w.reject(err);
      else error = err;
    };
    emitter.on(event, onEvent);
    if (event !== "error") emitter.on("error", onError);
    const close = () => {
      emitter.removeListener(event, onEvent);
      emitter.removeListener("error", onError);
    };
    return {
      next() {
        if (queue.length) return P.PromiseResolve({ value: P.AnyShift(queue), done: false });
        if (error) {
          const e = error;
          error = null;
          return P.PromiseReject(e);
        }
        return new P.PromiseCtor((resolve, reject) => P.AnyPush(waiting, { resolve, reject }));
      },
      return() {
        close();
        return P.PromiseResolve({ value: undefined, done: true });
      },
      [P.SymbolAsyncIterator]() {
        return this;
      },
    };
  };
  EventEmitter.addAbortListener = (signal, listener) => {
    signal.addEventListener("abort", listener);
    return { [P.SymbolDispose ?? P.SymbolFor("dispose")]: () => signal.removeEventListener("abort", listener) };
  };

  I.EventEmitter = EventEmitter;
  I.nodeModule("events", () => EventEmitter);
})(globalThis);
