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
      e.code = "ERR_INVALID_ARG_TYPE";
      throw e;
    }
  }

  // ---- querystring ----------------------------------------------------------------------
  function qsEscape(str) {
    return encodeURIComponent(typeof str === "string" ? str : P.StringCtor(str));
  }
  /** Percent-decoding that keeps malformed escapes as they are (Node's unescapeBuffer). */
  function qsUnescape(s, decodeSpaces) {
    try {
      return decodeURIComponent(s);
    } catch {
      const bytes = [];
      const text = decodeSpaces ? s.replace(/\+/g, " ") : s;
      for (let i = 0; i < text.length; i++) {
        const m = /^%([0-9a-fA-F]{2})/.exec(text.slice(i, i + 3));
        if (m) {
          bytes.push(P.NumberCtor.parseInt(m[1], 16));
          i += 2;
        } else {
          for (const b of I.encode(text[i])) bytes.push(b);
        }
      }
      return I.Buffer.from(bytes).toString();
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
      const spaced = x.replace(/\+/g, " ");
      if (decode !== null) {
        try {
          return decode(spaced);
        } catch {
          return qsUnescape(spaced, true);
        }
      }
      return qsUnescape(spaced, true);
    };
    let pairs = qs.split(s);
    if (maxKeys > 0) pairs = pairs.slice(0, maxKeys);
    for (const pair of pairs) {
      if (pair.length === 0) continue;
      const idx = pair.indexOf(e);
      const k = dec(idx >= 0 ? pair.slice(0, idx) : pair);
      const v = idx >= 0 ? dec(pair.slice(idx + e.length)) : "";
      const cur = obj[k];
      if (cur === undefined) obj[k] = v;
      else if (P.ArrayIsArray(cur)) cur.push(v);
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
  const SLASHED = new Set(["http", "http:", "https", "https:", "ftp", "ftp:", "gopher", "gopher:", "file", "file:", "ws", "ws:", "wss", "wss:"]);
  const HOSTLESS = new Set(["javascript", "javascript:"]);
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
    let rest = url.trim();
    // Backslashes before the query string become slashes, as browsers do.
    const q = rest.search(/[?#]/);
    rest = (q === -1 ? rest : rest.slice(0, q)).replace(/\\/g, "/") + (q === -1 ? "" : rest.slice(q));
    const proto = /^[a-z0-9.+-]+:/i.exec(rest);
    let lowerProto = "";
    if (proto) {
      lowerProto = proto[0].toLowerCase();
      this.protocol = lowerProto;
      rest = rest.slice(proto[0].length);
    }
    let slashes = false;
    if (slashesDenoteHost || proto || /^\/\/[^@/]+@[^@/]+/.test(rest)) {
      slashes = rest.startsWith("//");
      if (slashes && !(proto && HOSTLESS.has(lowerProto))) {
        rest = rest.slice(2);
        this.slashes = true;
      }
    }
    if (!HOSTLESS.has(lowerProto) && (slashes || (proto && !SLASHED.has(lowerProto)))) {
      let hostEnd = rest.search(/[/?#]/);
      const at = rest.lastIndexOf("@", hostEnd === -1 ? rest.length : hostEnd);
      if (at !== -1) {
        this.auth = qsUnescape(rest.slice(0, at), false);
        rest = rest.slice(at + 1);
      }
      hostEnd = rest.search(/[/?#;\s]/);
      if (hostEnd === -1) hostEnd = rest.length;
      let host = rest.slice(0, hostEnd);
      rest = rest.slice(hostEnd);
      const port = /:([0-9]*)$/.exec(host);
      if (port) {
        if (port[1] !== "") this.port = port[1];
        host = host.slice(0, host.length - port[0].length);
      }
      let hostname = host.toLowerCase();
      const ipv6 = hostname.startsWith("[") && hostname.endsWith("]");
      if (ipv6) hostname = hostname.slice(1, -1);
      this.hostname = hostname;
      this.host = (ipv6 ? `[${hostname}]` : hostname) + (this.port ? `:${this.port}` : "");
    }
    rest = rest.replace(/[ "'<>\\^`{|}\t\n\r]/g, (c) => AUTO_ESCAPE[c]);
    const hashIdx = rest.indexOf("#");
    if (hashIdx !== -1) {
      this.hash = rest.slice(hashIdx);
      rest = rest.slice(0, hashIdx);
    }
    const qIdx = rest.indexOf("?");
    if (qIdx !== -1) {
      this.search = rest.slice(qIdx);
      this.query = rest.slice(qIdx + 1);
      if (parseQueryString) this.query = qsParse(this.query);
      rest = rest.slice(0, qIdx);
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
    if (auth) auth = `${encodeURIComponent(auth).replace(/%3A/i, ":")}@`;
    let protocol = this.protocol || "";
    let pathname = this.pathname || "";
    let hash = this.hash || "";
    let host = "";
    let query = "";
    if (this.host) host = auth + this.host;
    else if (this.hostname) {
      host = auth + (this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname);
      if (this.port) host += `:${this.port}`;
    }
    if (this.query !== null && typeof this.query === "object") query = qsStringify(this.query);
    let search = this.search || (query && `?${query}`) || "";
    if (protocol && !protocol.endsWith(":")) protocol += ":";
    pathname = pathname.replace(/[?#]/g, (c) => (c === "#" ? "%23" : "%3F"));
    if (this.slashes || SLASHED.has(protocol)) {
      if (this.slashes || host) {
        if (pathname && pathname[0] !== "/") pathname = `/${pathname}`;
        host = `//${host}`;
      } else if (protocol.startsWith("file")) {
        host = "//";
      }
    }
    search = search.replace(/#/g, "%23");
    if (hash && hash[0] !== "#") hash = `#${hash}`;
    if (search && search[0] !== "?") search = `?${search}`;
    return protocol + host + pathname + search + hash;
  };

  Url.prototype.resolve = function resolve(relative) {
    return new globalThis.URL(relative, this.format()).href;
  };

  function urlParse(url, parseQueryString, slashesDenoteHost) {
    if (url instanceof Url) return url;
    return new Url().parse(url, parseQueryString, slashesDenoteHost);
  }

  function urlFormat(obj, options) {
    if (typeof obj === "string") return urlParse(obj).format();
    if (obj instanceof globalThis.URL) {
      const o = { auth: true, fragment: true, search: true, unicode: false, ...options };
      const u = new globalThis.URL(obj.href);
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
      e.code = "ERR_INVALID_ARG_TYPE";
      throw e;
    }
    return Url.prototype.format.call(obj);
  }

  function fileURLToPath(path) {
    const u = typeof path === "string" ? new globalThis.URL(path) : path;
    if (u.protocol !== "file:") {
      const e = new P.TypeErrorCtor("The URL must be of scheme file");
      e.code = "ERR_INVALID_URL_SCHEME";
      throw e;
    }
    if (u.hostname !== "" && u.hostname !== "localhost") {
      const e = new P.TypeErrorCtor(`File URL host must be "localhost" or empty on ${I.process.platform}`);
      e.code = "ERR_INVALID_FILE_URL_HOST";
      throw e;
    }
    if (/%2f/i.test(u.pathname)) {
      const e = new P.TypeErrorCtor("File URL path must not include encoded / characters");
      e.code = "ERR_INVALID_FILE_URL_PATH";
      throw e;
    }
    return decodeURIComponent(u.pathname);
  }

  function pathToFileURL(filepath) {
    let resolved = I.path.resolve(filepath);
    if (filepath.endsWith("/") && !resolved.endsWith("/")) resolved += "/";
    const encoded = resolved.replace(/[%\\\n\r\t#?]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
    return new globalThis.URL(`file://${encoded}`);
  }

  I.nodeModule("url", () => ({
    URL: globalThis.URL,
    URLSearchParams: globalThis.URLSearchParams,
    Url,
    parse: urlParse,
    format: urlFormat,
    resolve: (from, to) => {
      const resolved = new globalThis.URL(to, new globalThis.URL(from, "resolve://"));
      if (resolved.protocol === "resolve:") {
        const { pathname, search, hash } = resolved;
        return pathname + search + hash;
      }
      return resolved.toString();
    },
    resolveObject: (from, to) => urlParse(new globalThis.URL(to, urlParse(from).href).href),
    fileURLToPath,
    pathToFileURL,
    domainToASCII: (d) => {
      try {
        return new globalThis.URL(`http://${d}`).hostname;
      } catch {
        return "";
      }
    },
    domainToUnicode: (d) => P.StringCtor(d),
    urlToHttpOptions: (u) => ({
      protocol: u.protocol,
      hostname: u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname,
      hash: u.hash,
      search: u.search,
      pathname: u.pathname,
      path: `${u.pathname || ""}${u.search || ""}`,
      href: u.href,
      port: u.port !== "" ? P.NumberCtor(u.port) : undefined,
      auth: u.username || u.password ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined,
    }),
  }));

  // ---- string_decoder -------------------------------------------------------------------
  class StringDecoder {
    #pending = new Uint8Array(0);
    constructor(encoding) {
      this.encoding = I.bufferEncoding(encoding);
    }
    /** How many bytes at the end of `b` start an incomplete character. */
    #incomplete(b) {
      if (this.encoding === "utf8") {
        for (let back = 1; back <= Math.min(3, b.length); back++) {
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
      this.#pending = b.subarray(b.length - keep);
      return b.subarray(0, b.length - keep).toString(this.encoding);
    }
    end(buf) {
      let out = buf === undefined ? "" : this.write(buf);
      if (this.#pending.length > 0) {
        out += this.encoding === "utf8" ? "\ufffd" : I.Buffer.from(this.#pending).toString(this.encoding);
        this.#pending = new Uint8Array(0);
      }
      return out;
    }
    text(buf, offset) {
      return this.write(buf.subarray(offset));
    }
  }
  I.nodeModule("string_decoder", () => ({ StringDecoder }));
})(globalThis);
