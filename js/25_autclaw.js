// 25_autclaw.js - the rest of autClaw's middleware.js surface, so plugins written for it find
// every function they call (docs/sdk.md, "autClaw functions"): route aliases, the event and
// media getters, the bot's name/version/port and active IMs (op_isobot_host, src/ext/host.rs),
// importModule, and - where isobot has neither the data nor the action - functions that reject
// with "<name> is not supported in isobot" and what to do instead, never "is not a function".
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

  const NO_ADAPTER_ACTION = "the adapters only send and recall messages; call the platform's API with fetch()";

  /** MediaItem objects as autClaw normalises them: `type` and `source` required. */
  function mediaItems(list) {
    if (!P.ArrayIsArray(list)) return [];
    const out = [];
    for (let i = 0; i < list.length; i++) {
      const m = list[i];
      if (m === null || typeof m !== "object") continue;
      if (typeof m.type !== "string" || m.type === "" || typeof m.source !== "string" || m.source === "") continue;
      const item = { type: m.type, source: m.source };
      const name = m.name ?? m.filename ?? m.file_name;
      if (name !== undefined && name !== null) item.name = P.StringCtor(name);
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

  I.senderExtensions.push((s, runId, ctx) => {
    const event = () => ctx().event ?? null;
    // Route aliases of autClaw.
    s.getRouter = () => s.getRouterPath();
    s.getMethod = () => s.getRouterMethod();
    s.getEventType = () => P.PromiseResolve(event()?.type ?? "");
    s.getEventData = () => P.PromiseResolve(copy(event()?.data ?? {}) ?? {});
    // The message's media, else the media list of the event's data.
    s.getMediaItems = () => {
      const own = mediaItems(ctx().message.media);
      if (own.length > 0) return P.PromiseResolve(own);
      const data = event()?.data ?? {};
      return P.PromiseResolve(mediaItems(data.media_items ?? data.mediaItems));
    };
    // The run's result: in a route run the response body (as `response(value)`), elsewhere a
    // line in the run log.
    s.returnValue = (value) => {
      if (ctx().kind === "route") return s.response(value);
      ops.op_isobot_log(runId, 1, `returnValue: ${I.format([value])}`);
      return P.PromiseResolve(true);
    };
    // isobot has no AI trigger and no payment flow: never an AI message, never waiting to pay.
    s.isAI = () => P.PromiseResolve(false);
    s.getAIParam = () => P.PromiseResolve("");
    s.atWaitPay = () => P.PromiseResolve(false);
    s.waitPay = unsupported("waitPay", "isobot has no payment integration; wait for the user's confirmation with listen()");
    s.getHistoryMessageIDs = unsupported(
      "getHistoryMessageIDs",
      "isobot keeps no message history; store the ids you need (getMessageID(), receipts) in a bucket",
    );
    s.groupKick = unsupported("groupKick", NO_ADAPTER_ACTION);
    s.groupBan = unsupported("groupBan", NO_ADAPTER_ACTION);
    s.getGroupMemberList = unsupported("getGroupMemberList", NO_ADAPTER_ACTION);
  });

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

  I.sdkExtensions.push((sdk) => {
    let host = null;
    const info = () => (host === null ? (host = ops.op_isobot_host()) : host);
    sdk.name = () => P.PromiseResolve(info().name);
    sdk.version = () => P.PromiseResolve(info().version);
    sdk.port = () => {
      const port = info().port;
      return port === null ? unsupported("port", "this command serves no HTTP (run the plugin under isobot serve)")() : P.PromiseResolve(P.StringCtor(port));
    };
    // Fresh each call: accounts go on- and offline.
    sdk.getActiveImtypes = () => P.PromiseResolve(ops.op_isobot_host().ims);
    sdk.domain = unsupported("domain", "isobot does not know its public address; keep it in a bucket or in your plugin");
    sdk.machineId = unsupported("machineId", "isobot does not identify the machine to plugins");
    sdk.fileDownload = unsupported("fileDownload", "download with fetch() and save with require('fs') inside the plugins or data folder");
    sdk.accessService = unsupported("accessService", "call the service's HTTP API with fetch()");
    sdk.importModule = importModule;
    sdk.Cron = Cron;
  });
})(globalThis);
