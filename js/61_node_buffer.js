// 61_node_buffer.js - Node's `Buffer` (a Uint8Array subclass, as in Node: slices share memory)
// with the utf8/hex/base64/base64url/latin1/binary/ascii/utf16le encodings, the integer and float
// readers/writers libraries use, and the `buffer` module. Global `Buffer` for plugins.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;
  const core = I.core;

  class FastBuffer extends P.Uint8Array {
    // Node's spelling: the three-argument constructor of Uint8Array.
    constructor(a, b, c) {
      super(a, b, c);
    }
  }

  function codeError(Ctor, code, message) {
    const e = new Ctor(message);
    I.put(e, "code", code);
    return e;
  }

  // ---- encodings ------------------------------------------------------------------------
  function normalizeEncoding(enc) {
    if (enc === undefined || enc === null || enc === "") return "utf8";
    switch (P.StringPrototypeToLowerCase(P.StringCtor(enc))) {
      case "utf8":
      case "utf-8":
        return "utf8";
      case "hex":
        return "hex";
      case "base64":
        return "base64";
      case "base64url":
        return "base64url";
      case "latin1":
      case "binary":
        return "latin1";
      case "ascii":
        return "ascii";
      case "ucs2":
      case "ucs-2":
      case "utf16le":
      case "utf-16le":
        return "utf16le";
      default:
        return undefined;
    }
  }
  function encodingOf(enc) {
    const e = normalizeEncoding(enc);
    if (e === undefined) throw codeError(P.TypeError, "ERR_UNKNOWN_ENCODING", `Unknown encoding: ${enc}`);
    return e;
  }

  const HEX = [];
  for (let i = 0; i < 256; i++) P.AnyPush(HEX, (i < 16 ? "0" : "") + P.AnyToString(i, 16));
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const B64_VALUE = P.TypedArrayPrototypeFill(new P.Int16Array(256), -1);
  for (let i = 0; i < 64; i++) {
    B64_VALUE[P.StringPrototypeCharCodeAt(B64, i)] = i;
    B64_VALUE[P.StringPrototypeCharCodeAt(B64URL, i)] = i;
  }

  function hexValue(c) {
    if (c >= 48 && c <= 57) return c - 48;
    if (c >= 97 && c <= 102) return c - 87;
    if (c >= 65 && c <= 70) return c - 55;
    return -1;
  }
  /** Pairs of hex digits up to the first invalid one, as Node does. */
  function hexToBytes(s) {
    const out = new FastBuffer(s.length >>> 1);
    let n = 0;
    for (; n < out.length; n++) {
      const hi = hexValue(P.StringPrototypeCharCodeAt(s, n * 2));
      const lo = hexValue(P.StringPrototypeCharCodeAt(s, n * 2 + 1));
      if (hi < 0 || lo < 0) break;
      out[n] = (hi << 4) | lo;
    }
    return n === out.length ? out : P.TypedArrayPrototypeSubarray(out, 0, n);
  }

  /** Forgiving base64 (both alphabets, whitespace and junk skipped, stops at '='). */
  function base64ToBytes(s) {
    const out = new FastBuffer(((s.length + 3) >>> 2) * 3);
    let acc = 0;
    let bits = 0;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = P.StringPrototypeCharCodeAt(s, i);
      if (c === 61) break; // '='
      const v = c < 256 ? B64_VALUE[c] : -1;
      if (v < 0) continue;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[n++] = (acc >> bits) & 0xff;
      }
    }
    return P.TypedArrayPrototypeSubarray(out, 0, n);
  }

  function bytesToBase64(b, url) {
    const table = url ? B64URL : B64;
    let out = "";
    let i = 0;
    for (; i + 2 < b.length; i += 3) {
      const v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
      out += table[v >> 18] + table[(v >> 12) & 63] + table[(v >> 6) & 63] + table[v & 63];
    }
    if (i < b.length) {
      const v = (b[i] << 16) | ((i + 1 < b.length ? b[i + 1] : 0) << 8);
      out += table[v >> 18] + table[(v >> 12) & 63];
      if (i + 1 < b.length) out += table[(v >> 6) & 63];
      else if (!url) out += "=";
      if (!url) out += "=";
    }
    return out;
  }

  function charCodes(b, mask) {
    let out = "";
    for (let i = 0; i < b.length; i += 8192) {
      const chunk = P.TypedArrayPrototypeSubarray(b, i, P.MathMin(i + 8192, b.length));
      out += P.FunctionPrototypeApply(P.StringFromCharCode, null, mask === 0xff ? chunk : P.AnyMap(chunk, (x) => x & mask));
    }
    return out;
  }

  function bytesOfString(s, enc) {
    switch (enc) {
      case "utf8": {
        const u = core.encode(s);
        return new FastBuffer(u.buffer, u.byteOffset, u.byteLength);
      }
      case "hex":
        return hexToBytes(s);
      case "base64":
      case "base64url":
        return base64ToBytes(s);
      case "latin1":
      case "ascii": {
        const out = new FastBuffer(s.length);
        for (let i = 0; i < s.length; i++) out[i] = P.StringPrototypeCharCodeAt(s, i) & 0xff;
        return out;
      }
      case "utf16le": {
        const out = new FastBuffer(s.length * 2);
        for (let i = 0; i < s.length; i++) {
          const c = P.StringPrototypeCharCodeAt(s, i);
          out[i * 2] = c & 0xff;
          out[i * 2 + 1] = c >> 8;
        }
        return out;
      }
    }
    return bytesOfString(s, "utf8");
  }

  function stringOfBytes(b, enc) {
    switch (enc) {
      case "utf8": {
        if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
          return "\ufeff" + core.decode(P.TypedArrayPrototypeSubarray(b, 3));
        }
        return core.decode(b);
      }
      case "hex": {
        let out = "";
        for (let i = 0; i < b.length; i++) out += HEX[b[i]];
        return out;
      }
      case "base64":
        return bytesToBase64(b, false);
      case "base64url":
        return bytesToBase64(b, true);
      case "latin1":
        return charCodes(b, 0xff);
      case "ascii":
        return charCodes(b, 0x7f);
      case "utf16le": {
        let out = "";
        for (let i = 0; i + 1 < b.length; i += 2) out += P.StringFromCharCode(b[i] | (b[i + 1] << 8));
        return out;
      }
    }
    return core.decode(b);
  }

  // ---- Buffer ---------------------------------------------------------------------------
  function Buffer(arg, encodingOrOffset, length) {
    if (typeof arg === "number") {
      if (typeof encodingOrOffset === "string") {
        throw codeError(P.TypeError, "ERR_INVALID_ARG_TYPE", 'The "string" argument must be of type string. Received type number');
      }
      return Buffer.alloc(arg);
    }
    return Buffer.from(arg, encodingOrOffset, length);
  }
  P.ObjectDefineProperty(FastBuffer.prototype, "constructor", {
    __proto__: null,
    value: Buffer,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  Buffer.prototype = FastBuffer.prototype;
  P.ObjectSetPrototypeOf(Buffer, P.Uint8Array);
  Buffer.poolSize = 8192;

  function checkSize(size) {
    if (typeof size !== "number") {
      throw codeError(P.TypeError, "ERR_INVALID_ARG_TYPE", `The "size" argument must be of type number. Received ${typeof size}`);
    }
    if (!(size >= 0 && size <= 2 ** 32)) {
      throw codeError(P.RangeError, "ERR_OUT_OF_RANGE", `The value of "size" is out of range. It must be >= 0 && <= ${2 ** 32}. Received ${size}`);
    }
  }

  Buffer.from = function from(value, encodingOrOffset, length) {
    if (typeof value === "string") return bytesOfString(value, encodingOf(encodingOrOffset));
    if (typeof value === "object" && value !== null) {
      if (core.isAnyArrayBuffer(value)) {
        const off = encodingOrOffset === undefined ? 0 : +encodingOrOffset || 0;
        const len = length === undefined ? value.byteLength - off : +length || 0;
        if (off > value.byteLength) {
          throw codeError(P.RangeError, "ERR_BUFFER_OUT_OF_BOUNDS", '"offset" is outside of buffer bounds');
        }
        return new FastBuffer(value, off, len);
      }
      if (P.ArrayBufferIsView(value)) {
        if (value instanceof P.Uint8Array) {
          const out = new FastBuffer(value.length);
          out.set(value);
          return out;
        }
        if (value instanceof P.DataView) {
          return Buffer.from(new P.Uint8Array(value.buffer, value.byteOffset, value.byteLength));
        }
        return new FastBuffer(value);
      }
      const prim = value.valueOf();
      if (prim !== undefined && prim !== null && prim !== value) return Buffer.from(prim, encodingOrOffset, length);
      if (typeof value[P.SymbolToPrimitive] === "function") {
        return Buffer.from(value[P.SymbolToPrimitive]("string"), encodingOrOffset, length);
      }
      if (typeof value.length === "number" || P.ArrayIsArray(value)) {
        const out = new FastBuffer(value.length >>> 0);
        for (let i = 0; i < out.length; i++) out[i] = value[i];
        return out;
      }
      if (value.type === "Buffer" && P.ArrayIsArray(value.data)) return Buffer.from(value.data);
    }
    throw codeError(
      P.TypeError,
      "ERR_INVALID_ARG_TYPE",
      "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received " +
        (value === null ? "null" : typeof value),
    );
  };

  Buffer.alloc = function alloc(size, fill, encoding) {
    checkSize(size);
    const b = new FastBuffer(size);
    if (fill !== undefined && fill !== 0 && size > 0) b.fill(fill, 0, b.length, encoding); // own method: Buffer.prototype.fill
    return b;
  };
  Buffer.allocUnsafe = function allocUnsafe(size) {
    checkSize(size);
    return new FastBuffer(size);
  };
  Buffer.allocUnsafeSlow = Buffer.allocUnsafe;

  Buffer.isBuffer = function isBuffer(b) {
    return b instanceof Buffer;
  };
  Buffer.isEncoding = function isEncoding(e) {
    return typeof e === "string" && e !== "" && normalizeEncoding(e) !== undefined;
  };
  Buffer.byteLength = function byteLength(s, encoding) {
    if (typeof s !== "string") {
      if (P.ArrayBufferIsView(s) || core.isAnyArrayBuffer(s)) return s.byteLength;
      throw codeError(P.TypeError, "ERR_INVALID_ARG_TYPE", 'The "string" argument must be of type string or an instance of Buffer or ArrayBuffer.');
    }
    const enc = encodingOf(encoding);
    if (enc === "utf8") return core.byteLength(s);
    if (enc === "latin1" || enc === "ascii") return s.length;
    if (enc === "utf16le") return s.length * 2;
    return bytesOfString(s, enc).length;
  };
  Buffer.compare = function compare(a, b) {
    const n = P.MathMin(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  };
  Buffer.concat = function concat(list, totalLength) {
    if (!P.ArrayIsArray(list)) {
      throw codeError(P.TypeError, "ERR_INVALID_ARG_TYPE", 'The "list" argument must be an instance of Array.');
    }
    let total = totalLength;
    if (total === undefined) {
      total = 0;
      for (const b of list) total += b.length;
    }
    const out = Buffer.alloc(total);
    let pos = 0;
    for (const b of list) {
      if (!(b instanceof P.Uint8Array)) {
        throw codeError(P.TypeError, "ERR_INVALID_ARG_TYPE", 'The "list" argument must contain only Buffer or Uint8Array instances.');
      }
      if (pos + b.length > total) {
        out.set(P.TypedArrayPrototypeSubarray(b, 0, total - pos), pos);
        pos = total;
        break;
      }
      out.set(b, pos);
      pos += b.length;
    }
    return out;
  };
  Buffer.copyBytesFrom = function copyBytesFrom(view, offset = 0, length) {
    const size = view.BYTES_PER_ELEMENT;
    const end = length === undefined ? view.length : P.MathMin(view.length, offset + length);
    const part = P.TypedArrayPrototypeSubarray(view, offset, end);
    return Buffer.from(new P.Uint8Array(part.buffer, part.byteOffset, part.length * size));
  };

  const proto = Buffer.prototype;
  function method(name, fn) {
    P.ObjectDefineProperty(proto, name, { __proto__: null, value: fn, writable: true, configurable: true, enumerable: false });
  }

  function clampRange(len, start, end) {
    let s = start === undefined ? 0 : P.MathTrunc(+start) || 0;
    let e = end === undefined ? len : P.MathTrunc(+end) || 0;
    if (s < 0) s = 0;
    if (e > len) e = len;
    return [s, e];
  }

  method("toString", function toString(encoding, start, end) {
    if (arguments.length === 0) return stringOfBytes(this, "utf8");
    const [s, e] = clampRange(this.length, start, end);
    if (e <= s) return "";
    return stringOfBytes(this.subarray(s, e), encodingOf(encoding));
  });
  method("toLocaleString", proto.toString);
  method("equals", function equals(other) {
    if (!(other instanceof P.Uint8Array)) {
      throw codeError(P.TypeError, "ERR_INVALID_ARG_TYPE", 'The "otherBuffer" argument must be an instance of Buffer or Uint8Array.');
    }
    return Buffer.compare(this, other) === 0;
  });
  method("compare", function compare(target, tStart = 0, tEnd = target.length, sStart = 0, sEnd = this.length) {
    return Buffer.compare(this.subarray(sStart, sEnd), P.TypedArrayPrototypeSubarray(target, tStart, tEnd));
  });
  method("copy", function copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
    const src = this.subarray(sourceStart, sourceEnd);
    const n = P.MathMax(0, P.MathMin(src.length, target.length - targetStart));
    target.set(P.TypedArrayPrototypeSubarray(src, 0, n), targetStart);
    return n;
  });
  method("slice", function slice(start, end) {
    return this.subarray(start, end);
  });
  method("write", function write(string, offset, length, encoding) {
    if (typeof offset === "string") {
      encoding = offset;
      offset = 0;
      length = undefined;
    } else if (typeof length === "string") {
      encoding = length;
      length = undefined;
    }
    const off = offset === undefined ? 0 : offset >>> 0;
    const bytes = bytesOfString(P.StringCtor(string), encodingOf(encoding));
    let n = P.MathMin(bytes.length, this.length - off, length === undefined ? Infinity : length >>> 0);
    if (n < 0) n = 0;
    this.set(P.TypedArrayPrototypeSubarray(bytes, 0, n), off);
    return n;
  });
  method("fill", function fill(value, offset, end, encoding) {
    if (typeof offset === "string") {
      encoding = offset;
      offset = 0;
      end = this.length;
    } else if (typeof end === "string") {
      encoding = end;
      end = this.length;
    }
    const [s, e] = clampRange(this.length, offset, end);
    if (typeof value === "number" || typeof value === "boolean") {
      P.FunctionPrototypeCall(P.Uint8ArrayPrototype.fill, this, +value & 255, s, e);
      return this;
    }
    const pattern = typeof value === "string" ? bytesOfString(value, encodingOf(encoding)) : Buffer.from(value);
    if (pattern.length === 0) {
      if (typeof value === "string" && value === "") {
        P.FunctionPrototypeCall(P.Uint8ArrayPrototype.fill, this, 0, s, e);
        return this;
      }
      throw codeError(P.TypeError, "ERR_INVALID_ARG_VALUE", "The argument 'value' is invalid.");
    }
    for (let i = s, j = 0; i < e; i++, j = (j + 1) % pattern.length) this[i] = pattern[j];
    return this;
  });

  function needle(value, encoding) {
    if (typeof value === "number") return value & 255;
    if (typeof value === "string") return bytesOfString(value, encodingOf(encoding));
    return value;
  }
  function search(hay, value, byteOffset, encoding, last) {
    if (typeof byteOffset === "string") {
      encoding = byteOffset;
      byteOffset = undefined;
    }
    const n = needle(value, encoding);
    let from = byteOffset === undefined ? (last ? hay.length : 0) : +byteOffset || 0;
    if (from < 0) from += hay.length;
    if (typeof n === "number") {
      return last ? P.FunctionPrototypeCall(P.Uint8ArrayPrototype.lastIndexOf, hay, n, from) : P.FunctionPrototypeCall(P.Uint8ArrayPrototype.indexOf, hay, n, from);
    }
    if (n.length === 0) return last ? P.MathMin(from, hay.length) : P.MathMin(P.MathMax(from, 0), hay.length);
    const step = last ? -1 : 1;
    let i = last ? P.MathMin(from, hay.length - n.length) : P.MathMax(from, 0);
    for (; last ? i >= 0 : i <= hay.length - n.length; i += step) {
      let j = 0;
      while (j < n.length && hay[i + j] === n[j]) j++;
      if (j === n.length) return i;
    }
    return -1;
  }
  method("indexOf", function indexOf(value, byteOffset, encoding) {
    return search(this, value, byteOffset, encoding, false);
  });
  method("lastIndexOf", function lastIndexOf(value, byteOffset, encoding) {
    return search(this, value, byteOffset, encoding, true);
  });
  method("includes", function includes(value, byteOffset, encoding) {
    return search(this, value, byteOffset, encoding, false) !== -1;
  });
  method("toJSON", function toJSON() {
    return { type: "Buffer", data: P.ArrayFrom(this) };
  });
  function inspectBuffer() {
    const max = 50;
    let out = "";
    for (let i = 0; i < P.MathMin(max, this.length); i++) out += (i ? " " : "") + HEX[this[i]];
    if (this.length > max) out += ` ... ${this.length - max} more byte${this.length - max > 1 ? "s" : ""}`;
    return `<Buffer${out ? " " + out : ""}>`;
  }
  method("inspect", inspectBuffer);
  method(P.SymbolFor("nodejs.util.inspect.custom"), inspectBuffer);

  function swap(size) {
    return function () {
      if (this.length % size !== 0) {
        throw codeError(P.RangeError, "ERR_INVALID_BUFFER_SIZE", `Buffer size must be a multiple of ${size * 8}-bits`);
      }
      for (let i = 0; i < this.length; i += size) {
        for (let a = i, b = i + size - 1; a < b; a++, b--) {
          const t = this[a];
          this[a] = this[b];
          this[b] = t;
        }
      }
      return this;
    };
  }
  method("swap16", swap(2));
  method("swap32", swap(4));
  method("swap64", swap(8));

  // Internal-looking slice/write helpers some libraries call directly (ws, bl, iconv-lite).
  for (const enc of ["utf8", "latin1", "ascii", "hex", "base64", "base64url", "ucs2"]) {
    const e = enc === "ucs2" ? "utf16le" : enc;
    method(enc + "Slice", function (start, end) {
      return this.toString(e, start, end);
    });
    method(enc + "Write", function (string, offset, length) {
      return this.write(string, offset, length, e);
    });
  }

  // ---- numbers --------------------------------------------------------------------------
  function view(b) {
    return new P.DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  function bounds(b, offset, size) {
    const off = offset === undefined ? 0 : offset;
    if (typeof off !== "number" || off !== P.MathFloor(off)) {
      throw codeError(P.TypeError, "ERR_INVALID_ARG_TYPE", `The "offset" argument must be of type number. Received ${off}`);
    }
    if (off < 0 || off + size > b.length) {
      throw codeError(
        P.RangeError,
        b.length - size < 0 ? "ERR_BUFFER_OUT_OF_BOUNDS" : "ERR_OUT_OF_RANGE",
        b.length - size < 0
          ? "Attempt to access memory outside buffer bounds"
          : `The value of "offset" is out of range. It must be >= 0 and <= ${b.length - size}. Received ${off}`,
      );
    }
    return off;
  }
  const NUMBERS = [
    ["UInt8", 1, "getUint8", "setUint8"],
    ["Int8", 1, "getInt8", "setInt8"],
    ["UInt16", 2, "getUint16", "setUint16"],
    ["Int16", 2, "getInt16", "setInt16"],
    ["UInt32", 4, "getUint32", "setUint32"],
    ["Int32", 4, "getInt32", "setInt32"],
    ["Float", 4, "getFloat32", "setFloat32"],
    ["Double", 8, "getFloat64", "setFloat64"],
    ["BigUInt64", 8, "getBigUint64", "setBigUint64"],
    ["BigInt64", 8, "getBigInt64", "setBigInt64"],
  ];
  for (const [name, size, get, set] of NUMBERS) {
    const ends = size === 1 ? [""] : ["LE", "BE"];
    for (const end of ends) {
      const little = end === "LE";
      const read = function (offset) {
        return view(this)[get](bounds(this, offset, size), little);
      };
      const write = function (value, offset) {
        const off = bounds(this, offset, size);
        view(this)[set](off, P.StringPrototypeStartsWith(name, "Big") ? value : +value, little);
        return off + size;
      };
      method(`read${name}${end}`, read);
      method(`write${name}${end}`, write);
      if (P.AnyIncludes(name, "UInt")) {
        method(`read${P.AnyReplace(name, "UInt", "Uint")}${end}`, read);
        method(`write${P.AnyReplace(name, "UInt", "Uint")}${end}`, write);
      }
    }
  }
  function readVar(little, signed) {
    return function (offset, byteLength) {
      const off = bounds(this, offset, byteLength);
      let v = 0;
      for (let i = 0; i < byteLength; i++) {
        v += this[off + (little ? i : byteLength - 1 - i)] * 2 ** (8 * i);
      }
      if (signed && v >= 2 ** (8 * byteLength - 1)) v -= 2 ** (8 * byteLength);
      return v;
    };
  }
  function writeVar(little) {
    return function (value, offset, byteLength) {
      const off = bounds(this, offset, byteLength);
      let v = value < 0 ? value + 2 ** (8 * byteLength) : value;
      for (let i = 0; i < byteLength; i++) {
        this[off + (little ? i : byteLength - 1 - i)] = v & 0xff;
        v = P.MathFloor(v / 256);
      }
      return off + byteLength;
    };
  }
  for (const [name, fn] of [
    ["readUIntLE", readVar(true, false)],
    ["readUIntBE", readVar(false, false)],
    ["readIntLE", readVar(true, true)],
    ["readIntBE", readVar(false, true)],
    ["writeUIntLE", writeVar(true)],
    ["writeUIntBE", writeVar(false)],
    ["writeIntLE", writeVar(true)],
    ["writeIntBE", writeVar(false)],
  ]) {
    method(name, fn);
    if (P.AnyIncludes(name, "UInt")) method(P.AnyReplace(name, "UInt", "Uint"), fn);
  }

  function isUtf8(input) {
    const b = I.bytesOf(input);
    return Buffer.from(stringOfBytes(b, "utf8")).equals(b);
  }

  P.ObjectDefineProperty(globalThis, "Buffer", {
    __proto__: null,
    value: Buffer,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  I.Buffer = Buffer;
  I.bufferEncoding = encodingOf;
  I.nodeModule("buffer", () => {
    function SlowBuffer(size) {
      return Buffer.allocUnsafe(size);
    }
    SlowBuffer.prototype = Buffer.prototype;
    return {
      Buffer,
      SlowBuffer,
      Blob: I.Blob,
      File: I.File,
      kMaxLength: 2 ** 32,
      kStringMaxLength: 2 ** 29 - 24,
      constants: { MAX_LENGTH: 2 ** 32, MAX_STRING_LENGTH: 2 ** 29 - 24 },
      INSPECT_MAX_BYTES: 50,
      atob: globalThis.atob,
      btoa: globalThis.btoa,
      isUtf8,
      isAscii: (input) => P.AnyEvery(I.bytesOf(input), (x) => x < 0x80),
      transcode: () => {
        throw I.unavailable("buffer.transcode()", "decode with toString() and encode with Buffer.from()");
      },
      resolveObjectURL: () => undefined,
    };
  });
})(globalThis);
