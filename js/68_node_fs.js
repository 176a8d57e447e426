// 68_node_fs.js - `fs` and `fs/promises`: read/write/append/exists/mkdir/readdir/stat/unlink/rm/
// rename/copyFile/access/realpath in sync, callback and promise forms, plus whole-file streams.
// Every call is a Rust op (src/ext/node.rs) that confines paths to the plugins folder and the data
// folder; relative paths start at the plugins folder (process.cwd()). Errors carry Node's `code`,
// `errno`, `syscall` and `path` (EACCES for a path outside those folders).
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;

  /** The op's error carries Node's `code`, `errno`, `syscall` and `path` (src/ext/fs.rs);
   * `path` is set to what the caller passed (a URL or Buffer path shows as given). */
  function fsError(e, path) {
    if (e !== null && typeof e === "object" && typeof e.code === "string" && e.syscall !== undefined) {
      e.path = path;
    }
    return e;
  }

  function toPath(p, name = "path") {
    if (typeof p === "string") return p;
    if (p instanceof I.globals.URL) return I.nodeBuiltin("url", false).fileURLToPath(p);
    if (p instanceof P.Uint8Array) return P.AnyToString(I.Buffer.from(p));
    const e = new P.TypeErrorCtor(
      `The "${name}" argument must be of type string or an instance of Buffer or URL. Received ${p === null ? "null" : typeof p}`,
    );
    I.put(e, "code", "ERR_INVALID_ARG_TYPE");
    throw e;
  }

  function encodingOf(options) {
    if (typeof options === "string") return options;
    if (options !== null && typeof options === "object" && options.encoding) return options.encoding;
    return undefined;
  }
  function flagOf(options, fallback) {
    return options !== null && typeof options === "object" && typeof options.flag === "string" ? options.flag : fallback;
  }

  function dataBytes(data, options) {
    if (typeof data === "string") return I.Buffer.from(data, encodingOf(options));
    if (P.ArrayBufferIsView(data)) return new P.Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const e = new P.TypeErrorCtor(
      `The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${data === null ? "null" : typeof data}`,
    );
    I.put(e, "code", "ERR_INVALID_ARG_TYPE");
    throw e;
  }

  function decoded(bytes, options) {
    const b = I.Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const enc = encodingOf(options);
    return enc === undefined || enc === "buffer" ? b : P.AnyToString(b, enc);
  }

  class Stats {
    constructor(s) {
      this.dev = s.dev;
      this.mode = s.mode;
      this.nlink = s.nlink;
      this.uid = s.uid;
      this.gid = s.gid;
      this.rdev = 0;
      this.blksize = 4096;
      this.ino = s.ino;
      this.size = s.size;
      this.blocks = P.MathCeil(s.size / 512);
      this.atimeMs = s.atime_ms;
      this.mtimeMs = s.mtime_ms;
      this.ctimeMs = s.ctime_ms;
      this.birthtimeMs = s.birthtime_ms;
      this.atime = new P.Date(s.atime_ms);
      this.mtime = new P.Date(s.mtime_ms);
      this.ctime = new P.Date(s.ctime_ms);
      this.birthtime = new P.Date(s.birthtime_ms);
      P.ObjectDefineProperty(this, "_kind", { __proto__: null, value: s.kind });
    }
    isFile() {
      return this._kind === "file";
    }
    isDirectory() {
      return this._kind === "dir";
    }
    isSymbolicLink() {
      return this._kind === "symlink";
    }
    isBlockDevice() {
      return false;
    }
    isCharacterDevice() {
      return false;
    }
    isFIFO() {
      return false;
    }
    isSocket() {
      return false;
    }
  }

  class Dirent {
    constructor(name, kind, parentPath) {
      this.name = name;
      this.parentPath = parentPath;
      this.path = parentPath;
      P.ObjectDefineProperty(this, "_kind", { __proto__: null, value: kind });
    }
  }
  for (const m of ["isFile", "isDirectory", "isSymbolicLink", "isBlockDevice", "isCharacterDevice", "isFIFO", "isSocket"]) {
    Dirent.prototype[m] = Stats.prototype[m];
  }

  /** Shapes an op result for the call that asked for it. */
  function shape(op, value, path, options) {
    switch (op) {
      case "stat":
      case "lstat":
        return new Stats(value);
      case "readdir": {
        const withTypes = options !== null && typeof options === "object" && options.withFileTypes;
        const enc = encodingOf(options);
        return P.AnyMap(value, ([name, kind]) =>
          withTypes ? new Dirent(name, kind, path) : enc === "buffer" ? I.Buffer.from(name) : name,
        );
      }
      case "mkdir":
      case "realpath":
        return value === null ? undefined : value;
      case "exists":
        return value;
      default:
        return undefined;
    }
  }

  // ---- the three forms ------------------------------------------------------------------
  function syncCall(op, path, extra, options) {
    try {
      return shape(op, ops.op_isobot_fs_sync({ op, path, ...extra }), path, options);
    } catch (e) {
      throw fsError(e, path);
    }
  }
  function asyncCall(op, path, extra, options) {
    try {
      return P.PromisePrototypeThen(
        ops.op_isobot_fs(I.currentRunId(), { op, path, ...extra }),
        (v) => shape(op, v, path, options),
        (e) => {
          throw fsError(e, path);
        },
      );
    } catch (e) {
      return P.PromiseReject(e);
    }
  }
  function readSync(path, options) {
    try {
      return decoded(ops.op_isobot_fs_read_sync(path), options);
    } catch (e) {
      throw fsError(e, path);
    }
  }
  function readAsync(path, options) {
    try {
      return P.PromisePrototypeThen(
        ops.op_isobot_fs_read(I.currentRunId(), path),
        (b) => decoded(b, options),
        (e) => {
          throw fsError(e, path);
        },
      );
    } catch (e) {
      return P.PromiseReject(e);
    }
  }
  function writeSync(path, data, options, flag) {
    try {
      ops.op_isobot_fs_write_sync(path, dataBytes(data, options), flagOf(options, flag));
    } catch (e) {
      throw fsError(e, path);
    }
  }
  function writeAsync(path, data, options, flag) {
    try {
      return P.PromisePrototypeThen(
        ops.op_isobot_fs_write(I.currentRunId(), path, dataBytes(data, options), flagOf(options, flag)),
        () => undefined,
        (e) => {
          throw fsError(e, path);
        },
      );
    } catch (e) {
      return P.PromiseReject(e);
    }
  }

  /** `fn(args..., callback)` from a promise-returning implementation. */
  function callbackForm(impl) {
    return function (...args) {
      const cb = P.AnyPop(args);
      if (typeof cb !== "function") {
        const e = new P.TypeErrorCtor('The "cb" argument must be of type function. Received ' + typeof cb);
        I.put(e, "code", "ERR_INVALID_ARG_TYPE");
        throw e;
      }
      P.PromisePrototypeThen(
        impl(...args),
        (v) => cb(null, v),
        (e) => cb(e),
      );
    };
  }

  const rmExtra = (o) => ({ recursive: !!(o && o.recursive), force: !!(o && o.force) });
  const mkdirExtra = (o) => ({ recursive: typeof o === "object" && o !== null && !!o.recursive });

  const promises = {
    readFile: (p, o) => readAsync(toPath(p), o),
    writeFile: (p, d, o) => writeAsync(toPath(p), d, o, "w"),
    appendFile: (p, d, o) => writeAsync(toPath(p), d, o, "a"),
    mkdir: (p, o) => asyncCall("mkdir", toPath(p), mkdirExtra(o)),
    readdir: (p, o) => asyncCall("readdir", toPath(p), {}, o),
    stat: (p, o) => asyncCall("stat", toPath(p), {}, o),
    lstat: (p, o) => asyncCall("lstat", toPath(p), {}, o),
    unlink: (p) => asyncCall("unlink", toPath(p), {}),
    rm: (p, o) => asyncCall("rm", toPath(p), rmExtra(o)),
    rmdir: (p, o) => asyncCall("rmdir", toPath(p), rmExtra(o)),
    rename: (a, b) => asyncCall("rename", toPath(a, "oldPath"), { to: toPath(b, "newPath") }),
    copyFile: (a, b) => asyncCall("copyfile", toPath(a, "src"), { to: toPath(b, "dest") }),
    cp: (a, b) => asyncCall("copyfile", toPath(a, "src"), { to: toPath(b, "dest") }),
    access: (p) => asyncCall("access", toPath(p), {}),
    realpath: (p) => asyncCall("realpath", toPath(p), {}),
    mkdtemp: (prefix) => {
      const dir = `${toPath(prefix, "prefix")}${P.AnySlice(P.AnyToString(P.MathRandom(), 36), 2, 8)}`;
      return P.PromisePrototypeThen(asyncCall("mkdir", dir, {}), () => dir);
    },
    constants: null,
  };

  const fs = {
    readFileSync: (p, o) => readSync(toPath(p), o),
    writeFileSync: (p, d, o) => writeSync(toPath(p), d, o, "w"),
    appendFileSync: (p, d, o) => writeSync(toPath(p), d, o, "a"),
    existsSync: (p) => {
      try {
        return ops.op_isobot_fs_sync({ op: "exists", path: toPath(p) });
      } catch {
        return false;
      }
    },
    mkdirSync: (p, o) => syncCall("mkdir", toPath(p), mkdirExtra(o)),
    readdirSync: (p, o) => syncCall("readdir", toPath(p), {}, o),
    statSync: (p, o) => {
      try {
        return syncCall("stat", toPath(p), {}, o);
      } catch (e) {
        if (o && o.throwIfNoEntry === false && e.code === "ENOENT") return undefined;
        throw e;
      }
    },
    lstatSync: (p, o) => syncCall("lstat", toPath(p), {}, o),
    unlinkSync: (p) => syncCall("unlink", toPath(p), {}),
    rmSync: (p, o) => syncCall("rm", toPath(p), rmExtra(o)),
    rmdirSync: (p, o) => syncCall("rmdir", toPath(p), rmExtra(o)),
    renameSync: (a, b) => syncCall("rename", toPath(a, "oldPath"), { to: toPath(b, "newPath") }),
    copyFileSync: (a, b) => syncCall("copyfile", toPath(a, "src"), { to: toPath(b, "dest") }),
    accessSync: (p) => syncCall("access", toPath(p), {}),
    realpathSync: (p) => syncCall("realpath", toPath(p), {}),
    mkdtempSync: (prefix) => {
      const dir = `${toPath(prefix, "prefix")}${P.AnySlice(P.AnyToString(P.MathRandom(), 36), 2, 8)}`;
      syncCall("mkdir", dir, {});
      return dir;
    },
    exists: (p, cb) => {
      P.PromisePrototypeThen(
        asyncCall("exists", toPath(p), {}),
        (v) => cb(v),
        () => cb(false),
      );
    },
    Stats,
    Dirent,
    promises,
    constants: {
      F_OK: 0,
      R_OK: 4,
      W_OK: 2,
      X_OK: 1,
      COPYFILE_EXCL: 1,
      O_RDONLY: 0,
      O_WRONLY: 1,
      O_RDWR: 2,
      O_CREAT: 64,
      O_EXCL: 128,
      O_TRUNC: 512,
      O_APPEND: 1024,
    },
  };
  fs.realpathSync.native = fs.realpathSync;
  for (const name of ["readFile", "writeFile", "appendFile", "mkdir", "readdir", "stat", "lstat", "unlink", "rm", "rmdir", "rename", "copyFile", "access", "realpath", "mkdtemp"]) {
    fs[name] = callbackForm(promises[name]);
  }
  fs.F_OK = 0;
  fs.R_OK = 4;
  fs.W_OK = 2;
  fs.X_OK = 1;
  promises.constants = fs.constants;
  const noDescriptors = (name) => () => {
    throw I.unavailable(`fs.${name}()`, "isobot's fs works on whole files; use readFile/writeFile/appendFile");
  };
  for (const name of ["open", "openSync", "close", "closeSync", "read", "readSync", "write", "writeSync", "fstat", "fstatSync", "watch", "watchFile", "unwatchFile", "symlink", "symlinkSync", "link", "linkSync", "chmod", "chmodSync", "chown", "chownSync", "utimes", "utimesSync", "truncate", "truncateSync", "opendir", "opendirSync"]) {
    fs[name] = noDescriptors(name);
  }
  for (const name of ["open", "opendir", "symlink", "chmod", "truncate", "watch"]) promises[name] = noDescriptors(name);

  /** Whole-file streams, built on the `stream` module (69_node_stream.js) on first use. */
  fs.createReadStream = (p, o) => {
    const { Readable } = I.nodeBuiltin("stream", false);
    const path = toPath(p);
    const stream = new Readable({ read() {} });
    stream.path = path;
    P.PromisePrototypeThen(
      readAsync(path, undefined),
      (b) => {
        const enc = encodingOf(o);
        stream.push(enc ? P.AnyToString(b, enc) : b);
        stream.push(null);
      },
      (e) => stream.destroy(e),
    );
    return stream;
  };
  fs.createWriteStream = (p, o) => {
    const { Writable } = I.nodeBuiltin("stream", false);
    const path = toPath(p);
    const chunks = [];
    const stream = new Writable({
      write(chunk, encoding, cb) {
        P.AnyPush(chunks, typeof chunk === "string" ? I.Buffer.from(chunk, encoding) : chunk);
        cb();
      },
      final(cb) {
        P.PromisePrototypeThen(
          writeAsync(path, I.Buffer.concat(chunks), o, "w"),
          () => cb(),
          (e) => cb(e),
        );
      },
    });
    stream.path = path;
    stream.bytesWritten = 0;
    return stream;
  };

  I.nodeModule("fs", () => fs);
  I.nodeModule("fs/promises", () => promises);
})(globalThis);
