// 69_node_stream.js - a small `stream` module: Readable/Writable/Duplex/Transform/PassThrough as
// function constructors (old libraries call `Readable.call(this)`), push/read/pipe/pause/resume,
// async iteration, pipeline/finished (+ promises) and stream/consumers. Enough for libraries
// that define or pipe streams; no backpressure tuning and no web-stream interop.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;

  function streamError(code, message) {
    const e = new P.ErrorCtor(message);
    I.put(e, "code", code);
    return e;
  }

  function build() {
    const EventEmitter = I.EventEmitter;
    const Buffer = I.Buffer;
    const tick = I.nextTick;

    function Stream(opts) {
      P.FunctionPrototypeCall(EventEmitter, this, opts);
    }
    P.ObjectSetPrototypeOf(Stream.prototype, EventEmitter.prototype);
    P.ObjectSetPrototypeOf(Stream, EventEmitter);
    Stream.prototype.pipe = function (dest, options) {
      return P.FunctionPrototypeCall(Readable.prototype.pipe, this, dest, options);
    };

    function destroyImpl(err, cb) {
      const r = this._readableState;
      const w = this._writableState;
      if (this.destroyed) {
        if (typeof cb === "function") cb(err);
        return this;
      }
      this.destroyed = true;
      if (r) r.destroyed = true;
      if (w) w.destroyed = true;
      const done = (e) => {
        if (typeof cb === "function") cb(e);
        tick(() => {
          if (e) {
            this.errored = e;
            this.emit("error", e);
          }
          this.emit("close");
        });
      };
      if (typeof this._destroy === "function") this._destroy(err ?? null, done);
      else done(err);
      return this;
    }

    // ---- Readable -----------------------------------------------------------------------
    function Readable(options) {
      if (!(this instanceof Readable)) return new Readable(options);
      P.FunctionPrototypeCall(Stream, this, options);
      const o = options ?? {};
      this._readableState = {
        buffer: [],
        flowing: null,
        ended: false,
        endEmitted: false,
        reading: false,
        scheduled: false,
        objectMode: !!(o.objectMode || o.readableObjectMode),
        highWaterMark: o.highWaterMark ?? (o.objectMode ? 16 : 16384),
        decoder: null,
        encoding: null,
        dataEmitted: false,
        destroyed: false,
      };
      if (o.encoding) this.setEncoding(o.encoding);
      this.readable = true;
      this.destroyed = false;
      if (typeof o.read === "function") this._read = o.read;
      if (typeof o.destroy === "function") this._destroy = o.destroy;
    }
    P.ObjectSetPrototypeOf(Readable.prototype, Stream.prototype);
    P.ObjectSetPrototypeOf(Readable, Stream);
    const R = Readable.prototype;
    R._read = function () {
      throw streamError("ERR_METHOD_NOT_IMPLEMENTED", "The _read() method is not implemented");
    };
    R.push = function (chunk, encoding) {
      const s = this._readableState;
      if (chunk === null) {
        s.ended = true;
      } else if (chunk !== undefined) {
        let c = chunk;
        if (!s.objectMode && typeof c === "string") c = Buffer.from(c, encoding);
        else if (!s.objectMode && c instanceof P.Uint8Array && !Buffer.isBuffer(c)) c = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        if (s.decoder !== null && !s.objectMode) c = s.decoder.write(c);
        if (s.objectMode || c.length > 0) P.AnyPush(s.buffer, c);
      }
      schedule(this);
      return s.buffer.length < s.highWaterMark;
    };
    R.unshift = function (chunk) {
      P.AnyUnshift(this._readableState.buffer, chunk);
      schedule(this);
    };
    function schedule(stream) {
      const s = stream._readableState;
      if (s.scheduled) return;
      s.scheduled = true;
      tick(() => {
        s.scheduled = false;
        flow(stream);
      });
    }
    function flow(stream) {
      const s = stream._readableState;
      if (s.destroyed) return;
      if (s.buffer.length > 0 || s.ended) stream.emit("readable");
      while (s.flowing && s.buffer.length > 0) {
        s.dataEmitted = true;
        stream.emit("data", P.AnyShift(s.buffer));
      }
      if (s.ended && s.buffer.length === 0) {
        if (!s.endEmitted) {
          s.endEmitted = true;
          stream.readable = false;
          if (s.decoder !== null) {
            const rest = s.decoder.end();
            if (rest) stream.emit("data", rest);
          }
          stream.emit("end");
          if (!stream._writableState) tick(() => stream.emit("close"));
        }
        return;
      }
      if (s.buffer.length < s.highWaterMark && !s.reading && (s.flowing || s.buffer.length === 0)) {
        s.reading = true;
        try {
          stream._read(s.highWaterMark);
        } catch (e) {
          stream.destroy(e);
        }
        s.reading = false;
      }
    }
    R.read = function (n) {
      const s = this._readableState;
      if (s.buffer.length === 0) {
        if (!s.ended) schedule(this);
        return null;
      }
      if (s.objectMode) return P.AnyShift(s.buffer);
      const all = typeof s.buffer[0] === "string" ? P.AnyJoin(s.buffer, "") : Buffer.concat(s.buffer);
      if (n === undefined || n >= all.length) {
        s.buffer = [];
        schedule(this);
        return all;
      }
      s.buffer = [P.AnySlice(all, n)];
      return P.AnySlice(all, 0, n);
    };
    R.on = function (ev, fn) {
      const res = P.FunctionPrototypeCall(Stream.prototype.on, this, ev, fn);
      const s = this._readableState;
      if (ev === "data" && s.flowing !== false) this.resume();
      else if (ev === "readable" || ev === "end") schedule(this);
      return res;
    };
    R.addListener = R.on;
    R.resume = function () {
      this._readableState.flowing = true;
      schedule(this);
      return this;
    };
    R.pause = function () {
      this._readableState.flowing = false;
      return this;
    };
    R.isPaused = function () {
      return this._readableState.flowing === false;
    };
    R.setEncoding = function (enc) {
      const { StringDecoder } = I.nodeBuiltin("string_decoder", false);
      this._readableState.decoder = new StringDecoder(enc);
      this._readableState.encoding = this._readableState.decoder.encoding;
      return this;
    };
    R.pipe = function (dest, options) {
      const end = !options || options.end !== false;
      const onData = (chunk) => {
        if (dest.write(chunk) === false && typeof this.pause === "function") {
          this.pause();
          dest.once("drain", () => this.resume());
        }
      };
      const onEnd = () => {
        if (end) dest.end();
      };
      this.on("data", onData);
      this.once("end", onEnd);
      P.AnyPush((this._pipes ??= []), { dest, onData, onEnd });
      dest.emit("pipe", this);
      if (typeof this.resume === "function") this.resume();
      return dest;
    };
    R.unpipe = function (dest) {
      for (const p of this._pipes ?? []) {
        if (dest === undefined || p.dest === dest) {
          this.removeListener("data", p.onData);
          this.removeListener("end", p.onEnd);
          p.dest.emit("unpipe", this);
        }
      }
      this._pipes = P.AnyFilter((this._pipes ?? []), (p) => dest !== undefined && p.dest !== dest);
      return this;
    };
    R.destroy = destroyImpl;
    R.wrap = function (old) {
      old.on("data", (c) => this.push(c));
      old.on("end", () => this.push(null));
      old.on("error", (e) => this.destroy(e));
      this._read = () => {};
      return this;
    };
    R[P.SymbolAsyncIterator] = function () {
      const queue = [];
      let error = null;
      let done = false;
      let wake = null;
      const notify = () => {
        if (wake) {
          const w = wake;
          wake = null;
          w();
        }
      };
      this.on("data", (c) => {
        P.AnyPush(queue, c);
        notify();
      });
      this.once("end", () => {
        done = true;
        notify();
      });
      this.once("error", (e) => {
        error = e;
        notify();
      });
      const stream = this;
      return {
        async next() {
          for (;;) {
            if (queue.length > 0) return { value: P.AnyShift(queue), done: false };
            if (error) throw error;
            if (done) return { value: undefined, done: true };
            await new P.PromiseCtor((r) => (wake = r));
          }
        },
        async return() {
          stream.destroy();
          return { value: undefined, done: true };
        },
        [P.SymbolAsyncIterator]() {
          return this;
        },
      };
    };
    for (const [name, get] of [
      ["readableEnded", (s) => s.endEmitted],
      ["readableFlowing", (s) => s.flowing],
      ["readableLength", (s) => s.buffer.length],
      ["readableObjectMode", (s) => s.objectMode],
      ["readableEncoding", (s) => s.encoding],
      ["readableHighWaterMark", (s) => s.highWaterMark],
    ]) {
      P.ObjectDefineProperty(R, name, { __proto__: null, get() { return get(this._readableState); }, configurable: true });
    }
    Readable.from = function from(iterable, options) {
      const r = new Readable({ objectMode: true, ...options, read() {} });
      if (typeof iterable === "string" || iterable instanceof P.Uint8Array) {
        P.AnyPush(r, iterable);
        P.AnyPush(r, null);
        return r;
      }
      (async () => {
        try {
          for await (const chunk of iterable) P.AnyPush(r, chunk);
          P.AnyPush(r, null);
        } catch (e) {
          r.destroy(e);
        }
      })();
      return r;
    };

    // ---- Writable -----------------------------------------------------------------------
    function Writable(options) {
      if (!(this instanceof Writable) && !(this instanceof Duplex)) return new Writable(options);
      if (!this._readableState) P.FunctionPrototypeCall(Stream, this, options);
      const o = options ?? {};
      this._writableState = {
        queue: [],
        writing: false,
        ended: false,
        finished: false,
        objectMode: !!(o.objectMode || o.writableObjectMode),
        decodeStrings: o.decodeStrings !== false,
        highWaterMark: o.highWaterMark ?? (o.objectMode ? 16 : 16384),
        needDrain: false,
        destroyed: false,
      };
      this.writable = true;
      this.destroyed = false;
      if (typeof o.write === "function") this._write = o.write;
      if (typeof o.writev === "function") this._writev = o.writev;
      if (typeof o.final === "function") this._final = o.final;
      if (typeof o.destroy === "function") this._destroy = o.destroy;
    }
    P.ObjectSetPrototypeOf(Writable.prototype, Stream.prototype);
    P.ObjectSetPrototypeOf(Writable, Stream);
    const W = Writable.prototype;
    W._write = function (chunk, encoding, cb) {
      if (typeof this._writev === "function") this._writev([{ chunk, encoding }], cb);
      else throw streamError("ERR_METHOD_NOT_IMPLEMENTED", "The _write() method is not implemented");
    };
    function drive(stream) {
      const s = stream._writableState;
      if (s.writing || s.destroyed) return;
      const next = P.AnyShift(s.queue);
      if (next === undefined) {
        if (s.needDrain) {
          s.needDrain = false;
          stream.emit("drain");
        }
        if (s.ended && !s.finished) finish(stream);
        return;
      }
      s.writing = true;
      let sync = true;
      const done = (err) => {
        const after = () => {
          s.writing = false;
          if (typeof next.cb === "function") next.cb(err ?? null);
          if (err) {
            stream.destroy(err);
            return;
          }
          drive(stream);
        };
        if (sync) tick(after);
        else after();
      };
      try {
        stream._write(next.chunk, next.encoding, done);
      } catch (e) {
        done(e);
      }
      sync = false;
    }
    function finish(stream) {
      const s = stream._writableState;
      s.finished = true;
      const emit = (err) => {
        if (err) {
          stream.destroy(err);
          return;
        }
        stream.writable = false;
        stream.emit("finish");
        if (!stream._readableState || stream._readableState.endEmitted) tick(() => stream.emit("close"));
      };
      if (typeof stream._final === "function") stream._final((err) => tick(() => emit(err)));
      else tick(() => emit(null));
    }
    W.write = function (chunk, encoding, cb) {
      if (typeof encoding === "function") {
        cb = encoding;
        encoding = undefined;
      }
      const s = this._writableState;
      if (s.ended) {
        const err = streamError("ERR_STREAM_WRITE_AFTER_END", "write after end");
        tick(() => {
          if (typeof cb === "function") cb(err);
          this.emit("error", err);
        });
        return false;
      }
      let c = chunk;
      let enc = encoding ?? "utf8";
      if (!s.objectMode && typeof c === "string" && s.decodeStrings) {
        c = Buffer.from(c, enc);
        enc = "buffer";
      }
      P.AnyPush(s.queue, { chunk: c, encoding: enc, cb });
      drive(this);
      const ok = s.queue.length < s.highWaterMark;
      if (!ok) s.needDrain = true;
      return ok;
    };
    W.end = function (chunk, encoding, cb) {
      if (typeof chunk === "function") {
        cb = chunk;
        chunk = undefined;
      } else if (typeof encoding === "function") {
        cb = encoding;
        encoding = undefined;
      }
      if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
      const s = this._writableState;
      if (typeof cb === "function") this.once("finish", () => cb());
      if (!s.ended) {
        s.ended = true;
        drive(this);
      }
      return this;
    };
    W.cork = function () {};
    W.uncork = function () {};
    W.setDefaultEncoding = function () {
      return this;
    };
    W.destroy = destroyImpl;
    for (const [name, get] of [
      ["writableEnded", (s) => s.ended],
      ["writableFinished", (s) => s.finished],
      ["writableLength", (s) => s.queue.length],
      ["writableObjectMode", (s) => s.objectMode],
      ["writableHighWaterMark", (s) => s.highWaterMark],
      ["writableNeedDrain", (s) => s.needDrain],
    ]) {
      P.ObjectDefineProperty(W, name, { __proto__: null, get() { return get(this._writableState); }, configurable: true });
    }

    // ---- Duplex / Transform / PassThrough ----------------------------------------------
    function Duplex(options) {
      if (!(this instanceof Duplex)) return new Duplex(options);
      P.FunctionPrototypeCall(Readable, this, options);
      P.FunctionPrototypeCall(Writable, this, options);
      this.allowHalfOpen = !options || options.allowHalfOpen !== false;
    }
    P.ObjectSetPrototypeOf(Duplex.prototype, Readable.prototype);
    P.ObjectSetPrototypeOf(Duplex, Readable);
    for (const key of P.ReflectOwnKeys(W)) {
      if (key === "constructor" || key === "destroy") continue;
      if (!P.ObjectPrototypeHasOwnProperty(Duplex.prototype, key)) {
        P.ObjectDefineProperty(Duplex.prototype, key, P.ObjectGetOwnPropertyDescriptor(W, key));
      }
    }
    P.ObjectDefineProperty(Writable, P.SymbolHasInstance, {
      __proto__: null,
      value(obj) {
        if (P.FunctionPrototypeSymbolHasInstance(this, obj)) return true;
        if (this !== Writable) return false;
        return obj !== null && typeof obj === "object" && obj._writableState !== undefined && obj instanceof Duplex;
      },
    });

    function Transform(options) {
      if (!(this instanceof Transform)) return new Transform(options);
      P.FunctionPrototypeCall(Duplex, this, options);
      if (options) {
        if (typeof options.transform === "function") this._transform = options.transform;
        if (typeof options.flush === "function") this._flush = options.flush;
      }
    }
    P.ObjectSetPrototypeOf(Transform.prototype, Duplex.prototype);
    P.ObjectSetPrototypeOf(Transform, Duplex);
    Transform.prototype._transform = function () {
      throw streamError("ERR_METHOD_NOT_IMPLEMENTED", "The _transform() method is not implemented");
    };
    Transform.prototype._write = function (chunk, encoding, cb) {
      this._transform(chunk, encoding, (err, data) => {
        if (err) {
          cb(err);
          return;
        }
        if (data !== undefined && data !== null) this.push(data);
        cb();
      });
    };
    Transform.prototype._final = function (cb) {
      const end = (err, data) => {
        if (data !== undefined && data !== null) this.push(data);
        this.push(null);
        cb(err);
      };
      if (typeof this._flush === "function") this._flush(end);
      else end();
    };
    Transform.prototype._read = function () {};

    function PassThrough(options) {
      if (!(this instanceof PassThrough)) return new PassThrough(options);
      P.FunctionPrototypeCall(Transform, this, options);
    }
    P.ObjectSetPrototypeOf(PassThrough.prototype, Transform.prototype);
    P.ObjectSetPrototypeOf(PassThrough, Transform);
    PassThrough.prototype._transform = function (chunk, _enc, cb) {
      cb(null, chunk);
    };

    // ---- helpers ------------------------------------------------------------------------
    function finished(stream, options, callback) {
      const cb = typeof options === "function" ? options : callback;
      let called = false;
      const done = (err) => {
        if (called) return;
        called = true;
        cb(err ?? undefined);
      };
      const isReadable = stream._readableState !== undefined && !(stream instanceof Writable && !(stream instanceof Duplex));
      if (isReadable && !(stream instanceof Duplex)) stream.once("end", () => done());
      else if (stream._writableState) stream.once("finish", () => done());
      else stream.once("end", () => done());
      stream.once("error", (e) => done(e));
      stream.once("close", () => done());
      return () => {
        called = true;
      };
    }
    function pipeline(...streams) {
      const cb = typeof streams[streams.length - 1] === "function" ? P.AnyPop(streams) : () => {};
      const list = P.ArrayIsArray(streams[0]) ? streams[0] : streams;
      let called = false;
      const done = (err) => {
        if (called) return;
        called = true;
        if (err) for (const s of list) if (typeof s.destroy === "function") s.destroy();
        cb(err);
      };
      for (let i = 0; i < list.length - 1; i++) list[i].pipe(list[i + 1]);
      for (const s of list) s.on("error", done);
      finished(list[list.length - 1], (err) => done(err));
      return list[list.length - 1];
    }
    const promises = {
      pipeline: (...streams) =>
        new P.PromiseCtor((resolve, reject) => pipeline(...streams, (err) => (err ? reject(err) : resolve()))),
      finished: (stream, options) =>
        new P.PromiseCtor((resolve, reject) => finished(stream, options, (err) => (err ? reject(err) : resolve()))),
    };

    P.ObjectAssign(Stream, {
      Stream,
      Readable,
      Writable,
      Duplex,
      Transform,
      PassThrough,
      pipeline,
      finished,
      promises,
      addAbortSignal: (signal, stream) => {
        signal.addEventListener("abort", () => stream.destroy(signal.reason));
        return stream;
      },
      isErrored: (s) => !!s.errored,
      isDisturbed: (s) => !!(s._readableState && s._readableState.dataEmitted),
      isReadable: (s) => !!(s && s.readable && !s.destroyed),
      getDefaultHighWaterMark: (objectMode) => (objectMode ? 16 : 16384),
      setDefaultHighWaterMark: () => {},
    });
    return Stream;
  }

  async function collect(stream) {
    const chunks = [];
    for await (const c of stream) P.AnyPush(chunks, typeof c === "string" ? I.Buffer.from(c) : c);
    return I.Buffer.concat(chunks);
  }

  I.nodeModule("stream", build);
  I.nodeModule("stream/promises", () => I.nodeBuiltin("stream", false).promises);
  I.nodeModule("stream/consumers", () => ({
    buffer: collect,
    arrayBuffer: async (s) => {
      const b = await collect(s);
      return P.AnySlice(b.buffer, b.byteOffset, b.byteOffset + b.byteLength);
    },
    text: async (s) => P.AnyToString((await collect(s))),
    json: async (s) => P.JSONParse(P.AnyToString((await collect(s)))),
  }));
})(globalThis);
