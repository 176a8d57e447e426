// 55_es5.js - the globals of legacy es5 plugins (docs/spec/ES5.md sec. 3, docs/es5.md).
// `I.installEs5()` puts them into the global scope of a plugin version that uses them - never
// into a plain middleware plugin's, which neither sees them nor pays for them. Each acts for the
// run it is called in (V8's async context). Host calls are synchronous ops (src/ext/es5/): they
// block the isolate's thread, which the engine gives one run at a time.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;
  // Built-ins from the primordials (captured before any plugin code ran).
  const ReflectConstruct = P.ReflectConstruct;
  const ProxyCtor = P.Proxy;
  const DateCtor = P.Date;
  const DateNow = P.DateNow;
  const MathFloor = P.MathFloor;
  const NumberIsSafeInteger = P.NumberIsSafeInteger;
  const ObjectEntries = P.ObjectEntries;
  const ObjectHasOwn = P.ObjectHasOwn;
  const EncodeURIComponent = P.encodeURIComponent;
  const StringPrototypeReplace = P.StringPrototypeReplace;
  const StringPrototypeToLowerCase = P.StringPrototypeToLowerCase;
  const StringPrototypeToUpperCase = P.StringPrototypeToUpperCase;
  const StringPrototypePadStart = P.StringPrototypePadStart;
  const RegExpPrototypeTest = P.RegExpPrototypeTest;
  const DateGetters = {
    yyyy: P.DatePrototypeGetFullYear,
    MM: P.DatePrototypeGetMonth,
    dd: P.DatePrototypeGetDate,
    HH: P.DatePrototypeGetHours,
    mm: P.DatePrototypeGetMinutes,
    ss: P.DatePrototypeGetSeconds,
  };

  const str = (v) => (v === undefined || v === null ? "" : P.StringCtor(v));
  const num = (v) => {
    const n = P.NumberCtor(v);
    return P.NumberIsFinite(n) ? n : 0;
  };
  const isObject = (v) => v !== null && typeof v === "object" && !P.ArrayIsArray(v);

  /** The run this call acts for; es5 globals exist only inside runs. */
  function run() {
    const id = I.currentRunId();
    if (id === 0) {
      throw new P.ErrorCtor(
        "es5 globals act for a run, and none is current (code at the top level of a helper module while it loads?); call them from the plugin body",
      );
    }
    return id;
  }

  // The run's context, fetched once per run: the isolate serves one run at a time and run ids
  // are unique, so one cached entry is always the current run's.
  let ctxRun = 0;
  let ctxCache = null;
  function ctx() {
    const id = run();
    if (id !== ctxRun) {
      ctxCache = I.runContext(id);
      ctxRun = id;
    }
    return ctxCache;
  }
  const msg = () => ctx().message;

  /** The error of an autMan global isobot does not offer (err.code ERR_ISOBOT_UNSUPPORTED). */
  function unsupportedError(name, instead) {
    const e = new P.ErrorCtor(`${name} is not supported in isobot; ${instead}`);
    e.code = "ERR_ISOBOT_UNSUPPORTED";
    return e;
  }
  const unsupported = (name, instead) => () => {
    throw unsupportedError(name, instead);
  };

  // ---- Messaging -------------------------------------------------------------------------
  /** CQ-code parameter escaping (OneBot v11). */
  const cqEscape = (s) =>
    StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(s, /&/g, "&amp;"), /\[/g, "&#91;"), /\]/g, "&#93;"), /,/g, "&#44;");

  const idOf = (v) => (isObject(v) ? str(v.message_id ?? v.messageid ?? v.id) : str(v));

  /** SDK.md sec. 9: numbers become strings; 0, '0', null, undefined mean "none". */
  const targetId = (v) => (v === undefined || v === null || v === 0 || v === "0" || v === false ? "" : P.StringCtor(v));

  function pushArgs(args) {
    const a0 = args[0];
    if (args.length === 1 && isObject(a0)) {
      return {
        kind: "text",
        im: str(a0.imType ?? a0.imtype),
        group: targetId(a0.groupCode ?? a0.groupcode ?? a0.chatID ?? a0.chatId ?? a0.chatid),
        user: targetId(a0.userID ?? a0.userId ?? a0.userid),
        title: str(a0.title),
        content: str(a0.content),
        options: isObject(a0.options) ? a0.options : null,
        timeout: null,
      };
    }
    return {
      kind: "text",
      im: str(args[0]),
      group: targetId(args[1]),
      user: targetId(args[2]),
      title: str(args[3]),
      content: str(args[4]),
      options: null,
      timeout: null,
    };
  }

  const imtypesArg = (v) => (P.ArrayIsArray(v) ? P.ArrayPrototypeJoin(P.ArrayPrototypeMap(v, str), ",") : str(v));

  /** The message text; in an event run without one, the event's data as JSON (ES5.md sec. 4). */
  function content() {
    const c = ctx();
    const text = c.message.text;
    if (text === "" && c.event !== undefined && c.event !== null) return P.JSONStringify(c.event.data ?? {});
    return text;
  }

  // ---- Storage (same buckets as middleware plugins; reads are synchronous ops already) -----
  const OTTO = "otto";
  const bucketOf = (b) => (b === undefined || b === null || b === "" ? OTTO : P.StringCtor(b));

  function bucketAll(bucket) {
    const flat = ops.op_isobot_store_all(str(bucket));
    const out = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      P.ObjectDefineProperty(out, flat[i], { value: flat[i + 1], writable: true, enumerable: true, configurable: true });
    }
    return out;
  }

  // ---- request ---------------------------------------------------------------------------
  const isRunEnded = (e) => e !== null && typeof e === "object" && e.code === "ERR_ISOBOT_RUN_ENDED";

  function parseJson(text) {
    try {
      return P.JSONParse(text);
    } catch {
      // Not JSON after all: the text, as the server sent it.
      return text;
    }
  }

  function headersObject(pairs) {
    const out = {};
    for (let i = 0; i < pairs.length; i++) {
      const k = StringPrototypeToLowerCase(pairs[i][0]);
      out[k] = ObjectHasOwn(out, k) ? `${out[k]}, ${pairs[i][1]}` : pairs[i][1];
    }
    return out;
  }

  /** `[[key, String(value)], ...]` of a plain object (anything else: none). */
  function pairsOf(v) {
    const out = [];
    if (!isObject(v)) return out;
    const entries = ObjectEntries(v);
    for (let i = 0; i < entries.length; i++) P.ArrayPrototypePush(out, [str(entries[i][0]), str(entries[i][1])]);
    return out;
  }

  /** application/x-www-form-urlencoded, as browsers encode a form. */
  function formEncode(pairs) {
    const enc = (s) => StringPrototypeReplace(EncodeURIComponent(s), /%20/g, "+");
    const parts = [];
    for (let i = 0; i < pairs.length; i++) P.ArrayPrototypePush(parts, `${enc(pairs[i][0])}=${enc(pairs[i][1])}`);
    return P.ArrayPrototypeJoin(parts, "&");
  }

  /** `request(options, callback?)`: ES5.md sec. 3; the `[fetch]` policy applies (src/ext/es5/request.rs). */
  function request(options, callback) {
    const o = isObject(options) ? options : { url: options };
    if (o.useproxy === true || str(o.proxyAddr) !== "") {
      throw unsupportedError(
        "request({useproxy, proxyAddr})",
        "isobot sends plugin requests itself under the [fetch] policy; remove the proxy options",
      );
    }
    const url = str(o.url);
    if (url === "") throw new P.TypeErrorCtor("request: options.url is missing; call request({url: 'https://...'})");
    const headers = pairsOf(o.headers);
    const hasHeader = (name) => {
      for (let i = 0; i < headers.length; i++) if (StringPrototypeToLowerCase(headers[i][0]) === name) return true;
      return false;
    };
    const setType = (type) => {
      if (!hasHeader("content-type")) P.ArrayPrototypePush(headers, ["content-type", type]);
    };
    let body = null;
    let fields = [];
    const form = pairsOf(o.formData ?? o.form);
    const files = pairsOf(o.fileData);
    if (files.length > 0) {
      fields = form;
    } else if (form.length > 0) {
      body = formEncode(form);
      setType("application/x-www-form-urlencoded");
    } else {
      const raw = o.body !== undefined && o.body !== null ? o.body : o.data;
      if (typeof raw === "string") {
        body = raw;
      } else if (raw !== undefined && raw !== null) {
        body = P.JSONStringify(raw);
        setType("application/json");
      }
    }
    const dataType = StringPrototypeToLowerCase(str(o.dataType ?? o.datatype));
    const wantJson = dataType === "json" || o.json === true;
    const method = str(o.method) !== ""
      ? StringPrototypeToUpperCase(str(o.method))
      : body !== null || files.length > 0 ? "POST" : "GET";
    const timeout = num(o.timeOut ?? o.timeout);
    const args = { url, method, headers, body, fields, files, timeout: timeout > 0 ? timeout : null, follow: dataType !== "location" };
    const cb = typeof callback === "function" ? callback : null;
    let reply;
    try {
      reply = ops.op_isobot_es5_request(run(), args);
    } catch (e) {
      // The run's end is not the callback's business: it stops the plugin.
      if (cb === null || isRunEnded(e)) throw e;
      return cb(e, null, null, null);
    }
    const value = dataType === "location"
      ? reply.location !== "" ? reply.location : reply.url
      : wantJson ? parseJson(reply.body) : reply.body;
    if (cb === null) return value;
    const header = headersObject(reply.headers);
    const response = {
      statusCode: reply.status,
      status: reply.status,
      statusText: reply.statusText,
      headers: header,
      body: value,
      url: reply.url,
    };
    return cb(null, response, header, value);
  }

  // ---- Time --------------------------------------------------------------------------------
  const TIME_TOKENS = /yyyy|MM|dd|HH|hh|mm|ss/g;
  const pad2 = (n) => StringPrototypePadStart(P.StringCtor(n), 2, "0");

  /** `timeFmt(format?, sec?, nsec?)`: yyyy MM dd HH (24 h) hh (12 h) mm ss, local time. */
  function timeFmt(format, sec, nsec) {
    const f = str(format) === "" ? "yyyy-MM-dd HH:mm:ss" : str(format);
    const ms = sec === undefined || sec === null ? DateNow() : num(sec) * 1000 + MathFloor(num(nsec) / 1e6);
    const d = new DateCtor(ms);
    return StringPrototypeReplace(f, TIME_TOKENS, (t) => {
      switch (t) {
        case "yyyy":
          return P.StringCtor(DateGetters.yyyy(d));
        case "MM":
          return pad2(DateGetters.MM(d) + 1);
        case "hh":
          return pad2(DateGetters.HH(d) % 12 === 0 ? 12 : DateGetters.HH(d) % 12);
        default:
          return pad2(DateGetters[t](d));
      }
    });
  }

  // ---- Logging -----------------------------------------------------------------------------
  const log = (level) => (...args) => {
    ops.op_isobot_log(I.currentRunId(), level, I.format(args));
  };
  // `Error(...)` called as a function logs at error level and still returns an Error, so
  // `throw Error('x')`, `new Error('x')`, `instanceof Error` and subclasses work as in JS.
  const ErrorGlobal = new ProxyCtor(P.ErrorCtor, {
    apply(target, _this, args) {
      ops.op_isobot_log(I.currentRunId(), 3, I.format(args));
      return ReflectConstruct(target, args);
    },
  });

  // ---- Group administration (OneBot actions through the run's account) ----------------------
  const numericId = (v) => {
    const s = str(v);
    const n = P.NumberCtor(s);
    return RegExpPrototypeTest(/^\d+$/, s) && NumberIsSafeInteger(n) ? n : s;
  };

  function groupAction(global, action, params) {
    const c = ctx();
    if (c.imtype !== "qq") {
      throw unsupportedError(
        `${global} in a ${c.imtype} run`,
        `it is the OneBot action ${action}, so it works in QQ group runs; use the platform's own API for ${c.imtype}`,
      );
    }
    if (c.message.chat === "") {
      throw new P.TypeErrorCtor(`${global}: this run has no group chat; use it in a plugin triggered by a group message`);
    }
    ops.op_isobot_es5_action(run(), action, P.ObjectAssign({ group_id: numericId(c.message.chat) }, params));
    return true;
  }

  // ---- call(name) --------------------------------------------------------------------------
  const host = () => ops.op_isobot_host();
  const CALLS = new P.MapCtor([
    ["name", () => () => host().name],
    ["version", () => () => host().version],
    ["uuid", () => () => ops.op_isobot_uuid()],
    ["md5", () => (s) => I.nodeBuiltin("crypto", false).createHash("md5").update(str(s)).digest("hex")],
    ["timeFormat", () => (f) => timeFmt(f)],
    ["unixTimeFormat", () => (sec, nsec, f) => timeFmt(f, sec, nsec)],
  ]);

  function callGlobal(name) {
    const make = P.MapPrototypeGet(CALLS, str(name));
    if (make === undefined) {
      throw unsupportedError(`call(${P.JSONStringify(str(name))})`, "isobot offers call() for name, version, uuid, md5, timeFormat and unixTimeFormat");
    }
    return make();
  }

  const CRON = "schedule a plugin with a //[cron: ...] header line instead";
  const REPLY = "answer with a plugin that has //[rule: ...] header lines instead";

  const G = {
    // Context and messaging.
    sendText: (text) => ops.op_isobot_es5_reply(run(), "text", str(text)),
    sendImage: (src) => ops.op_isobot_es5_reply(run(), "image", str(src)),
    sendVideo: (src) => ops.op_isobot_es5_reply(run(), "video", str(src)),
    image: (src) => `[CQ:image,file=${cqEscape(str(src))}]`,
    RecallMessage: (id) => ops.op_isobot_es5_recall(run(), idOf(id)),
    GetUserID: () => msg().user,
    GetUsername: () => msg().user_name,
    GetChatID: () => msg().chat,
    GetChatname: () => msg().chat_name,
    GetContent: content,
    GetImType: () => ctx().imtype,
    ImType: () => ctx().imtype,
    GetMessageID: () => msg().message_id,
    param: (i) => {
      const params = ctx().params;
      const n = P.NumberCtor(i);
      return n >= 1 && n <= params.length ? params[n - 1] : "";
    },
    isAdmin: () => msg().admin === true,
    input: (waitMs, recallMs, scope) =>
      ops.op_isobot_es5_input(run(), num(waitMs), scope === "group" || recallMs === "group"),
    breakIn: (text) => ops.op_isobot_es5_break_in(run(), str(text)),
    notifyMasters: (text, imtypes) => ops.op_isobot_es5_notify(run(), str(text), imtypesArg(imtypes)),
    push: (...args) => ops.op_isobot_es5_push(run(), pushArgs(args)),
    // Storage: plain strings, bucket `otto` for get/set/del.
    get: (key) => ops.op_isobot_store_get(OTTO, str(key)),
    set: (key, value) => ops.op_isobot_es5_store_set(run(), OTTO, str(key), str(value)),
    del: (key) => ops.op_isobot_es5_store_del(run(), OTTO, str(key)),
    bucketGet: (bucket, key) => ops.op_isobot_store_get(str(bucket), str(key)),
    bucketSet: (bucket, key, value) => ops.op_isobot_es5_store_set(run(), str(bucket), str(key), str(value)),
    bucketDel: (bucket, key) => ops.op_isobot_es5_store_del(run(), str(bucket), str(key)),
    bucketKeys: (bucket, value) =>
      ops.op_isobot_store_keys(bucketOf(bucket), value !== undefined && value !== null, str(value)),
    bucketAllKeys: (bucket) => ops.op_isobot_store_keys(bucketOf(bucket), false, ""),
    bucketAll: (bucket) => bucketAll(bucketOf(bucket)),
    // Network, time, modules.
    request,
    sleep: (ms) => {
      ops.op_isobot_es5_sleep(run(), num(ms));
    },
    timeFmt,
    unixTimeFmt: (sec, nsec, format) => timeFmt(format, sec, nsec),
    importJs: (name) => I.importJs(name),
    importFs: (path) => I.nodeBuiltin("fs", false).readFileSync(str(path), "utf8"),
    // Logging into the run log.
    Debug: log(0),
    Info: log(1),
    Warn: log(2),
    Error: ErrorGlobal,
    // Group administration on OneBot.
    GroupKick: (userId, reject) =>
      groupAction("GroupKick", "set_group_kick", { user_id: numericId(userId), reject_add_request: !!reject }),
    GroupBan: (userId, seconds) =>
      groupAction("GroupBan", "set_group_ban", { user_id: numericId(userId), duration: MathFloor(num(seconds)) }),
    GroupWholeBan: (enable) =>
      groupAction("GroupWholeBan", "set_group_whole_ban", { enable: enable === undefined ? true : !!enable }),
    GroupNoticeSend: (text) => groupAction("GroupNoticeSend", "_send_group_notice", { content: str(text) }),
    // autMan's helpers.
    call: callGlobal,
    cancall: (name) => P.MapPrototypeGet(CALLS, str(name)) !== undefined,
    atWaitPay: () => false,
    // autMan-specific features isobot has no counterpart for: they say so and what to do.
    waitPay: unsupported("waitPay", "isobot has no payment integration; wait for the user's confirmation with input()"),
    coffee: unsupported("coffee", "isobot has no licence codes; remove the check"),
    Delete: unsupported("Delete", "isobot keeps no user records; remove your plugin's keys with bucketDel"),
    encodeQR: unsupported("encodeQR", "make QR codes with an npm package (require('qrcode')) or a web API through request()"),
    decodeQR: unsupported("decodeQR", "decode QR codes with a web API through request()"),
    imageDownload: unsupported("imageDownload", "send the image URL with sendImage(), or download it with request() or fetch()"),
    drawList: unsupported("drawList", "render images with an npm package or a web API"),
    GetMessageByID: unsupported("GetMessageByID", "isobot keeps no message history; store what you need in a bucket"),
    EmailSet: unsupported("EmailSet", "send mail through an HTTP mail API with request()"),
    EmailSend: unsupported("EmailSend", "send mail through an HTTP mail API with request()"),
    GroupInviteIn: unsupported("GroupInviteIn", "call the WeChat framework's own API with request()"),
    spread: unsupported("spread", "isobot has no rebate-link conversion"),
    importDir: unsupported("importDir", "load each file with importJs()"),
    cron: {
      get: unsupported("cron.get", CRON),
      add: unsupported("cron.add", CRON),
      update: unsupported("cron.update", CRON),
      delete: unsupported("cron.delete", CRON),
    },
    reply: {
      get: unsupported("reply.get", REPLY),
      add: unsupported("reply.add", REPLY),
      update: unsupported("reply.update", REPLY),
      delete: unsupported("reply.delete", REPLY),
    },
  };
  const NAMES = P.ObjectKeys(G);

  /** Called by `I.install` for a plugin version that uses the globals (plugin::style). */
  I.installEs5 = () => {
    for (let i = 0; i < NAMES.length; i++) I.defineGlobal(NAMES[i], G[NAMES[i]]);
  };
  I.es5Names = NAMES;
})(globalThis);
