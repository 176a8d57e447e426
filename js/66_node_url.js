// 66_node_url.js - `url` (WHATWG URL plus the legacy parse/format/resolve and file URL helpers),
// `querystring` and `string_decoder`, as Node has them.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;

  function validateString(value, name) {
    if (typeof value !== "string") {
      const e = new P.TypeErrorCtor(
        `The "${name}" argument must be of type string. Received ${value === null ? "null" : typeof value}`,
      );
      I.put(e, "code", "ERR_INVALID_ARG_TYPE");
      throw e;
    }
  }

  // ---- querystring ----------------------------------------------------------------------
  function qsEscape(str) {
    return P.encodeURIComponent(typeof str === "string" ? str : P.StringCtor(str));
  }
  /** Percent-decoding that keeps malformed escapes as they are (Node's unescapeBuffer). */
  function qsUnescape(s, decodeSpaces) {
    try {
      return P.decodeURIComponent(s);
    } catch {
      const bytes = [];
      const text = decodeSpaces ? P.AnyReplace(s, /\+/g, " ") : s;
      for (let i = 0; i < text.length; i++) {
        const m = P.RegExpPrototypeExec(/^%([0-9a-fA-F]{2})/, P.AnySlice(text, i, i + 3));
        if (m) {
          P.AnyPush(bytes, P.NumberCtor.parseInt(m[1], 16));
          i += 2;
        } else {
          for (const b of I.encode(text[i])) P.AnyPush(bytes, b);
        }
      }
      return P.AnyToString(I.Buffer.from(bytes));
    }
  }
  function primitive(v) {
    if (typeof v === "string") return v;
    if (typeof v === "number" && P.NumberIsFinite(v)) return `${v}`;
    if (typeof v === "bigint") return `${v}`;
    if (typeof v === "boolean") return v ? "true" : "false";
    return "";
  }
  function qsStringify(obj, sep = "&", eq = "=", options) {
    const encode = options && typeof options.encodeURIComponent === "function" ? options.encodeURIComponent : qsEscape;
    if (obj === null || typeof obj !== "object") return "";
    let fields = "";
    for (const k of P.ObjectKeys(obj)) {
      const v = obj[k];
      const ks = encode(primitive(k)) + eq;
      if (P.ArrayIsArray(v)) {
        if (v.length === 0) continue;
        if (fields) fields += sep;
        for (let j = 0; j < v.length; ++j) {
          if (j) fields += sep;
          fields += ks + encode(primitive(v[j]));
        }
      } else {
        if (fields) fields += sep;
        fields += ks + encode(primitive(v));
      }
    }
    return fields;
  }
  function qsParse(qs, sep, eq, options) {
    const obj = P.ObjectCreate(null);
    if (typeof qs !== "string" || qs.length === 0) return obj;
    const s = sep ? P.StringCtor(sep) : "&";
    const e = eq ? P.StringCtor(eq) : "=";
    const maxKeys = options && typeof options.maxKeys === "number" ? options.maxKeys : 1000;
    const decode = options && typeof options.decodeURIComponent === "function" ? options.decodeURIComponent : null;
    const dec = (x) => {
      const spaced = P.AnyReplace(x, /\+/g, " ");
      if (decode !== null) {
        try {
          return decode(spaced);
        } catch {
          return qsUnescape(spaced, true);
        }
      }
      return qsUnescape(spaced, true);
    };
    let pairs = P.AnySplit(qs, s);
    if (maxKeys > 0) pairs = P.AnySlice(pairs, 0, maxKeys);
    for (const pair of pairs) {
      if (pair.length === 0) continue;
      const idx = P.AnyIndexOf(pair, e);
      const k = dec(idx >= 0 ? P.AnySlice(pair, 0, idx) : pair);
      const v = idx >= 0 ? dec(P.AnySlice(pair, idx + e.length)) : "";
      const cur = obj[k];
      if (cur === undefined) obj[k] = v;
      else if (P.ArrayIsArray(cur)) P.AnyPush(cur, v);
      else obj[k] = [cur, v];
    }
    return obj;
  }
  const querystring = {
    stringify: qsStringify,
    encode: qsStringify,
    parse: qsParse,
    decode: qsParse,
    escape: qsEscape,
    unescape: (s) => qsUnescape(s, false),
    unescapeBuffer: (s) => I.Buffer.from(qsUnescape(s, false)),
  };
  I.nodeModule("querystring", () => querystring);

  // ---- url (legacy API) -----------------------------------------------------------------
  const SLASHED = new P.SafeSet(["http", "http:", "https", "https:", "ftp", "ftp:", "gopher", "gopher:", "file", "file:", "ws", "ws:", "wss", "wss:"]);
  const HOSTLESS = new P.SafeSet(["javascript", "javascript:"]);
  const AUTO_ESCAPE = { " ": "%20", '"': "%22", "'": "%27", "<": "%3C", ">": "%3E", "\\": "%5C", "^": "%5E", "`": "%60", "{": "%7B", "|": "%7C", "}": "%7D", "\t": "%09", "\n": "%0A", "\r": "%0D" };

  function Url() {
    this.protocol = null;
    this.slashes = null;
    this.auth = null;
    this.host = null;
    this.port = null;
    this.hostname = null;
    this.hash = null;
    this.search = null;
    this.query = null;
    this.pathname = null;
    this.path = null;
    this.href = null;
  }

  Url.prototype.parse = function parse(url, parseQueryString, slashesDenoteHost) {
    validateString(url, "url");
    let rest = P.StringPrototypeTrim(url);
    // Backslashes before the query string become slashes, as browsers do.
    const q = P.AnySearch(rest, /[?#]/);
    rest = P.AnyReplace((q === -1 ? rest : P.AnySlice(rest, 0, q)), /\\/g, "/") + (q === -1 ? "" : P.AnySlice(rest, q));
    const proto = P.RegExpPrototypeExec(/^[a-z0-9.+-]+:/i, rest);
    let lowerProto = "";
    if (proto) {
      lowerProto = P.StringPrototypeToLowerCase(proto[0]);
      this.protocol = lowerProto;
      rest = P.AnySlice(rest, proto[0].length);
    }
    let slashes = false;
    if (slashesDenoteHost || proto || P.AnyTest(/^\/\/[^@/]+@[^@/]+/, rest)) {
      slashes = P.StringPrototypeStartsWith(rest, "//");
      if (slashes && !(proto && HOSTLESS.has(lowerProto))) {
        rest = P.AnySlice(rest, 2);
        this.slashes = true;
      }
    }
    if (!HOSTLESS.has(lowerProto) && (slashes || (proto && !SLASHED.has(lowerProto)))) {
      let hostEnd = P.AnySearch(rest, /[/?#]/);
      const at = P.AnyLastIndexOf(rest, "@", hostEnd === -1 ? rest.length : hostEnd);
      if (at !== -1) {
        this.auth = qsUnescape(P.AnySlice(rest, 0, at), false);
        rest = P.AnySlice(rest, at + 1);
      }
      hostEnd = P.AnySearch(rest, /[/?#;\s]/);
      if (hostEnd === -1) hostEnd = rest.length;
      let host = P.AnySlice(rest, 0, hostEnd);
      rest = P.AnySlice(rest, hostEnd);
      const port = P.RegExpPrototypeExec(/:([0-9]*)$/, host);
      if (port) {
        if (port[1] !== "") this.port = port[1];
        host = P.AnySlice(host, 0, host.length - port[0].length);
      }
      let hostname = P.StringPrototypeToLowerCase(host);
      const ipv6 = P.StringPrototypeStartsWith(hostname, "[") && P.StringPrototypeEndsWith(hostname, "]");
      if (ipv6) hostname = P.AnySlice(hostname, 1, -1);
      this.hostname = hostname;
      this.host = (ipv6 ? `[${hostname}]` : hostname) + (this.port ? `:${this.port}` : "");
    }
    rest = P.AnyReplace(rest, /[ "'<>\\^`{|}\t\n\r]/g, (c) => AUTO_ESCAPE[c]);
    const hashIdx = P.AnyIndexOf(rest, "#");
    if (hashIdx !== -1) {
      this.hash = P.AnySlice(rest, hashIdx);
      rest = P.AnySlice(rest, 0, hashIdx);
    }
    const qIdx = P.AnyIndexOf(rest, "?");
    if (qIdx !== -1) {
      this.search = P.AnySlice(rest, qIdx);
      this.query = P.AnySlice(rest, qIdx + 1);
      if (parseQueryString) this.query = qsParse(this.query);
      rest = P.AnySlice(rest, 0, qIdx);
    } else if (parseQueryString) {
      this.search = "";
      this.query = P.ObjectCreate(null);
    }
    if (rest !== "") this.pathname = rest;
    if (SLASHED.has(lowerProto) && this.hostname && !this.pathname) this.pathname = "/";
    if (this.pathname || this.search) this.path = (this.pathname || "") + (this.search || "");
    this.href = this.format();
    return this;
  };

  Url.prototype.format = function format() {
    let auth = this.auth || "";
    if (auth) auth = `${P.AnyReplace(P.encodeURIComponent(auth), /%3A/i, ":")}@`;
    let protocol = this.protocol || "";
    let pathname = this.pathname || "";
    let hash = this.hash || "";
    let host = "";
    let query = "";
    if (this.host) host = auth + this.host;
    else if (this.hostname) {
      host = auth + (P.AnyIncludes(this.hostname, ":") ? `[${this.hostname}]` : this.hostname);
      if (this.port) host += `:${this.port}`;
    }
    if (this.query !== null && typeof this.query === "object") query = qsStringify(this.query);
    let search = this.search || (query && `?${query}`) || "";
    if (protocol && !P.StringPrototypeEndsWith(protocol, ":")) protocol += ":";
    pathname = P.AnyReplace(pathname, /[?#]/g, (c) => (c === "#" ? "%23" : "%3F"));
    if (this.slashes || SLASHED.has(protocol)) {
      if (this.slashes || host) {
        if (pathname && pathname[0] !== "/") pathname = `/${pathname}`;
        host = `//${host}`;
      } else if (P.StringPrototypeStartsWith(protocol, "file")) {
        host = "//";
      }
    }
    search = P.AnyReplace(search, /#/g, "%23");
    if (hash && hash[0] !== "#") hash = `#${hash}`;
    if (search && search[0] !== "?") search = `?${search}`;
    return protocol + host + pathname + search + hash;
  };

  Url.prototype.resolve = function resolve(relative) {
    return new I.globals.URL(relative, this.format()).href;
  };

  function urlParse(url, parseQueryString, slashesDenoteHost) {
    if (url instanceof Url) return url;
    return new Url().parse(url, parseQueryString, slashesDenoteHost);
  }

  function urlFormat(obj, options) {
    if (typeof obj === "string") return urlParse(obj).format();
    if (obj instanceof I.globals.URL) {
      const o = { auth: true, fragment: true, search: true, unicode: false, ...options };
      const u = new I.globals.URL(obj.href);
      if (!o.auth) {
        u.username = "";
        u.password = "";
      }
      if (!o.fragment) u.hash = "";
      if (!o.search) u.search = "";
      return u.href;
    }
    if (obj === null || typeof obj !== "object") {
      const e = new P.TypeErrorCtor('The "urlObject" argument must be one of type object or string.');
      I.put(e, "code", "ERR_INVALID_ARG_TYPE");
      throw e;
    }
    return P.FunctionPrototypeCall(Url.prototype.format, obj);
  }

  function fileURLToPath(path) {
    const u = typeof path === "string" ? new I.globals.URL(path) : path;
    if (u.protocol !== "file:") {
      const e = new P.TypeErrorCtor("The URL must be of scheme file");
      I.put(e, "code", "ERR_INVALID_URL_SCHEME");
      throw e;
    }
    if (u.hostname !== "" && u.hostname !== "localhost") {
      const e = new P.TypeErrorCtor(`File URL host must be "localhost" or empty on ${I.process.platform}`);
      I.put(e, "code", "ERR_INVALID_FILE_URL_HOST");
      throw e;
    }
    if (P.AnyTest(/%2f/i, u.pathname)) {
      const e = new P.TypeErrorCtor("File URL path must not include encoded / characters");
      I.put(e, "code", "ERR_INVALID_FILE_URL_PATH");
      throw e;
    }
    return P.decodeURIComponent(u.pathname);
  }

  function pathToFileURL(filepath) {
    let resolved = I.path.resolve(filepath);
    if (P.StringPrototypeEndsWith(filepath, "/") && !P.StringPrototypeEndsWith(resolved, "/")) resolved += "/";
    const encoded = P.AnyReplace(resolved, /[%\\\n\r\t#?]/g, (c) => `%${P.StringPrototypePadStart(P.StringPrototypeToUpperCase(P.AnyToString(P.StringPrototypeCharCodeAt(c, 0), 16)), 2, "0")}`);
    return new I.globals.URL(`file://${encoded}`);
  }

  I.nodeModule("url", () => ({
    URL: I.globals.URL,
    URLSearchParams: I.globals.URLSearchParams,
    Url,
    parse: urlParse,
    format: urlFormat,
    resolve: (from, to) => {
      const resolved = new I.globals.URL(to, new I.globals.URL(from, "resolve://"));
      if (resolved.protocol === "resolve:") {
        const { pathname, search, hash } = resolved;
        return pathname + search + hash;
      }
      return P.AnyToString(resolved);
    },
    resolveObject: (from, to) => urlParse(new I.globals.URL(to, urlParse(from).href).href),
    fileURLToPath,
    pathToFileURL,
    domainToASCII: (d) => {
      try {
        return new I.globals.URL(`http://${d}`).hostname;
      } catch {
        return "";
      }
    },
    domainToUnicode: (d) => P.StringCtor(d),
    urlToHttpOptions: (u) => ({
      protocol: u.protocol,
      hostname: P.StringPrototypeStartsWith(u.hostname, "[") ? P.AnySlice(u.hostname, 1, -1) : u.hostname,
      hash: u.hash,
      search: u.search,
      pathname: u.pathname,
      path: `${u.pathname || ""}${u.search || ""}`,
      href: u.href,
      port: u.port !== "" ? P.NumberCtor(u.port) : undefined,
      auth: u.username || u.password ? `${P.decodeURIComponent(u.username)}:${P.decodeURIComponent(u.password)}` : undefined,
    }),
  }));

  // ---- string_decoder -------------------------------------------------------------------
  class StringDecoder {
    #pending = new P.Uint8Array(0);
    constructor(encoding) {
      this.encoding = I.bufferEncoding(encoding);
    }
    /** How many bytes at the end of `b` start an incomplete character. */
    #incomplete(b) {
      if (this.encoding === "utf8") {
        for (let back = 1; back <= P.MathMin(3, b.length); back++) {
          const c = b[b.length - back];
          if ((c & 0xc0) === 0x80) continue; // continuation byte
          const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
          return need > back ? back : 0;
        }
        return 0;
      }
      if (this.encoding === "utf16le") {
        if (b.length % 2 === 1) return 1;
        if (b.length >= 2) {
          const hi = b[b.length - 1];
          if (hi >= 0xd8 && hi <= 0xdb) return 2;
        }
        return 0;
      }
      if (this.encoding === "base64" || this.encoding === "base64url") return b.length % 3;
      return 0;
    }
    write(buf) {
      if (typeof buf === "string") return buf;
      const b = I.Buffer.concat([this.#pending, I.Buffer.from(I.bytesOf(buf))]);
      const keep = this.#incomplete(b);
      this.#pending = P.TypedArrayPrototypeSubarray(b, b.length - keep);
      return P.AnyToString(P.TypedArrayPrototypeSubarray(b, 0, b.length - keep), this.encoding);
    }
    end(buf) {
      let out = buf === undefined ? "" : this.write(buf);
      if (this.#pending.length > 0) {
        out += this.encoding === "utf8" ? "\ufffd" : P.AnyToString(I.Buffer.from(this.#pending), this.encoding);
        this.#pending = new P.Uint8Array(0);
      }
      return out;
    }
    text(buf, offset) {
      return this.write(P.TypedArrayPrototypeSubarray(buf, offset));
    }
  }
  I.nodeModule("string_decoder", () => ({ StringDecoder }));
})(globalThis);
