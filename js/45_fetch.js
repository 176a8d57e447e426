// 45_fetch.js - WHATWG-shaped fetch(): Headers, Response, AbortController/AbortSignal.
// The request itself is op_isobot_fetch (reqwest, network policy, size cap, timeout).
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;

  const define = I.defineGlobal;

  function domError(name, message) {
    const e = new P.ErrorCtor(message);
    e.name = name;
    return e;
  }

  /** What a fetch that outlived its timeout rejects with (class `TimeoutError` of the op). */
  class TimeoutError extends P.ErrorCtor {
    constructor(message) {
      super(message);
      this.name = "TimeoutError";
    }
  }
  I.core.registerErrorClass("TimeoutError", TimeoutError);

  // ---- AbortController / AbortSignal -----------------------------------------------------
  class AbortSignal {
    #aborted = false;
    #reason = undefined;
    #listeners = [];
    onabort = null;
    get aborted() {
      return this.#aborted;
    }
    get reason() {
      return this.#reason;
    }
    throwIfAborted() {
      if (this.#aborted) throw this.#reason;
    }
    addEventListener(type, fn) {
      if (type === "abort" && typeof fn === "function") P.AnyPush(this.#listeners, fn);
    }
    removeEventListener(type, fn) {
      if (type === "abort") this.#listeners = P.AnyFilter(this.#listeners, (f) => f !== fn);
    }
    static _abort(signal, reason) {
      if (signal.#aborted) return;
      signal.#aborted = true;
      signal.#reason = reason === undefined ? domError("AbortError", "This operation was aborted") : reason;
      const event = { type: "abort", target: signal };
      if (typeof signal.onabort === "function") signal.onabort(event);
      for (const fn of signal.#listeners) fn(event);
    }
    static abort(reason) {
      const s = new AbortSignal();
      AbortSignal._abort(s, reason);
      return s;
    }
    static timeout(ms) {
      const s = new AbortSignal();
      I.setTimeout(() => AbortSignal._abort(s, domError("TimeoutError", "The operation timed out")), ms);
      return s;
    }
  }

  class AbortController {
    #signal = new AbortSignal();
    get signal() {
      return this.#signal;
    }
    abort(reason) {
      AbortSignal._abort(this.#signal, reason);
    }
  }

  // ---- Headers ------------------------------------------------------------------------------
  class Headers {
    #map = new P.SafeMap(); // lower-case name -> [name, values[]]
    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof Headers) {
        for (const [k, v] of init) this.append(k, v);
      } else if (typeof init[P.SymbolIterator] === "function") {
        for (const pair of init) {
          const [k, v] = [...pair];
          this.append(k, v);
        }
      } else if (typeof init === "object") {
        for (const k of P.ObjectKeys(init)) this.append(k, init[k]);
      }
    }
    append(name, value) {
      const key = P.StringPrototypeToLowerCase(P.StringCtor(name));
      const v = P.StringPrototypeTrim(P.StringCtor(value));
      const e = P.MapPrototypeGet(this.#map, key);
      if (e === undefined) P.MapPrototypeSet(this.#map, key, [key, [v]]);
      else P.AnyPush(e[1], v);
    }
    set(name, value) {
      const key = P.StringPrototypeToLowerCase(P.StringCtor(name));
      P.MapPrototypeSet(this.#map, key, [key, [P.StringPrototypeTrim(P.StringCtor(value))]]);
    }
    get(name) {
      const e = P.MapPrototypeGet(this.#map, P.StringPrototypeToLowerCase(P.StringCtor(name)));
      if (e === undefined) return null;
      return e[0] === "set-cookie" ? P.AnyJoin(e[1], ", ") : P.AnyJoin(e[1], ", ");
    }
    getSetCookie() {
      const e = P.MapPrototypeGet(this.#map, "set-cookie");
      return e === undefined ? [] : [...e[1]];
    }
    has(name) {
      return this.#map.has(P.StringPrototypeToLowerCase(P.StringCtor(name)));
    }
    delete(name) {
      P.MapPrototypeDelete(this.#map, P.StringPrototypeToLowerCase(P.StringCtor(name)));
    }
    forEach(cb, thisArg) {
      for (const [k, v] of this) P.FunctionPrototypeCall(cb, thisArg, v, k, this);
    }
    *entries() {
      const keys = P.ArrayPrototypeSort([...this.#map.keys()]);
      for (const k of keys) yield [k, this.get(k)];
    }
    *keys() {
      for (const [k] of this.entries()) yield k;
    }
    *values() {
      for (const [, v] of this.entries()) yield v;
    }
    [P.SymbolIterator]() {
      return this.entries();
    }
    _pairs() {
      const out = [];
      for (const [k, vs] of this.#map.values()) for (const v of vs) P.AnyPush(out, [k, v]);
      return out;
    }
  }

  // ---- Response -----------------------------------------------------------------------------
  class Response {
    #body;
    #used = false;
    constructor(body = null, init = {}) {
      this.status = init.status ?? 200;
      this.statusText = init.statusText ?? "";
      this.headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
      this.url = init.url ?? "";
      this.redirected = !!init.redirected;
      this.type = "basic";
      this.#body = body === null ? new P.Uint8Array(0) : typeof body === "string" ? I.encode(body) : I.bytesOf(body);
    }
    get ok() {
      return this.status >= 200 && this.status < 300;
    }
    get bodyUsed() {
      return this.#used;
    }
    #take() {
      if (this.#used) return P.PromiseReject(new P.TypeErrorCtor("Body has already been consumed"));
      this.#used = true;
      return P.PromiseResolve(this.#body);
    }
    arrayBuffer() {
      return P.PromisePrototypeThen(this.#take(), (b) => P.AnySlice(b.buffer, b.byteOffset, b.byteOffset + b.byteLength));
    }
    bytes() {
      return P.PromisePrototypeThen(this.#take(), (b) => new P.Uint8Array(b));
    }
    text() {
      return P.PromisePrototypeThen(this.#take(), (b) => I.decode(b));
    }
    json() {
      return P.PromisePrototypeThen(this.text(), (t) => P.JSONParse(t));
    }
    clone() {
      if (this.#used) throw new P.TypeErrorCtor("Response.clone: body has already been consumed");
      return new Response(new P.Uint8Array(this.#body), this);
    }
    static json(data, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(P.JSONStringify(data), { ...init, headers });
    }
  }

  // ---- fetch ----------------------------------------------------------------------------------
  let nextFetchId = 1;

  function bodyOf(body, headers) {
    if (body === undefined || body === null) return null;
    if (typeof body === "string") {
      if (!headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
      return I.encode(body);
    }
    if (body instanceof I.globals.URLSearchParams) {
      if (!headers.has("content-type")) {
        headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
      }
      return I.encode(P.AnyToString(body));
    }
    if (body instanceof P.ArrayBuffer || P.ArrayBufferIsView(body)) return new P.Uint8Array(I.bytesOf(body));
    throw new P.TypeErrorCtor("fetch: body must be a string, URLSearchParams, ArrayBuffer or typed array");
  }

  function fetch(input, init = {}) {
    const runId = I.currentRunId();
    try {
      // `input` is a URL string, a URL, or a Request-like object {url, method, headers}.
      const req = typeof input === "object" && input !== null && !(input instanceof I.globals.URL) ? input : null;
      const url = req !== null ? P.StringCtor(req.url) : input instanceof I.globals.URL ? input.href : P.StringCtor(input);
      const headers = new Headers(init.headers ?? (req !== null ? req.headers : undefined));
      const method = P.StringPrototypeToUpperCase(P.StringCtor(init.method ?? (req !== null ? req.method : undefined) ?? "GET"));
      const body = bodyOf(init.body, headers);
      const signal = init.signal ?? null;
      if (signal !== null && signal.aborted) return P.PromiseReject(signal.reason);
      const id = nextFetchId++;
      const request = ops.op_isobot_fetch(runId, id, {
        url,
        method,
        headers: headers._pairs(),
        body,
        timeout: typeof init.timeout === "number" ? init.timeout : null,
      });
      const response = P.PromisePrototypeThen(request, 
        (r) => new Response(r.body, { status: r.status, statusText: r.statusText, headers: new Headers(r.headers), url: r.url, redirected: r.redirected }),
      );
      if (signal === null) return response;
      return new P.PromiseCtor((resolve, reject) => {
        const onAbort = () => {
          ops.op_isobot_fetch_abort(id);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort);
        P.PromisePrototypeThen(response, 
          (r) => {
            signal.removeEventListener("abort", onAbort);
            resolve(r);
          },
          (e) => {
            signal.removeEventListener("abort", onAbort);
            reject(signal.aborted ? signal.reason : e);
          },
        );
      });
    } catch (e) {
      return P.PromiseReject(e);
    }
  }

  define("fetch", fetch);
  define("Headers", Headers);
  define("Response", Response);
  define("AbortController", AbortController);
  define("AbortSignal", AbortSignal);
})(globalThis);
