// 47_blob.js - Blob and File (whole in memory), the web types Node has as globals and that
// packages read off the `buffer` module.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;

  function bytesOfPart(p) {
    if (p instanceof Blob) return Blob._bytes(p);
    if (typeof p === "string") return I.encode(p);
    return new Uint8Array(I.bytesOf(p));
  }

  class Blob {
    #bytes;
    #type;
    constructor(parts = [], options = {}) {
      const chunks = [];
      let size = 0;
      for (const p of parts) {
        const b = bytesOfPart(p);
        chunks.push(b);
        size += b.length;
      }
      this.#bytes = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        this.#bytes.set(c, at);
        at += c.length;
      }
      this.#type = options.type === undefined ? "" : P.StringCtor(options.type).toLowerCase();
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
      return P.PromiseResolve(this.#bytes.slice().buffer);
    }
    bytes() {
      return P.PromiseResolve(this.#bytes.slice());
    }
    text() {
      return P.PromiseResolve(I.decode(this.#bytes));
    }
    slice(start, end, type) {
      return new Blob([this.#bytes.slice(start, end)], { type });
    }
    get [Symbol.toStringTag]() {
      return "Blob";
    }
  }

  class File extends Blob {
    #name;
    #lastModified;
    constructor(parts, name, options = {}) {
      super(parts, options);
      this.#name = P.StringCtor(name);
      this.#lastModified = options.lastModified ?? Date.now();
    }
    get name() {
      return this.#name;
    }
    get lastModified() {
      return this.#lastModified;
    }
    get [Symbol.toStringTag]() {
      return "File";
    }
  }

  I.Blob = Blob;
  I.File = File;
  for (const [name, value] of [["Blob", Blob], ["File", File]]) {
    P.ObjectDefineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
})(globalThis);
