// 40_web.js - the web platform plugins expect: timers (which keep their run open until they fire
// or are cleared), TextEncoder/TextDecoder, atob/btoa, URL/URLSearchParams, structuredClone,
// crypto (randomUUID, getRandomValues, subtle.digest) and queueMicrotask.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;
  const core = I.core;

  const define = I.defineGlobal;

  // ---- timers ---------------------------------------------------------------------------
  // Every timer belongs to the run whose async context created it; a pending timer holds the
  // run open (op_isobot_hold) and ending the run clears its timers.
  const timersOfRun = new P.SafeMap();
  let nextTimerId = 1;
  const timersById = new P.SafeMap();

  function track(runId, t) {
    let set = P.MapPrototypeGet(timersOfRun, runId);
    if (set === undefined) {
      set = new P.SafeSet();
      P.MapPrototypeSet(timersOfRun, runId, set);
    }
    set.add(t);
    if (runId !== 0) ops.op_isobot_hold(runId);
    t.held = runId !== 0;
  }

  function untrack(t) {
    if (t.done) return;
    t.done = true;
    P.MapPrototypeDelete(timersById, t.id);
    const set = P.MapPrototypeGet(timersOfRun, t.runId);
    if (set !== undefined) {
      set.delete(t);
      if (set.size === 0) P.MapPrototypeDelete(timersOfRun, t.runId);
    }
    if (t.held) ops.op_isobot_release(t.runId);
    t.held = false;
  }

  /**
   * The object plugins get back: numeric like browsers (`+t`), with Node's ref/unref (an
   * unref'd timer does not keep its run open, as it would not keep Node's process alive) and
   * refresh.
   */
  class Timeout {
    constructor(id) {
      this._id = id;
    }
    [P.SymbolToPrimitive]() {
      return this._id;
    }
    ref() {
      const t = P.MapPrototypeGet(timersById, this._id);
      if (t !== undefined && !t.held && t.runId !== 0) {
        ops.op_isobot_hold(t.runId);
        t.held = true;
      }
      return this;
    }
    unref() {
      const t = P.MapPrototypeGet(timersById, this._id);
      if (t !== undefined && t.held) {
        ops.op_isobot_release(t.runId);
        t.held = false;
      }
      return this;
    }
    hasRef() {
      const t = P.MapPrototypeGet(timersById, this._id);
      return t !== undefined && t.held;
    }
    refresh() {
      const t = P.MapPrototypeGet(timersById, this._id);
      if (t !== undefined) {
        I.cancelTimer(t.core);
        t.core = I.createTimer(t.fire, t.after, undefined, t.repeat, true);
      }
      return this;
    }
  }

  function schedule(callback, delay, args, repeat) {
    if (typeof callback !== "function") {
      throw new P.TypeErrorCtor("setTimeout/setInterval: the callback must be a function");
    }
    const ms = P.NumberCtor(delay);
    const after = ms >= 1 && ms <= 2147483647 ? ms : 1;
    const id = nextTimerId++;
    const t = { id, runId: I.currentRunId(), done: false, core: null, held: false, after, repeat, fire: null };
    // The callback runs in the async context that created it (its run: console, fetch, SDK).
    const context = I.getAsyncContext();
    const fire = () => {
      const prev = I.getAsyncContext();
      I.setAsyncContext(context);
      try {
        callback(...args);
      } catch (e) {
        // An error of a run's callback fails that run (process.exit() ends it) and is not an
        // error of the event loop that serves every run.
        if (!I.uncaught(e)) throw e;
      } finally {
        I.setAsyncContext(prev);
        // The run is held until the callback has returned: a callback that never returns (a
        // busy loop) keeps its run open to its time limit instead of letting it end "ok".
        if (!repeat) untrack(t);
      }
    };
    t.fire = fire;
    t.core = I.createTimer(fire, after, undefined, repeat, true);
    P.MapPrototypeSet(timersById, id, t);
    track(t.runId, t);
    return new Timeout(id);
  }

  function clear(handle) {
    const id = handle !== null && typeof handle === "object" ? handle._id : P.NumberCtor(handle);
    const t = P.MapPrototypeGet(timersById, id);
    if (t === undefined) return;
    I.cancelTimer(t.core);
    untrack(t);
  }

  /** Called when a run ends (done, timed out, cancelled): its timers go with it. */
  I.clearRunTimers = (runId) => {
    const set = P.MapPrototypeGet(timersOfRun, runId);
    if (set === undefined) return;
    for (const t of [...set]) {
      I.cancelTimer(t.core);
      untrack(t);
    }
  };

  const setTimeout = (cb, ms, ...args) => schedule(cb, ms, args, false);
  const setInterval = (cb, ms, ...args) => schedule(cb, ms, args, true);
  define("setTimeout", setTimeout);
  define("setInterval", setInterval);
  define("clearTimeout", clear);
  define("clearInterval", clear);
  define("setImmediate", (cb, ...args) => schedule(cb, 0, args, false));
  define("clearImmediate", clear);
  I.setTimeout = setTimeout;
  I.sleep = (ms) => new P.PromiseCtor((resolve) => setTimeout(resolve, ms));

  // ---- encoding -------------------------------------------------------------------------
  class TextEncoder {
    get encoding() {
      return "utf-8";
    }
    encode(input = "") {
      return I.encode(P.StringCtor(input));
    }
    encodeInto(input, dest) {
      const bytes = I.encode(P.StringCtor(input));
      const n = P.MathMin(bytes.length, dest.length);
      dest.set(P.TypedArrayPrototypeSubarray(bytes, 0, n));
      return { read: input.length, written: n };
    }
  }

  class TextDecoder {
    #fatal;
    #ignoreBOM;
    constructor(label = "utf-8", options = {}) {
      const l = P.StringPrototypeToLowerCase(P.StringCtor(label));
      if (l !== "utf-8" && l !== "utf8" && l !== "unicode-1-1-utf-8") {
        throw new P.RangeError(`TextDecoder: encoding "${label}" is not supported (only utf-8)`);
      }
      this.#fatal = !!options.fatal;
      this.#ignoreBOM = !!options.ignoreBOM;
    }
    get encoding() {
      return "utf-8";
    }
    get fatal() {
      return this.#fatal;
    }
    decode(input = new P.Uint8Array(0)) {
      let bytes;
      if (input instanceof P.ArrayBuffer) bytes = new P.Uint8Array(input);
      else if (P.ArrayBufferIsView(input)) {
        bytes = new P.Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      } else throw new P.TypeErrorCtor("TextDecoder.decode: expected an ArrayBuffer or a view");
      let text = I.decode(bytes);
      if (this.#fatal && P.AnyIncludes(text, "\ufffd")) {
        // Only a real replacement character in the input is legitimate; re-check strictly.
        const again = I.encode(text);
        if (again.length !== bytes.length || P.AnySome(again, (b, i) => b !== bytes[i])) {
          throw new P.TypeErrorCtor("TextDecoder: the encoded data was not valid utf-8");
        }
      }
      if (!this.#ignoreBOM && P.StringPrototypeCharCodeAt(text, 0) === 0xfeff) text = P.AnySlice(text, 1);
      return text;
    }
  }
  define("TextEncoder", TextEncoder);
  define("TextDecoder", TextDecoder);
  define("btoa", (s) => ops.op_isobot_btoa(P.StringCtor(s)));
  define("atob", (s) => ops.op_isobot_atob(P.StringCtor(s)));
  define("structuredClone", (value) => core.structuredClone(value));

  // ---- URL ------------------------------------------------------------------------------
  const FORM_SAFE = /[A-Za-z0-9*\-._]/;
  function formEncode(s) {
    const bytes = I.encode(P.StringCtor(s));
    let out = "";
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      const c = P.StringFromCharCode(b);
      if (b < 0x80 && P.AnyTest(FORM_SAFE, c)) out += c;
      else if (b === 0x20) out += "+";
      else out += "%" + (b < 16 ? "0" : "") + P.StringPrototypeToUpperCase(P.AnyToString(b, 16));
    }
    return out;
  }
  function formDecode(s) {
    const t = P.AnyReplace(s, /\+/g, " ");
    try {
      return P.decodeURIComponent(t);
    } catch {
      return t;
    }
  }

  class URLSearchParams {
    #list = [];
    #url = null;
    constructor(init = "") {
      if (typeof init === "string") {
        this.#parse(init);
      } else if (init instanceof URLSearchParams) {
        this.#list = [...init.entries()];
      } else if (init !== null && typeof init === "object") {
        if (typeof init[P.SymbolIterator] === "function") {
          for (const pair of init) {
            const [k, v] = [...pair];
            P.AnyPush(this.#list, [P.StringCtor(k), P.StringCtor(v)]);
          }
        } else {
          for (const k of P.ObjectKeys(init)) P.AnyPush(this.#list, [k, P.StringCtor(init[k])]);
        }
      }
    }
    #parse(s) {
      this.#list = [];
      const q = P.StringPrototypeStartsWith(s, "?") ? P.AnySlice(s, 1) : s;
      for (const part of P.AnySplit(q, "&")) {
        if (part === "") continue;
        const i = P.AnyIndexOf(part, "=");
        const k = i < 0 ? part : P.AnySlice(part, 0, i);
        const v = i < 0 ? "" : P.AnySlice(part, i + 1);
        P.AnyPush(this.#list, [formDecode(k), formDecode(v)]);
      }
    }
    static _attach(params, url, search) {
      params.#url = url;
      params.#parse(search);
    }
    #update() {
      if (this.#url !== null) this.#url._setSearch(this.toString());
    }
    append(k, v) {
      P.AnyPush(this.#list, [P.StringCtor(k), P.StringCtor(v)]);
      this.#update();
    }
    delete(k) {
      this.#list = P.AnyFilter(this.#list, ([n]) => n !== P.StringCtor(k));
      this.#update();
    }
    get(k) {
      const e = P.AnyFind(this.#list, ([n]) => n === P.StringCtor(k));
      return e === undefined ? null : e[1];
    }
    getAll(k) {
      return P.AnyMap(P.AnyFilter(this.#list, ([n]) => n === P.StringCtor(k)), ([, v]) => v);
    }
    has(k) {
      return P.AnySome(this.#list, ([n]) => n === P.StringCtor(k));
    }
    set(k, v) {
      const key = P.StringCtor(k);
      const i = P.AnyFindIndex(this.#list, ([n]) => n === key);
      if (i < 0) P.AnyPush(this.#list, [key, P.StringCtor(v)]);
      else {
        this.#list[i] = [key, P.StringCtor(v)];
        this.#list = P.AnyFilter(this.#list, ([n], j) => n !== key || j === i);
      }
      this.#update();
    }
    sort() {
      P.ArrayPrototypeSort(this.#list, (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.#update();
    }
    forEach(cb, thisArg) {
      for (const [k, v] of this.#list) P.FunctionPrototypeCall(cb, thisArg, v, k, this);
    }
    get size() {
      return this.#list.length;
    }
    *entries() {
      for (const [k, v] of this.#list) yield [k, v];
    }
    *keys() {
      for (const [k] of this.#list) yield k;
    }
    *values() {
      for (const [, v] of this.#list) yield v;
    }
    [P.SymbolIterator]() {
      return this.entries();
    }
    toString() {
      return P.AnyJoin(P.AnyMap(this.#list, ([k, v]) => `${formEncode(k)}=${formEncode(v)}`), "&");
    }
  }

  class URL {
    #p;
    #params = null;
    constructor(url, base) {
      const href = url instanceof URL ? url.href : P.StringCtor(url);
      const b = base === undefined ? null : base instanceof URL ? base.href : P.StringCtor(base);
      this.#p = ops.op_isobot_url_parse(href, b);
    }
    static canParse(url, base) {
      try {
        new URL(url, base);
        return true;
      } catch {
        return false;
      }
    }
    static parse(url, base) {
      try {
        return new URL(url, base);
      } catch {
        return null;
      }
    }
    #set(part, value) {
      this.#p = ops.op_isobot_url_set(this.#p.href, part, P.StringCtor(value));
      if (this.#params !== null && part !== "hash") {
        URLSearchParams._attach(this.#params, this, this.#p.search);
      }
    }
    _setSearch(s) {
      this.#p = ops.op_isobot_url_set(this.#p.href, "search", s);
    }
    get searchParams() {
      if (this.#params === null) {
        this.#params = new URLSearchParams();
        URLSearchParams._attach(this.#params, this, this.#p.search);
      }
      return this.#params;
    }
    get href() {
      return this.#p.href;
    }
    set href(v) {
      this.#set("href", v);
    }
    get protocol() {
      return this.#p.protocol;
    }
    set protocol(v) {
      this.#set("protocol", v);
    }
    get username() {
      return this.#p.username;
    }
    set username(v) {
      this.#set("username", v);
    }
    get password() {
      return this.#p.password;
    }
    set password(v) {
      this.#set("password", v);
    }
    get host() {
      return this.#p.host;
    }
    set host(v) {
      this.#set("host", v);
    }
    get hostname() {
      return this.#p.hostname;
    }
    set hostname(v) {
      this.#set("hostname", v);
    }
    get port() {
      return this.#p.port;
    }
    set port(v) {
      this.#set("port", v);
    }
    get pathname() {
      return this.#p.pathname;
    }
    set pathname(v) {
      this.#set("pathname", v);
    }
    get search() {
      return this.#p.search;
    }
    set search(v) {
      this.#set("search", v);
    }
    get hash() {
      return this.#p.hash;
    }
    set hash(v) {
      this.#set("hash", v);
    }
    get origin() {
      return this.#p.origin;
    }
    toString() {
      return this.#p.href;
    }
    toJSON() {
      return this.#p.href;
    }
  }
  define("URL", URL);
  define("URLSearchParams", URLSearchParams);

  // ---- crypto ---------------------------------------------------------------------------
  function bytesOf(data) {
    if (typeof data === "string") return I.encode(data);
    if (data instanceof P.ArrayBuffer) return new P.Uint8Array(data);
    if (P.ArrayBufferIsView(data)) return new P.Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw new P.TypeErrorCtor("expected a string, an ArrayBuffer or a typed array");
  }
  I.bytesOf = bytesOf;
  const subtle = {
    digest(algorithm, data) {
      try {
        const name = typeof algorithm === "string" ? algorithm : algorithm && algorithm.name;
        const out = ops.op_isobot_digest(P.StringCtor(name), bytesOf(data));
        return P.PromiseResolve(P.AnySlice(out.buffer, out.byteOffset, out.byteOffset + out.byteLength));
      } catch (e) {
        return P.PromiseReject(e);
      }
    },
  };
  const crypto = {
    randomUUID: () => ops.op_isobot_uuid(),
    getRandomValues(view) {
      if (!P.ArrayBufferIsView(view) || view instanceof P.Float32Array || view instanceof P.Float64Array) {
        throw new P.TypeErrorCtor("crypto.getRandomValues: expected an integer typed array");
      }
      if (view.byteLength > 65536) {
        throw new P.RangeError("crypto.getRandomValues: at most 65536 bytes per call");
      }
      ops.op_isobot_random_fill(new P.Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      return view;
    },
    subtle,
  };
  define("crypto", crypto);
})(globalThis);
