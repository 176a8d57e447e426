// es5.d.ts - editor completion for legacy es5 plugins: the injected globals (no require).
// Copy it next to your plugins (or reference it with /// <reference path="es5.d.ts" />).
// The behaviour contract is docs/spec/ES5.md; isobot's decisions are in docs/es5.md.
// Every call here is synchronous: it returns when the host is done.

export {};

declare global {
  // ---- Context and messaging --------------------------------------------------------------

  /** Sends `text` to the current chat; returns the message id ('' when the adapter gives none). */
  function sendText(text: string): string;
  /** An image to the current chat: `http(s)://`, `file:///...`, `base64://...`. Returns its id. */
  function sendImage(src: string): string;
  /** A video to the current chat. Returns its id. */
  function sendVideo(src: string): string;
  /** A CQ-code string `[CQ:image,file=...]` to embed in a text. */
  function image(src: string): string;
  /** Recalls a message: the id `sendText` returned, or `GetMessageID()` for the user's. */
  function RecallMessage(id: string | { message_id: string }): boolean;
  function GetUserID(): string;
  function GetUsername(): string;
  /** The group chat's id; '' in a private chat. */
  function GetChatID(): string;
  function GetChatname(): string;
  /** The message text (in an event run without text: the event's data as JSON). */
  function GetContent(): string;
  /** `qq`, `wx`, `tg`, ...; `fake` in cron and manual runs. */
  function GetImType(): string;
  function ImType(): string;
  /** The id of the triggering message. */
  function GetMessageID(): string;
  /** The i-th capture (1-based) of the matched rule; '' out of range. */
  function param(i: number): string;
  /** Whether the sender is an admin of this IM. */
  function isAdmin(): boolean;
  /**
   * Blocks until the same user (any member with "group") writes in this chat; returns the
   * text, '' on timeout (1 s ... 15 min; default 60 s). The answer triggers no rule.
   */
  function input(waitMs?: number, recallMs?: number | "group", scope?: "group"): string;
  /** Re-injects `text` as a new message from the same user and chat into dispatch. */
  function breakIn(text: string): boolean;
  /** A private message to the admins of `imtypes` (array or comma string; default all). */
  function notifyMasters(text: string, imtypes?: string[] | string): number;
  /** A proactive push; account selection as SDK.md sec. 3. */
  function push(target: {
    imType: string;
    groupCode?: string | number;
    chatID?: string | number;
    userID?: string | number;
    title?: string;
    content: string;
  }): number;
  function push(imType: string, groupCode: string | number, userID: string | number, title: string, content: string): number;

  // ---- Storage (plain strings; the same buckets as middleware plugins) ----------------------

  /** `bucketGet('otto', key)`. */
  function get(key: string): string;
  function set(key: string, value: unknown): boolean;
  function del(key: string): boolean;
  /** '' when the key is missing. */
  function bucketGet(bucket: string, key: string): string;
  /** Stores `String(value)`; returns once the write is durable. */
  function bucketSet(bucket: string, key: string, value: unknown): boolean;
  function bucketDel(bucket: string, key: string): boolean;
  /** Keys of `bucket` (default `otto`); with `value`, only the keys whose value equals it. */
  function bucketKeys(bucket?: string, value?: string): string[];
  function bucketAllKeys(bucket: string): string[];
  function bucketAll(bucket: string): Record<string, string>;

  // ---- Network -----------------------------------------------------------------------------

  interface RequestOptions {
    url: string;
    /** get/post/put/delete/head/patch, any case; default GET, or POST with a body. */
    method?: string;
    headers?: Record<string, string>;
    /** An object is sent as JSON; a string as is. */
    body?: unknown;
    /** A string body. */
    data?: string;
    /** Parse the answer as JSON. */
    json?: boolean;
    /** `location`: the redirect target instead of following it. */
    dataType?: "json" | "text" | "location";
    /** Form fields (url-encoded; multipart with `fileData`). */
    formData?: Record<string, string | number>;
    /** Multipart upload: form field -> file path (plugins folder or data folder). */
    fileData?: Record<string, string>;
    /** Milliseconds. */
    timeOut?: number;
    timeout?: number;
    /** Refused: isobot sends plugin requests itself under the [fetch] policy. */
    useproxy?: never;
    proxyAddr?: never;
  }

  interface RequestResponse {
    statusCode: number;
    status: number;
    statusText: string;
    /** Lower-cased header names. */
    headers: Record<string, string>;
    body: any;
    url: string;
  }

  /** Synchronous: the body (parsed with `dataType: "json"` or `json: true`). Throws on failure. */
  function request(options: RequestOptions | string): any;
  /** With a callback: it runs before `request` returns, which returns what it returned. */
  function request<R>(
    options: RequestOptions | string,
    callback: (error: Error | null, response: RequestResponse | null, header: Record<string, string> | null, body: any) => R,
  ): R;

  // ---- Time, modules, logging ----------------------------------------------------------------

  /** Blocks the run for `ms` milliseconds (the run's timeout still applies). */
  function sleep(ms: number): void;
  /** `yyyy MM dd HH hh mm ss`, local time; default `yyyy-MM-dd HH:mm:ss`, now. */
  function timeFmt(format?: string, sec?: number): string;
  function unixTimeFmt(sec: number, nsec?: number, format?: string): string;
  /** Another script of the plugins folder (`'x.js'` or `'author:x.js'`): its exports. */
  function importJs(path: string): any;
  function Debug(...args: unknown[]): void;
  function Info(...args: unknown[]): void;
  function Warn(...args: unknown[]): void;
  /** Called as a function, also logs at error level (and returns the Error, as JS does). */
  // `Error` itself is the standard constructor.

  // ---- Group administration (OneBot / QQ group runs) ----------------------------------------

  function GroupKick(userId: string | number, reject?: boolean): boolean;
  function GroupBan(userId: string | number, seconds: number): boolean;
  function GroupWholeBan(enable?: boolean): boolean;
  function GroupNoticeSend(text: string): boolean;

  // ---- autMan helpers --------------------------------------------------------------------------

  /** `name`, `version`, `uuid`, `md5`, `timeFormat`, `unixTimeFormat`: a function. */
  function call(name: string): (...args: any[]) => any;
  function cancall(name: string): boolean;
}
