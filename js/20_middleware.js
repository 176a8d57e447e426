// 20_middleware.js - the plugin SDK (`require('./middleware.js')`), bound to one run by its id.
// Argument forms of real autMan/autClaw plugins are normalised here (SDK.md sec. 3, sec. 9); everything
// with a rule behind it (body merge, account selection, media confinement, sending) is a Rust op.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;

  const MEDIA_FIELD = {
    image: "imageUrl",
    voice: "voiceUrl",
    video: "videoUrl",
    file: "fileUrl",
  };

  /** SDK.md sec. 9: numbers become strings; 0, '0', null, undefined mean "none". */
  function id(v) {
    if (v === undefined || v === null || v === 0 || v === "0" || v === false) return "";
    return P.StringCtor(v);
  }

  function str(v) {
    return v === undefined || v === null ? "" : P.StringCtor(v);
  }

  function timeoutArg(v) {
    const n = P.NumberCtor(v);
    return v !== undefined && v !== null && P.NumberIsFinite(n) && n > 0 ? n : null;
  }

  function optionsArg(v) {
    return v !== null && typeof v === "object" && !P.ArrayIsArray(v) ? v : null;
  }

  function pushArgs(kind, args) {
    const a0 = args[0];
    if (args.length === 1 && a0 !== null && typeof a0 === "object") {
      // Object form of older scripts: push({imType, groupCode, userID, title, content}).
      const content = kind === "mixed"
        ? a0.items ?? a0.content
        : kind === "text"
        ? a0.content
        : a0[MEDIA_FIELD[kind]] ?? a0.url ?? a0.content;
      return {
        kind,
        im: str(a0.imType ?? a0.imtype),
        group: id(a0.groupCode ?? a0.groupcode),
        user: id(a0.userID ?? a0.userId ?? a0.userid),
        title: str(a0.title),
        content: kind === "mixed" ? content : str(content),
        options: optionsArg(a0.options),
        timeout: timeoutArg(a0.timeout),
      };
    }
    return {
      kind,
      im: str(args[0]),
      group: id(args[1]),
      user: id(args[2]),
      title: str(args[3]),
      content: kind === "mixed" ? args[4] : str(args[4]),
      options: optionsArg(args[5]),
      timeout: timeoutArg(args[6]),
    };
  }

  /** A receipt prints as its message id (SDK.md sec. 9), without the method showing in JSON. */
  // One descriptor for every receipt: a `__proto__: null` literal is a slow object to create.
  const RECEIPT_TO_STRING = {
    __proto__: null,
    value: function toString() {
      return P.StringCtor(this.message_id ?? "");
    },
    enumerable: false,
  };
  function receipt(r) {
    P.ObjectDefineProperty(r, "toString", RECEIPT_TO_STRING);
    return r;
  }

  // Timers (and their hold on the run) live in 40_web.js, loaded later.
  const sleep = (ms) => I.sleep(ms);

  /** The run's context, fetched once per Sender/SDK object on first use. */
  function contextOf(runId) {
    let cached = null;
    return () => (cached === null ? (cached = ops.op_isobot_ctx(runId)) : cached);
  }

  /** Ends what JS holds for a run that was cancelled (timeout): its timers. */
  I.forgetRun = (runId) => {
    if (I.clearRunTimers) I.clearRunTimers(runId);
  };

  function parseRunId(senderId) {
    const n = P.NumberCtor(senderId);
    if (!(n >= 1 && n <= 0xffffffff) || (n | 0) !== (n | 0)) {
      throw new P.TypeErrorCtor(
        `new Sender(${P.JSONStringify(senderId)}): not a sender id; pass getSenderID() from require('./middleware.js')`,
      );
    }
    return n >>> 0;
  }

  function listen(runId, waitMs, b, c) {
    const group = b === "group" || c === "group" || c === true;
    const ms = P.NumberCtor(waitMs);
    return ops.op_isobot_listen(runId, P.NumberIsFinite(ms) ? ms : 0, group);
  }

  /** The request body as data: parsed JSON, or form fields, else the query parameters. */
  function routeData(r, body) {
    const type = (r.headers ?? {})["content-type"] ?? "";
    if (body !== "" && P.StringPrototypeIncludes(type, "json")) {
      try {
        return P.JSONParse(body);
      } catch {
        return body;
      }
    }
    if (body !== "" && P.StringPrototypeIncludes(type, "x-www-form-urlencoded")) {
      return P.ObjectFromEntries([...new I.globals.URLSearchParams(body)]);
    }
    return body !== "" ? body : { ...(r.query ?? {}) };
  }

  function makeSender(runId) {
    const ctx = contextOf(runId);
    const msg = () => ctx().message;
    const route = () => ctx().route ?? {};
    // The body arrives as bytes (binary bodies stay intact); decoded as UTF-8 on first use.
    let bodyText = null;
    const routeBody = () =>
      bodyText === null ? (bodyText = I.decode(ops.op_isobot_route_body(runId))) : bodyText;
    const value = (f) => () => P.PromiseResolve(f());
    const reply = (kind) => (content, options) =>
      P.PromisePrototypeThen(
        ops.op_isobot_reply(runId, { kind, content, options: optionsArg(options) }),
        receipt,
      );
    const s = {
      getSenderID: value(() => P.StringCtor(runId)),
      getImtype: value(() => ctx().imtype),
      getUserID: value(() => msg().user),
      getUserName: value(() => msg().user_name),
      getUserAvatarUrl: value(() => msg().user_avatar),
      getChatID: value(() => msg().chat),
      getChatName: value(() => msg().chat_name),
      getGroupName: value(() => msg().chat_name),
      isAdmin: value(() => msg().admin),
      getMessage: value(() => msg().text),
      getMessageID: value(() => msg().message_id),
      param: (i) => {
        const params = ctx().params;
        const n = P.NumberCtor(i);
        return P.PromiseResolve(n >= 1 && n <= params.length ? params[n - 1] : "");
      },
      // Route context (SDK.md sec. 2): the HTTP request; '' / {} elsewhere.
      getRouterPath: value(() => route().path ?? ""),
      getRouterMethod: value(() => route().method ?? ""),
      getRouterParams: value(() => ({ ...(route().params ?? {}) })),
      getRouterQuery: value(() => ({ ...(route().query ?? {}) })),
      getRouterHeaders: value(() => ({ ...(route().headers ?? {}) })),
      getRouterCookies: value(() => ({ ...(route().cookies ?? {}) })),
      getRouterBody: value(routeBody),
      getRouterData: value(() => routeData(route(), routeBody())),
      response: (data, status) =>
        P.PromiseResolve(ops.op_isobot_respond(runId, data === undefined ? null : data, P.NumberCtor(status) || 200)),
      getPluginName: value(() => ctx().plugin.title),
      getPluginVersion: value(() => ctx().plugin.version),
      setContinue: () => P.PromiseResolve(ops.op_isobot_set_continue(runId)),
      reply: reply("text"),
      replyText: reply("text"),
      replyMarkdown: reply("markdown"),
      replyImage: reply("image"),
      replyVoice: reply("voice"),
      replyVideo: reply("video"),
      replyFile: reply("file"),
      replyMixed: reply("mixed"),
      // listen(waitMs?, recallMs?, scope?) / input(ms, recallMs, forGroup): SDK.md sec. 5, sec. 9.
      listen: (waitMs, b, c) => listen(runId, waitMs, b, c),
      input: (waitMs, b, c) => listen(runId, waitMs, b, c),
      recallMessage: (target) => {
        const mid = target !== null && typeof target === "object"
          ? str(target.message_id ?? target.messageid)
          : str(target);
        return P.PromisePrototypeThen(ops.op_isobot_recall(runId, mid), receipt);
      },
      ...I.senderMembers,
    };
    return s;
  }

  // The constructor returns the method object itself: copying ~60 closures onto `this` cost
  // more than the rest of a warm run. `new Sender(id)` and `Sender(id)` both work.
  function Sender(senderId) {
    return makeSender(parseRunId(senderId));
  }

  function makePush(runId, kind) {
    return (...args) => ops.op_isobot_push(runId, pushArgs(kind, args));
  }

  /** The object `require('./middleware.js')` returns inside run `runId`. */
  I.makeSdk = (runId) => {
    const ctx = contextOf(runId);
    const sdk = {
      Sender,
      getSenderID: () => P.StringCtor(runId),
      push: makePush(runId, "text"),
      sleep,
      notifyMasters: (text, imtypes) =>
        ops.op_isobot_notify_masters(runId, str(text), str(imtypes)),
      getPluginName: () => P.PromiseResolve(ctx().plugin.title),
      getPluginVersion: () => P.PromiseResolve(ctx().plugin.version),
      pushImage: makePush(runId, "image"),
      pushVoice: makePush(runId, "voice"),
      pushVideo: makePush(runId, "video"),
      pushFile: makePush(runId, "file"),
      pushMixed: makePush(runId, "mixed"),
      ...I.sdkMembers,
    };
    return sdk;
  };
})(globalThis);
