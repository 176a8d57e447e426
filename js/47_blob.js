// 47_blob.js - Blob and File (whole in memory), the web types Node has as globals and that
// packages read off the `buffer` module.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;

  function bytesOfPart(p) {
    if (p instanceof Blob) return Blob._bytes(p);
    if (typeof p === "string") return I.encode(p);
    return new P.Uint8Array(I.bytesOf(p));
  }

  class Blob {
    #bytes;
    #type;
    constructor(parts = [], options = {}) {
      const chunks = [];
      let size = 0;
      for (const p of parts) {
        const b = bytesOfPart(p);
        P.AnyPush(chunks, b);
        size += b.length;
      }
      this.#bytes = new P.Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        this.#bytes.set(c, at);
        at += c.length;
      }
      this.#type = options.type === undefined ? "" : P.StringPrototypeToLowerCase(P.StringCtor(options.type));
    }
    static _bytes(blob) {
      return blob.#bytes;
    }
    get size() {
      return this.#bytes.length;
    }
    get type() {
      return this.#type;
    }
    arrayBuffer() {
      return P.PromiseResolve(P.AnySlice(this.#bytes).buffer);
    }
    bytes() {
      return P.PromiseResolve(P.AnySlice(this.#bytes));
    }
    text() {
      return P.PromiseResolve(I.decode(this.#bytes));
    }
    slice(start, end, type) {
      return new Blob([P.AnySlice(this.#bytes, start, end)], { type });
    }
    get [P.SymbolToStringTag]() {
      return "Blob";
    }
  }

  class File extends Blob {
    #name;
    #lastModified;
    constructor(parts, name, options = {}) {
      super(parts, options);
      this.#name = P.StringCtor(name);
      this.#lastModified = options.lastModified ?? P.DateNow();
    }
    get name() {
      return this.#name;
    }
    get lastModified() {
      return this.#lastModified;
    }
    get [P.SymbolToStringTag]() {
      return "File";
    }
  }

  I.Blob = Blob;
  I.File = File;
  for (const [name, value] of [["Blob", Blob], ["File", File]]) {
    P.ObjectDefineProperty(globalThis, name, { __proto__: null, value, writable: true, configurable: true, enumerable: false });
  }
})(globalThis);
