// 25_autclaw.js - the rest of autClaw's middleware.js surface, so plugins written for it find
// every function they call (docs/sdk.md, "autClaw functions"): the event and media getters,
// the bot's name/version/port and active IMs (op_isobot_host, src/ext/host.rs), importModule,
// and - where isobot has neither the data nor the action - functions that reject with
// "<name> is not supported in isobot" and what to do instead, never "is not a function".
// `I.autclaw` holds them; 20_middleware.js puts them on every Sender and SDK object.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P, ops } = I;

  /** The error of an autClaw function isobot does not offer (err.code ERR_ISOBOT_UNSUPPORTED). */
  function unsupportedError(name, instead) {
    const e = new P.ErrorCtor(`${name} is not supported in isobot${instead ? `; ${instead}` : ""}`);
    e.code = "ERR_ISOBOT_UNSUPPORTED";
    return e;
  }
  const unsupported = (name, instead) => () => P.PromiseReject(unsupportedError(name, instead));

  const NO_ADAPTER_ACTION =
    "call the platform's own action with sender.callAction(name, params), e.g. OneBot set_group_kick, set_group_ban or get_group_member_list (docs/adapters.md)";

  /** MediaItem objects as autClaw normalises them (`type` and `source` required), with isobot's
   *  `url` and `file` kept. */
  const nonEmpty = (v) => typeof v === "string" && v !== "";
  function mediaItems(list) {
    if (!P.ArrayIsArray(list)) return [];
    const out = [];
    for (let i = 0; i < list.length; i++) {
      const m = list[i];
      if (m === null || typeof m !== "object") continue;
      // isobot's adapters give `url` (downloadable) and `file` (the platform's reference);
      // `source` is the first of them, as autClaw has it.
      const source = nonEmpty(m.source) ? m.source : nonEmpty(m.url) ? m.url : nonEmpty(m.file) ? m.file : undefined;
      if (!nonEmpty(m.type) || source === undefined) continue;
      const item = { type: m.type, source };
      if (nonEmpty(m.url)) item.url = m.url;
      if (nonEmpty(m.file)) item.file = m.file;
      const name = m.name || m.filename || m.file_name;
      if (name !== undefined && name !== null && name !== "") item.name = P.StringCtor(name);
      const mime = m.mime_type ?? m.mimeType;
      if (mime !== undefined && mime !== null) item.mime_type = P.StringCtor(mime);
      if (m.platform_payload !== null && typeof m.platform_payload === "object") {
        item.platform_payload = { ...m.platform_payload };
      }
      P.ArrayPrototypePush(out, item);
    }
    return out;
  }

  const copy = (v) => (v !== null && typeof v === "object" ? P.JSONParse(P.JSONStringify(v)) : v);

  // Shared by every Sender and SDK object: 20_middleware.js puts them into its object literals
  // (a property assigned after the literal costs more than the whole literal; a run builds a
  // Sender and an SDK object, so nothing here may add per-run work).
  const A = {};
  I.autclaw = A;

  const event = (ctx) => ctx().event ?? null;
  A.getEventType = (ctx) => P.PromiseResolve(event(ctx)?.kind ?? "");
  A.getEventData = (ctx) => P.PromiseResolve(copy(event(ctx)?.data ?? {}) ?? {});
  // The message's media, else the media list of the event's data.
  A.getMediaItems = (ctx) => {
    const own = mediaItems(ctx().message.media);
    if (own.length > 0) return P.PromiseResolve(own);
    const data = event(ctx)?.data ?? {};
    return P.PromiseResolve(mediaItems(data.media_items ?? data.mediaItems));
  };
  // The run's result: in a route run the response body (as `response(value)`), elsewhere a line
  // in the run log.
  A.returnValue = (s, runId, ctx, value) => {
    if (ctx().kind === "route") return s.response(value);
    ops.op_isobot_log(runId, 1, `returnValue: ${I.format([value])}`);
    return P.PromiseResolve(true);
  };
  // isobot has no AI trigger and no payment flow: never an AI message, never waiting to pay.
  A.isAI = () => P.PromiseResolve(false);
  A.getAIParam = () => P.PromiseResolve("");
  A.atWaitPay = () => P.PromiseResolve(false);
  A.waitPay = unsupported("waitPay", "isobot has no payment integration; wait for the user's confirmation with listen()");
  A.getHistoryMessageIDs = unsupported(
    "getHistoryMessageIDs",
    "isobot keeps no message history; store the ids you need (getMessageID(), receipts) in a bucket",
  );
  A.groupKick = unsupported("groupKick", NO_ADAPTER_ACTION);
  A.groupBan = unsupported("groupBan", NO_ADAPTER_ACTION);
  A.getGroupMemberList = unsupported("getGroupMemberList", NO_ADAPTER_ACTION);

  /** `importModule(module, versionOrOptions?)`: require() of an installed package. */
  function importModule(module, versionOrOptions) {
    return new P.PromiseCtor((resolve) => {
      const o = versionOrOptions !== null && typeof versionOrOptions === "object" ? versionOrOptions : {};
      const name = P.StringCtor(o.package ?? module);
      resolve(I.makeRequire(I.pluginDirname ?? "", null)(name));
    });
  }

  function Cron() {
    throw unsupportedError("Cron", "schedule a plugin with a //[cron: ...] header line");
  }

  // The bot itself: the same for every run of the isolate (asked once; the IMs online are
  // asked on each call, as accounts come and go).
  let host = null;
  const info = () => (host === null ? (host = ops.op_isobot_host()) : host);
  A.name = () => P.PromiseResolve(info().name);
  A.version = () => P.PromiseResolve(info().version);
  A.port = () => {
    const port = info().port;
    return port === null
      ? P.PromiseReject(unsupportedError("port", "this command serves no HTTP (run the plugin under isobot serve)"))
      : P.PromiseResolve(P.StringCtor(port));
  };
  A.getActiveImtypes = () => P.PromiseResolve(ops.op_isobot_host().ims);
  A.domain = unsupported("domain", "isobot does not know its public address; keep it in a bucket or in your plugin");
  A.machineId = unsupported("machineId", "isobot does not identify the machine to plugins");
  A.fileDownload = unsupported("fileDownload", "download with fetch() and save with require('fs') inside the plugins or data folder");
  A.accessService = unsupported("accessService", "call the service's HTTP API with fetch()");
  A.importModule = importModule;
  A.Cron = Cron;
})(globalThis);
