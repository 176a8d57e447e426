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

  /**
   * The run's context as an object with one shape for every run (fast to read). The op hands
   * over a flat array (src/ext/run.rs, op_isobot_ctx, documents the order); absent optional
   * parts are undefined.
   */
  I.runContext = (runId) => {
    const a = ops.op_isobot_ctx(runId);
    return {
      imtype: a[0],
      kind: a[1],
      message: {
        user: a[2],
        user_name: a[3],
        user_avatar: a[4],
        chat: a[5],
        chat_name: a[6],
        admin: a[7],
        text: a[8],
        message_id: a[9],
        mentions: a[13],
        mentions_me: a[14],
        reply_to: a[15],
        media: a[16],
      },
      params: a[10],
      route: a[11],
      event: a[12],
      plugin: { title: a[17], version: a[18] },
    };
  };

  /** The run's context, fetched once per Sender/SDK object on first use. */
  function contextOf(runId) {
    let cached = null;
    return () => (cached === null ? (cached = I.runContext(runId)) : cached);
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

  /**
   * `getRouterBody()` as autClaw: the body parsed - JSON (whatever the content type says, as
   * clients often send JSON as a form), else form fields, else the text; `{}` without a body.
   * `getRouterData()` is the raw text.
   */
  function routeBodyParsed(r, body) {
    if (body === "") return {};
    try {
      return P.JSONParse(body);
    } catch {
      // not JSON
    }
    const type = (r.headers ?? {})["content-type"] ?? "";
    if (P.StringPrototypeIncludes(type, "x-www-form-urlencoded")) {
      return P.ObjectFromEntries([...new I.globals.URLSearchParams(body)]);
    }
    return body;
  }

  /**
   * Text is expected here: a Promise - passed, or turned into "[object Promise]" by `+` or a
   * template - is almost always a forgotten `await` (`reply('hi ' + s.getUserName())` sends
   * "hi [object Promise]"). The send goes ahead as written; the run log says why it looks odd.
   */
  function warnPromise(runId, fn, what, v) {
    let why = null;
    if (v instanceof P.PromiseCtor || (v !== null && typeof v === "object" && typeof v.then === "function")) {
      why = `the ${what} is a Promise, not text`;
    } else if (typeof v === "string" && P.StringPrototypeIncludes(v, "[object Promise]")) {
      why = `the ${what} contains "[object Promise]", a Promise turned into text`;
    }
    if (why !== null) {
      ops.op_isobot_log(runId, 2, `${fn}(): ${why}; is an \`await\` missing? (e.g. \`await s.getUserName()\`)`);
    }
  }

  // Every member is an own property and a closure over the run (a plugin may call it detached:
  // `const { reply } = s`), so per run they are made as cheaply as possible: one closure per
  // member (a getter reads the cached context itself), and the shared functions (store,
  // autClaw) named in the literal - a spread (CopyDataProperties) cost more than the literal.
  function makeSender(runId) {
    const ctx = contextOf(runId);
    const A = I.autclaw;
    const S = I.store;
    // The body arrives as bytes (binary bodies stay intact); decoded as UTF-8 on first use.
    let bodyText = null;
    const routeBody = () =>
      bodyText === null ? (bodyText = I.decode(ops.op_isobot_route_body(runId))) : bodyText;
    const reply = (kind, fn) => (content, options) => {
      warnPromise(runId, fn, "content", content);
      return P.PromisePrototypeThen(
        ops.op_isobot_reply(runId, { kind, content, options: optionsArg(options) }),
        receipt,
      );
    };
    const s = {
      getSenderID: () => P.PromiseResolve(P.StringCtor(runId)),
      getImtype: () => P.PromiseResolve(ctx().imtype),
      getUserID: () => P.PromiseResolve(ctx().message.user),
      getUserName: () => P.PromiseResolve(ctx().message.user_name),
      getUserAvatarUrl: () => P.PromiseResolve(ctx().message.user_avatar),
      getChatID: () => P.PromiseResolve(ctx().message.chat),
      getChatName: () => P.PromiseResolve(ctx().message.chat_name),
      getGroupName: () => P.PromiseResolve(ctx().message.chat_name),
      isAdmin: () => P.PromiseResolve(ctx().message.admin),
      getMessage: () => P.PromiseResolve(ctx().message.text),
      getMessageID: () => P.PromiseResolve(ctx().message.message_id),
      param: (i) => {
        const params = ctx().params;
        const n = P.NumberCtor(i);
        return P.PromiseResolve(n >= 1 && n <= params.length ? params[n - 1] : "");
      },
      // Route context (SDK.md sec. 2): the HTTP request; '' / {} elsewhere.
      getRouterPath: () => P.PromiseResolve((ctx().route ?? {}).path ?? ""),
      getRouterMethod: () => P.PromiseResolve((ctx().route ?? {}).method ?? ""),
      getRouterParams: () => P.PromiseResolve({ ...((ctx().route ?? {}).params ?? {}) }),
      getRouterQuery: () => P.PromiseResolve({ ...((ctx().route ?? {}).query ?? {}) }),
      getRouterHeaders: () => P.PromiseResolve({ ...((ctx().route ?? {}).headers ?? {}) }),
      getRouterCookies: () => P.PromiseResolve({ ...((ctx().route ?? {}).cookies ?? {}) }),
      getRouterBody: () => P.PromiseResolve(routeBodyParsed(ctx().route ?? {}, routeBody())),
      getRouterData: () => P.PromiseResolve(routeBody()),
      response: (data, status) =>
        P.PromiseResolve(ops.op_isobot_respond(runId, data === undefined ? null : data, P.NumberCtor(status) || 200)),
      getPluginName: () => P.PromiseResolve(ctx().plugin.title),
      getPluginVersion: () => P.PromiseResolve(ctx().plugin.version),
      setContinue: () => P.PromiseResolve(ops.op_isobot_set_continue(runId)),
      reply: reply("text", "reply"),
      replyText: reply("text", "replyText"),
      replyMarkdown: reply("markdown", "replyMarkdown"),
      replyImage: reply("image", "replyImage"),
      replyVoice: reply("voice", "replyVoice"),
      replyVideo: reply("video", "replyVideo"),
      replyFile: reply("file", "replyFile"),
      replyMixed: reply("mixed", "replyMixed"),
      // Re-injects a message from this user and chat into dispatch (src/ext/inbox.rs).
      breakIn: (text) => {
        warnPromise(runId, "breakIn", "text", text);
        return ops.op_isobot_break_in(runId, str(text));
      },
      // The rest of autClaw's Sender (js/25_autclaw.js). In the literal: a property assigned
      // afterwards costs more per run than this whole literal.
      getRouter: () => s.getRouterPath(),
      getMethod: () => s.getRouterMethod(),
      getEventType: () => A.getEventType(ctx),
      getEventData: () => A.getEventData(ctx),
      getMediaItems: () => A.getMediaItems(ctx),
      // Mentions, quotes and protocol actions (docs/adapters.md).
      getAtList: () => P.PromiseResolve(P.ArrayPrototypeSlice(ctx().message.mentions ?? [])),
      isAtMe: () => P.PromiseResolve(ctx().message.mentions_me === true),
      getReplyID: () => P.PromiseResolve(ctx().message.reply_to ?? ""),
      callAction: (name, params, options) => callAction(runId, name, params, options),
      answerRequest: (approve, note) => answerRequest(runId, ctx, approve, note),
      answerCallbackQuery: (text, options) => answerCallbackQuery(runId, ctx, text, options),
      returnValue: (value) => A.returnValue(s, runId, ctx, value),
      isAI: A.isAI,
      getAIParam: A.getAIParam,
      atWaitPay: A.atWaitPay,
      waitPay: A.waitPay,
      getHistoryMessageIDs: A.getHistoryMessageIDs,
      groupKick: A.groupKick,
      groupBan: A.groupBan,
      getGroupMemberList: A.getGroupMemberList,
      // listen(waitMs?, recallMs?, scope?) / input(ms, recallMs, forGroup): SDK.md sec. 5, sec. 9.
      listen: (waitMs, b, c) => listen(runId, waitMs, b, c),
      input: (waitMs, b, c) => listen(runId, waitMs, b, c),
      recallMessage: (target) => {
        const mid = target !== null && typeof target === "object"
          ? str(target.message_id ?? target.messageid)
          : str(target);
        return P.PromisePrototypeThen(ops.op_isobot_recall(runId, mid), receipt);
      },
      // Storage (js/30_store.js): the same functions on every Sender and SDK object.
      get: S.get,
      set: S.set,
      del: S.del,
      bucketGet: S.bucketGet,
      bucketSet: S.bucketSet,
      bucketDel: S.bucketDel,
      bucketKeys: S.bucketKeys,
      bucketAllKeys: S.bucketAllKeys,
      bucketAll: S.bucketAll,
    };
    return s;
  }

  // The constructor returns the method object itself: copying ~60 closures onto `this` cost
  // more than the rest of a warm run. `new Sender(id)` and `Sender(id)` both work.
  function Sender(senderId) {
    return makeSender(parseRunId(senderId));
  }

  const PUSH_NAME = { text: "push", image: "pushImage", voice: "pushVoice", video: "pushVideo", file: "pushFile", mixed: "pushMixed" };

  function makePush(runId, kind) {
    return (...args) => {
      const a0 = args[0];
      const form = args.length === 1 && a0 !== null && typeof a0 === "object";
      warnPromise(runId, PUSH_NAME[kind], "title", form ? a0.title : args[3]);
      warnPromise(runId, PUSH_NAME[kind], "content", form ? a0.content : args[4]);
      return ops.op_isobot_push(runId, pushArgs(kind, args));
    };
  }

  /** The object `require('./middleware.js')` returns inside run `runId`. */
  I.makeSdk = (runId) => {
    const ctx = contextOf(runId);
    const A = I.autclaw;
    const S = I.store;
    let sender = null;
    const own = () => (sender === null ? (sender = makeSender(runId)) : sender);
    const sdk = {
      Sender,
      getSenderID: () => P.StringCtor(runId),
      push: makePush(runId, "text"),
      sleep,
      notifyMasters: (text, imtypes) => {
        warnPromise(runId, "notifyMasters", "text", text);
        return ops.op_isobot_notify_masters(runId, str(text), str(imtypes));
      },
      getPluginName: () => P.PromiseResolve(ctx().plugin.title),
      getPluginVersion: () => P.PromiseResolve(ctx().plugin.version),
      // autClaw has it at the top level too: the raw request body of a route run.
      getRouterData: () => own().getRouterData(),
      // The rest of autClaw's top level (js/25_autclaw.js), shared by every run.
      name: A.name,
      version: A.version,
      port: A.port,
      getActiveImtypes: A.getActiveImtypes,
      domain: A.domain,
      machineId: A.machineId,
      fileDownload: A.fileDownload,
      accessService: A.accessService,
      getGroupMemberList: A.getGroupMemberList,
      importModule: A.importModule,
      callAction: (name, params, options) => callAction(runId, name, params, options),
      Cron: A.Cron,
      pushImage: makePush(runId, "image"),
      pushVoice: makePush(runId, "voice"),
      pushVideo: makePush(runId, "video"),
      pushFile: makePush(runId, "file"),
      pushMixed: makePush(runId, "mixed"),
      get: S.get,
      set: S.set,
      del: S.del,
      bucketGet: S.bucketGet,
      bucketSet: S.bucketSet,
      bucketDel: S.bucketDel,
      bucketKeys: S.bucketKeys,
      bucketAllKeys: S.bucketAllKeys,
      bucketAll: S.bucketAll,
      importJs: I.importJs,
    };
    return sdk;
  };
  // ---- Mentions, inbound media, platform events and protocol actions (issue 17) ------------
  // The Sender and SDK literals above call these; the getters read optional context fields
  // (`event` {kind, data}, the message's `mentions`, `mentions_me`, `reply_to`, `media`).
  function callAction(runId, name, params, options) {
    return ops.op_isobot_call_action(runId, {
      name: str(name),
      params: optionsArg(params),
      options: optionsArg(options),
    });
  }

  function eventOf(ctx) {
    return ctx().event ?? null;
  }

  /** set_friend_add_request / set_group_add_request for the request event that started the run. */
  function answerRequest(runId, ctx, approve, note) {
    const ev = eventOf(ctx);
    const d = ev !== null ? ev.data ?? {} : {};
    if (d.post_type !== "request" || d.flag === undefined) {
      return P.PromiseReject(new P.TypeErrorCtor(
        "answerRequest: this run was not started by a friend or group request event; use it in an //[event: qq-request-...] plugin",
      ));
    }
    const ok = approve === undefined ? true : !!approve;
    const extra = note === undefined || note === null ? "" : P.StringCtor(note);
    if (d.request_type === "friend") {
      return callAction(runId, "set_friend_add_request", { flag: d.flag, approve: ok, remark: extra });
    }
    return callAction(runId, "set_group_add_request", {
      flag: d.flag,
      sub_type: d.sub_type,
      type: d.sub_type,
      approve: ok,
      reason: extra,
    });
  }

  /** answerCallbackQuery for the inline keyboard press that started the run. */
  function answerCallbackQuery(runId, ctx, text, options) {
    const ev = eventOf(ctx);
    const id = ev !== null && ev.data !== null && typeof ev.data === "object" ? ev.data.id : undefined;
    if (id === undefined || !P.StringPrototypeEndsWith(ev.kind, "callback_query")) {
      return P.PromiseReject(new P.TypeErrorCtor(
        "answerCallbackQuery: this run was not started by a callback_query event; use it in an //[event: telegram-callback_query] plugin",
      ));
    }
    const params = P.ObjectAssign({}, optionsArg(options) ?? {}, { callback_query_id: id });
    if (text !== undefined && text !== null) params.text = P.StringCtor(text);
    return callAction(runId, "answerCallbackQuery", params);
  }

})(globalThis);
