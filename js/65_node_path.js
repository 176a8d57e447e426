// 65_node_path.js - `path` (POSIX, ported from Node's lib/path.js; relative paths resolve
// against the plugins folder, process.cwd()). `path.win32` is the same POSIX implementation.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;

  const SLASH = 47;
  const DOT = 46;

  function validateString(value, name) {
    if (typeof value !== "string") {
      const e = new P.TypeErrorCtor(
        `The "${name}" argument must be of type string. Received ${value === null ? "null" : typeof value}`,
      );
      I.put(e, "code", "ERR_INVALID_ARG_TYPE");
      throw e;
    }
  }

  // ---- path -----------------------------------------------------------------------------
  function normalizeString(path, allowAboveRoot) {
    let res = "";
    let lastSegmentLength = 0;
    let lastSlash = -1;
    let dots = 0;
    let code = 0;
    for (let i = 0; i <= path.length; ++i) {
      if (i < path.length) code = P.StringPrototypeCharCodeAt(path, i);
      else if (code === SLASH) break;
      else code = SLASH;
      if (code === SLASH) {
        if (lastSlash === i - 1 || dots === 1) {
          // noop
        } else if (dots === 2) {
          if (
            res.length < 2 ||
            lastSegmentLength !== 2 ||
            P.StringPrototypeCharCodeAt(res, res.length - 1) !== DOT ||
            P.StringPrototypeCharCodeAt(res, res.length - 2) !== DOT
          ) {
            if (res.length > 2) {
              const lastSlashIndex = P.AnyLastIndexOf(res, "/");
              if (lastSlashIndex === -1) {
                res = "";
                lastSegmentLength = 0;
              } else {
                res = P.AnySlice(res, 0, lastSlashIndex);
                lastSegmentLength = res.length - 1 - P.AnyLastIndexOf(res, "/");
              }
              lastSlash = i;
              dots = 0;
              continue;
            } else if (res.length !== 0) {
              res = "";
              lastSegmentLength = 0;
              lastSlash = i;
              dots = 0;
              continue;
            }
          }
          if (allowAboveRoot) {
            res += res.length > 0 ? "/.." : "..";
            lastSegmentLength = 2;
          }
        } else {
          if (res.length > 0) res += `/${P.AnySlice(path, lastSlash + 1, i)}`;
          else res = P.AnySlice(path, lastSlash + 1, i);
          lastSegmentLength = i - lastSlash - 1;
        }
        lastSlash = i;
        dots = 0;
      } else if (code === DOT && dots !== -1) {
        ++dots;
      } else {
        dots = -1;
      }
    }
    return res;
  }

  /** Scans `path` from the end for the last part: [startPart, startDot, end, preDotState]. */
  function scanTail(path, start) {
    let startDot = -1;
    let startPart = 0;
    let end = -1;
    let matchedSlash = true;
    let preDotState = 0;
    for (let i = path.length - 1; i >= start; --i) {
      const code = P.StringPrototypeCharCodeAt(path, i);
      if (code === SLASH) {
        if (!matchedSlash) {
          startPart = i + 1;
          break;
        }
        continue;
      }
      if (end === -1) {
        matchedSlash = false;
        end = i + 1;
      }
      if (code === DOT) {
        if (startDot === -1) startDot = i;
        else if (preDotState !== 1) preDotState = 1;
      } else if (startDot !== -1) {
        preDotState = -1;
      }
    }
    return [startPart, startDot, end, preDotState];
  }
  const noExt = (startPart, startDot, end, preDotState) =>
    startDot === -1 || preDotState === 0 || (preDotState === 1 && startDot === end - 1 && startDot === startPart + 1);

  const posix = {
    sep: "/",
    delimiter: ":",
    resolve(...args) {
      let resolvedPath = "";
      let resolvedAbsolute = false;
      for (let i = args.length - 1; i >= -1 && !resolvedAbsolute; i--) {
        const path = i >= 0 ? args[i] : I.process.cwd();
        validateString(path, `paths[${i}]`);
        if (path.length === 0) continue;
        resolvedPath = `${path}/${resolvedPath}`;
        resolvedAbsolute = P.StringPrototypeCharCodeAt(path, 0) === SLASH;
      }
      resolvedPath = normalizeString(resolvedPath, !resolvedAbsolute);
      if (resolvedAbsolute) return `/${resolvedPath}`;
      return resolvedPath.length > 0 ? resolvedPath : ".";
    },
    normalize(path) {
      validateString(path, "path");
      if (path.length === 0) return ".";
      const isAbsolute = P.StringPrototypeCharCodeAt(path, 0) === SLASH;
      const trailingSeparator = P.StringPrototypeCharCodeAt(path, path.length - 1) === SLASH;
      path = normalizeString(path, !isAbsolute);
      if (path.length === 0) {
        if (isAbsolute) return "/";
        return trailingSeparator ? "./" : ".";
      }
      if (trailingSeparator) path += "/";
      return isAbsolute ? `/${path}` : path;
    },
    isAbsolute(path) {
      validateString(path, "path");
      return path.length > 0 && P.StringPrototypeCharCodeAt(path, 0) === SLASH;
    },
    join(...args) {
      if (args.length === 0) return ".";
      let joined;
      for (const arg of args) {
        validateString(arg, "path");
        if (arg.length > 0) joined = joined === undefined ? arg : `${joined}/${arg}`;
      }
      return joined === undefined ? "." : posix.normalize(joined);
    },
    relative(from, to) {
      validateString(from, "from");
      validateString(to, "to");
      if (from === to) return "";
      from = posix.resolve(from);
      to = posix.resolve(to);
      if (from === to) return "";
      const fromStart = 1;
      const fromEnd = from.length;
      const fromLen = fromEnd - fromStart;
      const toStart = 1;
      const toLen = to.length - toStart;
      const length = fromLen < toLen ? fromLen : toLen;
      let lastCommonSep = -1;
      let i = 0;
      for (; i < length; i++) {
        const fromCode = P.StringPrototypeCharCodeAt(from, fromStart + i);
        if (fromCode !== P.StringPrototypeCharCodeAt(to, toStart + i)) break;
        else if (fromCode === SLASH) lastCommonSep = i;
      }
      if (i === length) {
        if (toLen > length) {
          if (P.StringPrototypeCharCodeAt(to, toStart + i) === SLASH) return P.AnySlice(to, toStart + i + 1);
          if (i === 0) return P.AnySlice(to, toStart + i);
        } else if (fromLen > length) {
          if (P.StringPrototypeCharCodeAt(from, fromStart + i) === SLASH) lastCommonSep = i;
          else if (i === 0) lastCommonSep = 0;
        }
      }
      let out = "";
      for (i = fromStart + lastCommonSep + 1; i <= fromEnd; ++i) {
        if (i === fromEnd || P.StringPrototypeCharCodeAt(from, i) === SLASH) out += out.length === 0 ? ".." : "/..";
      }
      return `${out}${P.AnySlice(to, toStart + lastCommonSep)}`;
    },
    toNamespacedPath(path) {
      return path;
    },
    dirname(path) {
      validateString(path, "path");
      if (path.length === 0) return ".";
      const hasRoot = P.StringPrototypeCharCodeAt(path, 0) === SLASH;
      let end = -1;
      let matchedSlash = true;
      for (let i = path.length - 1; i >= 1; --i) {
        if (P.StringPrototypeCharCodeAt(path, i) === SLASH) {
          if (!matchedSlash) {
            end = i;
            break;
          }
        } else {
          matchedSlash = false;
        }
      }
      if (end === -1) return hasRoot ? "/" : ".";
      if (hasRoot && end === 1) return "//";
      return P.AnySlice(path, 0, end);
    },
    basename(path, suffix) {
      if (suffix !== undefined) validateString(suffix, "ext");
      validateString(path, "path");
      let start = 0;
      let end = -1;
      let matchedSlash = true;
      if (suffix !== undefined && suffix.length > 0 && suffix.length <= path.length) {
        if (suffix === path) return "";
        let extIdx = suffix.length - 1;
        let firstNonSlashEnd = -1;
        for (let i = path.length - 1; i >= 0; --i) {
          const code = P.StringPrototypeCharCodeAt(path, i);
          if (code === SLASH) {
            if (!matchedSlash) {
              start = i + 1;
              break;
            }
          } else {
            if (firstNonSlashEnd === -1) {
              matchedSlash = false;
              firstNonSlashEnd = i + 1;
            }
            if (extIdx >= 0) {
              if (code === P.StringPrototypeCharCodeAt(suffix, extIdx)) {
                if (--extIdx === -1) end = i;
              } else {
                extIdx = -1;
                end = firstNonSlashEnd;
              }
            }
          }
        }
        if (start === end) end = firstNonSlashEnd;
        else if (end === -1) end = path.length;
        return P.AnySlice(path, start, end);
      }
      for (let i = path.length - 1; i >= 0; --i) {
        if (P.StringPrototypeCharCodeAt(path, i) === SLASH) {
          if (!matchedSlash) {
            start = i + 1;
            break;
          }
        } else if (end === -1) {
          matchedSlash = false;
          end = i + 1;
        }
      }
      return end === -1 ? "" : P.AnySlice(path, start, end);
    },
    extname(path) {
      validateString(path, "path");
      const [startPart, startDot, end, preDotState] = scanTail(path, 0);
      if (end === -1 || noExt(startPart, startDot, end, preDotState)) return "";
      return P.AnySlice(path, startDot, end);
    },
    format(pathObject) {
      if (pathObject === null || typeof pathObject !== "object") {
        const e = new P.TypeErrorCtor('The "pathObject" argument must be of type object');
        I.put(e, "code", "ERR_INVALID_ARG_TYPE");
        throw e;
      }
      const dir = pathObject.dir || pathObject.root;
      const ext = pathObject.ext ? `${pathObject.ext[0] === "." ? "" : "."}${pathObject.ext}` : "";
      const base = pathObject.base || `${pathObject.name || ""}${ext}`;
      if (!dir) return base;
      return dir === pathObject.root ? `${dir}${base}` : `${dir}/${base}`;
    },
    parse(path) {
      validateString(path, "path");
      const ret = { root: "", dir: "", base: "", ext: "", name: "" };
      if (path.length === 0) return ret;
      const isAbsolute = P.StringPrototypeCharCodeAt(path, 0) === SLASH;
      if (isAbsolute) ret.root = "/";
      const [startPart, startDot, end, preDotState] = scanTail(path, isAbsolute ? 1 : 0);
      if (end !== -1) {
        const start = startPart === 0 && isAbsolute ? 1 : startPart;
        if (noExt(startPart, startDot, end, preDotState)) {
          ret.base = ret.name = P.AnySlice(path, start, end);
        } else {
          ret.name = P.AnySlice(path, start, startDot);
          ret.base = P.AnySlice(path, start, end);
          ret.ext = P.AnySlice(path, startDot, end);
        }
      }
      if (startPart > 0) ret.dir = P.AnySlice(path, 0, startPart - 1);
      else if (isAbsolute) ret.dir = "/";
      return ret;
    },
    matchesGlob() {
      throw I.unavailable("path.matchesGlob()");
    },
  };
  posix.posix = posix;
  // Plugins run on a POSIX host; win32 paths are not interpreted.
  posix.win32 = posix;
  I.path = posix;
  I.nodeModule("path", () => posix);
  I.nodeModule("path/posix", () => posix);
})(globalThis);
