// 30_store.js - storage (SDK.md sec. 6): get/set/del (bucket `otto`) and the bucket* functions, on
// the object `require('./middleware.js')` returns and on every Sender. Arguments become strings
// here (String(v); null/undefined -> ''); the rules (names, keys, durability) are Rust's:
// src/ext/store.rs (ops op_isobot_store_*) and src/store/. Every function returns a promise and
// reports a bad argument by rejecting, never by throwing; none of them uses `this`.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;
  const PromiseReject = P.PromiseReject;
  const {
    op_isobot_store_get,
    op_isobot_store_keys,
    op_isobot_store_all,
    op_isobot_store_set,
    op_isobot_store_del,
  } = ops;

  const DEFAULT_BUCKET = "otto";

  function str(v) {
    return v === undefined || v === null ? "" : P.StringCtor(v);
  }

  /** Runs `f` and returns its result as a promise; a throw becomes a rejection. */
  function promised(f) {
    try {
      return P.PromiseResolve(f());
    } catch (e) {
      return PromiseReject(e);
    }
  }

  function all(bucket) {
    const flat = op_isobot_store_all(str(bucket));
    const out = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      P.ObjectDefineProperty(out, flat[i], {
        __proto__: null,
        value: flat[i + 1],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return out;
  }

  const STORE = {
    get: (key) => promised(() => op_isobot_store_get(DEFAULT_BUCKET, str(key))),
    set: (key, value) =>
      promised(() => op_isobot_store_set(DEFAULT_BUCKET, str(key), str(value))),
    del: (key) => promised(() => op_isobot_store_del(DEFAULT_BUCKET, str(key))),
    bucketGet: (bucket, key) => promised(() => op_isobot_store_get(str(bucket), str(key))),
    bucketSet: (bucket, key, value) =>
      promised(() => op_isobot_store_set(str(bucket), str(key), str(value))),
    bucketDel: (bucket, key) => promised(() => op_isobot_store_del(str(bucket), str(key))),
    bucketKeys: (bucket, value) =>
      promised(() =>
        op_isobot_store_keys(
          str(bucket),
          value !== undefined && value !== null,
          str(value),
        )
      ),
    bucketAllKeys: (bucket) => promised(() => op_isobot_store_keys(str(bucket), false, "")),
    bucketAll: (bucket) => promised(() => all(bucket)),
  };
  // 20_middleware.js names each of them in the Sender and SDK literals.
  I.store = STORE;

})(globalThis);
