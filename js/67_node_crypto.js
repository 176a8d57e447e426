// 67_node_crypto.js - `crypto` (createHash md5/sha1/sha256/sha384/sha512, createHmac,
// randomBytes/randomInt/randomUUID/randomFill, timingSafeEqual, webcrypto; digests are the Rust
// ops of 40_web.js), `timers` and `timers/promises`, `os` and `assert`.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;

  const HASHES = ["md5", "sha1", "sha256", "sha384", "sha512"];

  function algorithm(name, kind) {
    const a = P.AnyReplace(P.AnyReplace(P.StringPrototypeToLowerCase(P.StringCtor(name)), /^rsa-/, ""), "-", "");
    if (!P.AnyIncludes(HASHES, a)) {
      const e = new P.ErrorCtor(
        `${kind === "hmac" ? "Invalid digest" : "Digest method not supported"}: ${name} (isobot supports ${P.AnyJoin(HASHES, ", ")})`,
      );
      I.put(e, "code", "ERR_CRYPTO_INVALID_DIGEST");
      throw e;
    }
    return a;
  }

  function bytes(data, encoding) {
    if (typeof data === "string") return I.Buffer.from(data, encoding);
    if (P.ArrayBufferIsView(data) || data instanceof P.ArrayBuffer) return I.Buffer.from(I.bytesOf(data));
    const e = new P.TypeErrorCtor(
      'The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.',
    );
    I.put(e, "code", "ERR_INVALID_ARG_TYPE");
    throw e;
  }

  function finalized() {
    const e = new P.ErrorCtor("Digest already called");
    I.put(e, "code", "ERR_CRYPTO_HASH_FINALIZED");
    return e;
  }

  function output(raw, encoding) {
    const out = I.Buffer.from(raw);
    return encoding === undefined || encoding === "buffer" ? out : P.AnyToString(out, encoding);
  }

  /** Buffers `update()` input; `finish(bytes)` computes the result once, at `digest()`. */
  class Digester {
    #chunks = [];
    #done = false;
    update(data, inputEncoding) {
      if (this.#done) throw finalized();
      P.AnyPush(this.#chunks, bytes(data, inputEncoding));
      return this;
    }
    digest(encoding) {
      if (this.#done) throw finalized();
      this.#done = true;
      return output(this._finish(I.Buffer.concat(this.#chunks)), encoding);
    }
    _input() {
      if (this.#done) throw finalized();
      return I.Buffer.concat(this.#chunks);
    }
  }

  class Hash extends Digester {
    #alg;
    constructor(alg) {
      super();
      this.#alg = algorithm(alg, "hash");
    }
    _finish(data) {
      return ops.op_isobot_digest(this.#alg, data);
    }
    copy() {
      const h = new Hash(this.#alg);
      h.update(this._input());
      return h;
    }
  }

  class Hmac extends Digester {
    #alg;
    #key;
    constructor(alg, key) {
      super();
      this.#alg = algorithm(alg, "hmac");
      this.#key = bytes(key);
    }
    _finish(data) {
      return ops.op_isobot_hmac(this.#alg, this.#key, data);
    }
  }

  function randomFillSync(buf, offset = 0, size) {
    const view = new P.Uint8Array(buf.buffer ?? buf, (buf.byteOffset ?? 0) + offset);
    const n = size === undefined ? view.length : size;
    ops.op_isobot_random_fill(P.TypedArrayPrototypeSubarray(view, 0, n));
    return buf;
  }

  function randomBytes(size, callback) {
    if (typeof size !== "number" || !(size >= 0 && size <= 2 ** 31 - 1)) {
      const e = new P.RangeError(`The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ${size}`);
      I.put(e, "code", "ERR_OUT_OF_RANGE");
      throw e;
    }
    const buf = I.Buffer.alloc(size);
    ops.op_isobot_random_fill(buf);
    if (typeof callback === "function") {
      I.nextTick(callback, null, buf);
      return undefined;
    }
    return buf;
  }

  function randomInt(min, max, callback) {
    if (typeof max !== "number" || typeof max === "function") {
      callback = max;
      max = min;
      min = 0;
    }
    if (!P.NumberCtor.isSafeInteger(min) || !P.NumberCtor.isSafeInteger(max) || max <= min) {
      const e = new P.RangeError(`The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`);
      I.put(e, "code", "ERR_OUT_OF_RANGE");
      throw e;
    }
    const range = max - min;
    const limit = 2 ** 48 - (2 ** 48 % range);
    const b = new P.Uint8Array(6);
    let x;
    do {
      ops.op_isobot_random_fill(b);
      x = P.AnyReduce(b, (acc, v) => acc * 256 + v, 0);
    } while (x >= limit);
    const n = min + (x % range);
    if (typeof callback === "function") {
      I.nextTick(callback, null, n);
      return undefined;
    }
    return n;
  }

  function unsupported(name) {
    return () => {
      throw I.unavailable(
        `crypto.${name}()`,
        "isobot's crypto offers hashes, HMAC and random values; use the crypto-js package or crypto.subtle for ciphers",
      );
    };
  }

  I.nodeModule("crypto", () => {
    const webcrypto = globalThis.crypto;
    const m = {
      createHash: (alg) => new Hash(alg),
      createHmac: (alg, key) => new Hmac(alg, key),
      hash: (alg, data, outputEncoding = "hex") => new Hash(alg).update(data).digest(outputEncoding),
      Hash,
      Hmac,
      randomBytes,
      pseudoRandomBytes: randomBytes,
      randomFillSync,
      randomFill: (buf, ...rest) => {
        const cb = P.AnyPop(rest);
        randomFillSync(buf, ...rest);
        I.nextTick(cb, null, buf);
      },
      randomInt,
      randomUUID: () => webcrypto.randomUUID(),
      getRandomValues: (v) => webcrypto.getRandomValues(v),
      timingSafeEqual: (a, b) => {
        const x = I.bytesOf(a);
        const y = I.bytesOf(b);
        if (x.length !== y.length) {
          const e = new P.RangeError("Input buffers must have the same byte length");
          I.put(e, "code", "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH");
          throw e;
        }
        let diff = 0;
        for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
        return diff === 0;
      },
      getHashes: () => [...HASHES],
      getCiphers: () => [],
      getCurves: () => [],
      webcrypto,
      subtle: webcrypto.subtle,
      constants: {},
    };
    for (const name of ["createCipheriv", "createDecipheriv", "createSign", "createVerify", "pbkdf2", "pbkdf2Sync", "scrypt", "scryptSync", "generateKeyPair", "generateKeyPairSync", "publicEncrypt", "privateDecrypt", "createPublicKey", "createPrivateKey", "createSecretKey", "createECDH", "createDiffieHellman", "sign", "verify"]) {
      m[name] = unsupported(name);
    }
    return m;
  });

  // ---- timers ---------------------------------------------------------------------------
  const timers = {
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
    setImmediate: globalThis.setImmediate,
    clearImmediate: globalThis.clearImmediate,
  };
  function abortable(signal, start) {
    if (signal && signal.aborted) return P.PromiseReject(signal.reason);
    return new P.PromiseCtor((resolve, reject) => {
      const handle = start(resolve);
      if (signal) {
        signal.addEventListener("abort", () => {
          timers.clearTimeout(handle);
          reject(signal.reason);
        });
      }
    });
  }
  const timersPromises = {
    setTimeout: (ms, value, options = {}) =>
      abortable(options.signal, (resolve) => timers.setTimeout(() => resolve(value), ms)),
    setImmediate: (value, options = {}) =>
      abortable(options.signal, (resolve) => timers.setImmediate(() => resolve(value))),
    setInterval: (ms, value) => {
      let pending = 0;
      let wake = null;
      const handle = timers.setInterval(() => {
        pending++;
        if (wake) {
          const w = wake;
          wake = null;
          w();
        }
      }, ms);
      return {
        async next() {
          if (pending === 0) await new P.PromiseCtor((r) => (wake = r));
          pending--;
          return { value, done: false };
        },
        return() {
          timers.clearInterval(handle);
          return P.PromiseResolve({ value: undefined, done: true });
        },
        [P.SymbolAsyncIterator]() {
          return this;
        },
      };
    },
    scheduler: {
      wait: (ms, options) => timersPromises.setTimeout(ms, undefined, options),
      yield: () => timersPromises.setImmediate(),
    },
  };
  const PROMISIFY = P.SymbolFor("nodejs.util.promisify.custom");
  P.ObjectDefineProperty(globalThis.setTimeout, PROMISIFY, { __proto__: null, value: timersPromises.setTimeout, configurable: true });
  P.ObjectDefineProperty(globalThis.setImmediate, PROMISIFY, { __proto__: null, value: timersPromises.setImmediate, configurable: true });
  I.nodeModule("timers", () => ({ ...timers, promises: timersPromises }));
  I.nodeModule("timers/promises", () => timersPromises);

  // ---- os -------------------------------------------------------------------------------
  I.nodeModule("os", () => {
    const p = I.process;
    const home = () => p.cwd();
    return {
      EOL: "\n",
      devNull: "/dev/null",
      platform: () => p.platform,
      type: () => (p.platform === "darwin" ? "Darwin" : p.platform === "linux" ? "Linux" : p.platform),
      arch: () => p.arch,
      machine: () => p.arch,
      release: () => "",
      version: () => "",
      hostname: () => "isobot",
      homedir: home,
      tmpdir: () => ops.op_isobot_node_tmpdir() ?? home(),
      endianness: () => "LE",
      cpus: () => [{ model: "isobot", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }],
      availableParallelism: () => 1,
      loadavg: () => [0, 0, 0],
      uptime: () => p.uptime(),
      totalmem: () => 0,
      freemem: () => 0,
      networkInterfaces: () => ({}),
      userInfo: () => ({ uid: 1000, gid: 1000, username: "isobot", homedir: home(), shell: null }),
      constants: { signals: {}, errno: {}, priority: {} },
      getPriority: () => 0,
      setPriority: () => {},
    };
  });

  // ---- assert ---------------------------------------------------------------------------
  class AssertionError extends P.Error {
    constructor(options) {
      super(options.message);
      this.name = "AssertionError";
      I.put(this, "code", "ERR_ASSERTION");
      this.actual = options.actual;
      this.expected = options.expected;
      this.operator = options.operator;
      this.generatedMessage = !options.userMessage;
    }
  }
  function fail(actual, expected, message, operator, generated) {
    if (message instanceof P.Error) throw message;
    throw new AssertionError({
      message: message ?? generated,
      actual,
      expected,
      operator,
      userMessage: message !== undefined,
    });
  }
  const show = (v) => I.inspect(v);
  function matchesError(err, expected) {
    if (expected === undefined) return true;
    if (typeof expected === "function") {
      if (expected.prototype !== undefined && err instanceof expected) return true;
      if (P.ObjectPrototypeIsPrototypeOf(P.Error, expected) || expected === P.Error) return false;
      return P.FunctionPrototypeCall(expected, {}, err) === true;
    }
    if (core_isRegExp(expected)) return P.AnyTest(expected, P.StringCtor(err));
    if (typeof expected === "object" && expected !== null) {
      return P.AnyEvery(P.ObjectKeys(expected), (k) =>
        core_isRegExp(expected[k]) && typeof err[k] === "string" ? P.AnyTest(expected[k], err[k]) : I.deepEqual(err[k], expected[k], true),
      );
    }
    return false;
  }
  const core_isRegExp = (v) => I.core.isRegExp(v);

  function makeAssert(strict) {
    const eq = (a, b) => (strict ? P.ObjectIs(a, b) : a == b || (a !== a && b !== b)); // eslint-disable-line eqeqeq
    function assert(value, message) {
      if (!value) fail(value, true, message, "==", "The expression evaluated to a falsy value");
    }
    assert.ok = assert;
    assert.equal = (a, b, m) => {
      if (!eq(a, b)) fail(a, b, m, strict ? "strictEqual" : "==", `${show(a)} ${strict ? "!==" : "=="} ${show(b)}`);
    };
    assert.notEqual = (a, b, m) => {
      if (eq(a, b)) fail(a, b, m, strict ? "notStrictEqual" : "!=", `${show(a)} ${strict ? "===" : "!="} ${show(b)}`);
    };
    assert.strictEqual = (a, b, m) => {
      if (!P.ObjectIs(a, b)) fail(a, b, m, "strictEqual", `Expected values to be strictly equal:\n\n${show(a)} !== ${show(b)}\n`);
    };
    assert.notStrictEqual = (a, b, m) => {
      if (P.ObjectIs(a, b)) fail(a, b, m, "notStrictEqual", `Expected "actual" to be strictly unequal to: ${show(b)}`);
    };
    assert.deepEqual = (a, b, m) => {
      if (!I.deepEqual(a, b, strict)) fail(a, b, m, strict ? "deepStrictEqual" : "deepEqual", `Expected values to be ${strict ? "strictly" : "loosely"} deep-equal:\n\n${show(a)}\n\nshould equal\n\n${show(b)}`);
    };
    assert.notDeepEqual = (a, b, m) => {
      if (I.deepEqual(a, b, strict)) fail(a, b, m, strict ? "notDeepStrictEqual" : "notDeepEqual", `Expected "actual" not to be ${strict ? "strictly" : "loosely"} deep-equal to: ${show(b)}`);
    };
    assert.deepStrictEqual = (a, b, m) => {
      if (!I.deepEqual(a, b, true)) fail(a, b, m, "deepStrictEqual", `Expected values to be strictly deep-equal:\n\n${show(a)}\n\nshould equal\n\n${show(b)}`);
    };
    assert.notDeepStrictEqual = (a, b, m) => {
      if (I.deepEqual(a, b, true)) fail(a, b, m, "notDeepStrictEqual", `Expected "actual" not to be strictly deep-equal to: ${show(b)}`);
    };
    assert.throws = (fn, expected, message) => {
      if (typeof expected === "string") {
        message = expected;
        expected = undefined;
      }
      try {
        fn();
      } catch (e) {
        if (!matchesError(e, expected)) throw e;
        return;
      }
      fail(undefined, expected, message, "throws", "Missing expected exception.");
    };
    assert.doesNotThrow = (fn, _expected, message) => {
      try {
        fn();
      } catch (e) {
        fail(e, undefined, typeof _expected === "string" ? _expected : message, "doesNotThrow", `Got unwanted exception.\nActual message: "${e && e.message}"`);
      }
    };
    assert.rejects = async (promiseOrFn, expected, message) => {
      if (typeof expected === "string") {
        message = expected;
        expected = undefined;
      }
      try {
        await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
      } catch (e) {
        if (!matchesError(e, expected)) throw e;
        return;
      }
      fail(undefined, expected, message, "rejects", "Missing expected rejection.");
    };
    assert.doesNotReject = async (promiseOrFn, _expected, message) => {
      try {
        await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
      } catch (e) {
        fail(e, undefined, message, "doesNotReject", `Got unwanted rejection.\nActual message: "${e && e.message}"`);
      }
    };
    assert.fail = (message = "Failed") => fail(undefined, undefined, message, "fail", "Failed");
    assert.match = (s, re, m) => {
      if (!P.AnyTest(re, s)) fail(s, re, m, "match", `The input did not match the regular expression ${re}. Input:\n\n${show(s)}\n`);
    };
    assert.doesNotMatch = (s, re, m) => {
      if (P.AnyTest(re, s)) fail(s, re, m, "doesNotMatch", `The input was expected to not match the regular expression ${re}. Input:\n\n${show(s)}\n`);
    };
    assert.ifError = (v) => {
      if (v !== null && v !== undefined) throw v;
    };
    assert.AssertionError = AssertionError;
    return assert;
  }
  I.nodeModule("assert", () => {
    const loose = makeAssert(false);
    loose.strict = makeAssert(true);
    loose.strict.strict = loose.strict;
    return loose;
  });
  I.nodeModule("assert/strict", () => I.nodeBuiltin("assert", false).strict);
})(globalThis);
