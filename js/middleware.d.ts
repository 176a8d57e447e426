// middleware.d.ts — editor completion for isobot plugins: `require('./middleware.js')`.
// Copy it next to your plugins (or reference it with /// <reference path>) to get hints.
// The behaviour contract is SDK.md; isobot's decisions are in docs/sdk.md.

/** What a reply resolves to. `String(receipt)` is its message id. */
export interface SendReceipt {
  ok: boolean;
  message_id: string;
  messageid: string;
  message_ids?: string[];
  raw?: unknown;
  error?: string;
  /** Set for cron/fake contexts: nothing was sent. */
  dry_run?: boolean;
  action: string;
  toString(): string;
}

/** One element of a mixed message. */
export type MixedItem =
  | { type: "text" | "markdown"; text: string }
  | {
      type: "image" | "voice" | "video" | "file";
      source?: string;
      url?: string;
      path?: string;
      file?: string;
      name?: string;
      filename?: string;
      file_name?: string;
      mime_type?: string;
      mimeType?: string;
    };

/** Push options: shallow-merged into the send body; `account_id` picks the account. */
export interface PushOptions {
  account_id?: string;
  accountID?: string;
  accountId?: string;
  /** Quote a message (its id; `true` in a reply: the message being answered). */
  reply?: string | number | boolean;
  /** QQ: send a merged-forward message of these nodes instead of the content. */
  forward?: Array<{ name?: string; uin?: string | number; content: string | unknown[] } | { id: string | number }>;
  filename?: string;
  mimeType?: string;
  [key: string]: unknown;
}

/** An attachment of an inbound message. */
export interface MediaItem {
  type: "image" | "voice" | "video" | "file";
  /** Download URL when the platform gives one, else ''. */
  url: string;
  /** The platform's own reference (OneBot `file`/`file_id`, Telegram `file_id`). */
  file: string;
  name: string;
}

/** Options of `callAction`. */
export interface ActionOptions {
  /** Another account than the run's (required outside a message or event run). */
  account_id?: string;
  accountID?: string;
  accountId?: string;
  /** The IM of `account_id` when the id exists for several IMs. */
  imType?: string;
  /** Milliseconds (default 10 000). */
  timeout?: number;
}

type Id = string | number | null | undefined;
type Push<C> = (
  imType: string,
  groupCode: Id,
  userID: Id,
  title: string,
  content: C,
  options?: PushOptions,
  timeout?: number,
) => Promise<number>;

export class Sender {
  constructor(senderId: string);
  getSenderID(): Promise<string>;
  getImtype(): Promise<string>;
  getUserID(): Promise<string>;
  getUserName(): Promise<string>;
  getUserAvatarUrl(): Promise<string>;
  getChatID(): Promise<string>;
  getChatName(): Promise<string>;
  getGroupName(): Promise<string>;
  isAdmin(): Promise<boolean>;
  getMessage(): Promise<string>;
  getMessageID(): Promise<string>;
  /** 1-based capture of the rule that matched; '' when out of range. */
  param(i: number): Promise<string>;
  /** Who the message mentions (QQ numbers, Telegram user names or ids, wxids). */
  getAtList(): Promise<string[]>;
  /** The message mentions the bot (or replies to it on Telegram). */
  isAtMe(): Promise<boolean>;
  /** Id of the quoted message; '' when none. */
  getReplyID(): Promise<string>;
  getMediaItems(): Promise<MediaItem[]>;
  /** The platform event that started the run (`qq-notice-group_increase`, …); '' for a message. */
  getEventType(): Promise<string>;
  /** The platform's own payload of that event; {} for a message. */
  getEventData(): Promise<Record<string, unknown>>;
  /** Answers the friend / group request that started the run. */
  answerRequest(approve?: boolean, remarkOrReason?: string): Promise<unknown>;
  /** Answers the Telegram keyboard press that started the run. */
  answerCallbackQuery(
    text?: string,
    options?: { show_alert?: boolean; url?: string; cache_time?: number },
  ): Promise<unknown>;
  /** Any protocol action of the run's account (or the one named in options). */
  callAction(name: string, params?: Record<string, unknown>, options?: ActionOptions): Promise<unknown>;
  getPluginName(): Promise<string>;
  getPluginVersion(): Promise<string>;
  setContinue(): Promise<void>;
  reply(text: string, options?: object): Promise<SendReceipt>;
  replyText(text: string, options?: object): Promise<SendReceipt>;
  replyMarkdown(markdown: string, options?: object): Promise<SendReceipt>;
  replyImage(source: string, options?: object): Promise<SendReceipt>;
  replyVoice(source: string, options?: object): Promise<SendReceipt>;
  replyVideo(source: string, options?: object): Promise<SendReceipt>;
  replyFile(source: string, options?: object): Promise<SendReceipt>;
  replyMixed(items: MixedItem[], options?: object): Promise<SendReceipt>;
  recallMessage(idOrReceipt: string | SendReceipt): Promise<SendReceipt>;
  /** Next message of this user (or anyone in the group with scope 'group'); '' on timeout. */
  listen(waitMs?: number, recallMs?: number | "group", scope?: "group" | boolean): Promise<string>;
  input(waitMs?: number, recallMs?: number | "group", forGroup?: "group" | boolean): Promise<string>;
  getRouterPath(): Promise<string>;
  getRouterMethod(): Promise<string>;
  getRouterParams(): Promise<Record<string, string>>;
  getRouterQuery(): Promise<Record<string, string>>;
  getRouterHeaders(): Promise<Record<string, string>>;
  getRouterCookies(): Promise<Record<string, string>>;
  getRouterBody(): Promise<string>;
  getRouterData(): Promise<unknown>;
  /** Route context: the HTTP response body as JSON (a string is sent as text). */
  response(data: unknown, status?: number): Promise<boolean>;
  get(key: string): Promise<string>;
  set(key: string, value: unknown): Promise<boolean>;
  del(key: string): Promise<boolean>;
  bucketGet(bucket: string, key: string): Promise<string>;
  bucketSet(bucket: string, key: string, value: unknown): Promise<boolean>;
  bucketDel(bucket: string, key: string): Promise<boolean>;
  bucketKeys(bucket: string, value?: string): Promise<string[]>;
  bucketAllKeys(bucket: string): Promise<string[]>;
  bucketAll(bucket: string): Promise<Record<string, string>>;
}

export function getSenderID(): string;
export const push: Push<string>;
export const pushImage: Push<string>;
export const pushVoice: Push<string>;
export const pushVideo: Push<string>;
export const pushFile: Push<string>;
export const pushMixed: Push<MixedItem[]>;
export function sleep(ms: number): Promise<void>;
/** Private message to the configured admins of those IMs (comma-separated; all when omitted). */
export function notifyMasters(text: string, imtypes?: string): Promise<number>;
export function getPluginName(): Promise<string>;
export function getPluginVersion(): Promise<string>;
/** Any protocol action: the run's account, or the one named in options (required in cron/route runs). */
export function callAction(
  name: string,
  params?: Record<string, unknown>,
  options?: ActionOptions,
): Promise<unknown>;
/** Another script of the plugins folder as a CommonJS module ('file.js' or 'author:file.js'). */
export function importJs(name: string): unknown;
export function get(key: string): Promise<string>;
export function set(key: string, value: unknown): Promise<boolean>;
export function del(key: string): Promise<boolean>;
export function bucketGet(bucket: string, key: string): Promise<string>;
export function bucketSet(bucket: string, key: string, value: unknown): Promise<boolean>;
export function bucketDel(bucket: string, key: string): Promise<boolean>;
export function bucketKeys(bucket: string, value?: string): Promise<string[]>;
export function bucketAllKeys(bucket: string): Promise<string[]>;
export function bucketAll(bucket: string): Promise<Record<string, string>>;
