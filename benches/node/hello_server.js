// hello_server.js - the Node side of `cargo bench --bench http_vs_node`: the same plugin
// (scripts/hello.js) behind the same `POST /api/messages` contract as `isobot serve`, with no
// isolation at all. The plugin body is compiled once into an async function and called per
// message with an in-memory SDK (Sender getters, param, reply recorded as a send); the answer is
// the same JSON shape isobot returns ({runs: [{plugin, run_id, status, sends, logs, ...}]}).
//
//   node hello_server.js PLUGIN PORT [inproc|vm|cluster]
//
// inproc: one process, plugin called in-process. vm: the plugin compiled once in a `node:vm`
// context (a sandbox without real isolation). cluster: `inproc` in one worker per core.
"use strict";
const http = require("http");
const fs = require("fs");
const vm = require("vm");
const cluster = require("cluster");
const os = require("os");

const [file, portText, mode = "inproc"] = process.argv.slice(2);
const port = Number(portText);
const source = fs.readFileSync(file, "utf8");

/** The header rules, as isobot reads them: `raw` as written, `?` a `(.+)` placeholder. */
function rules(src) {
  const out = [];
  for (const line of src.split("\n")) {
    const m = /^\/\/\s*\[rule:\s*(.*?)\]\s*$/.exec(line.trim());
    if (!m) continue;
    const raw = m[1].startsWith("raw ") ? m[1].slice(4) : m[1].replace(/(^|\s)\?(?=\s|$)/g, "$1(.+)");
    out.push(new RegExp(`^(?:${raw})$`));
  }
  return out;
}

const RULES = rules(source);
const wrapped = `(async function (require, module, exports, __filename, __dirname) {${source}\n})`;
const plugin = mode === "vm" ? new vm.Script(wrapped, { filename: file }).runInContext(vm.createContext({})) : (0, eval)(wrapped);

let nextRun = 1;
let nextMessage = 1;

/** One run: the SDK bound to the run, sends recorded like isobot's send records. */
async function run(msg, params, ruleText) {
  const runId = nextRun++;
  const started = process.hrtime.bigint();
  const sends = [];
  const logs = [];
  const sender = {
    getUserName: async () => msg.user_name,
    getUserID: async () => msg.user,
    getMessage: async () => msg.text,
    getChatID: async () => msg.chat,
    param: async (i) => (i >= 1 && i <= params.length ? params[i - 1] : ""),
    reply: async (text) => {
      const id = String(nextMessage++);
      sends.push({
        action: "reply",
        im: msg.im,
        target: msg.chat ? { type: "group", id: msg.chat } : { type: "private", id: msg.user },
        account: msg.account,
        rule: "receiving_account",
        body: { type: "text", text: String(text) },
        result: "sent",
        message_id: id,
        error: null,
      });
      return { ok: true, message_id: id, messageid: id, action: "reply" };
    },
  };
  const sdk = { Sender: function () { return sender; }, getSenderID: () => String(runId) };
  const require = (spec) => {
    if (spec === "./middleware.js" || spec === "middleware") return sdk;
    throw new Error(`Cannot find module '${spec}'`);
  };
  let status = "ok";
  let detail;
  try {
    const module = { exports: {} };
    await plugin(require, module, module.exports, file, ".");
  } catch (e) {
    status = "failed";
    detail = { message: String(e && e.message), stack: String(e && e.stack) };
  }
  const duration_us = Number((process.hrtime.bigint() - started) / 1000n);
  return { plugin: "isobot:hello.js", run_id: runId, status, detail, sends, logs, continued: false, duration_us, rule: ruleText };
}

function answer(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function serve() {
  http
    .createServer((req, res) => {
      if (req.method === "GET" && req.url === "/healthz") return res.end("ok");
      if (req.method !== "POST" || req.url !== "/api/messages") return answer(res, 404, { error: "not found" });
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", async () => {
        let m;
        try {
          m = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch (e) {
          return answer(res, 400, { error: `body is not a valid message (${e.message})` });
        }
        if (!m.im || !m.user || !m.text) return answer(res, 422, { error: "missing field(s)" });
        const msg = { im: m.im, account: m.account || "console", chat: m.chat || "", user: m.user, user_name: m.user_name || "", text: m.text };
        const runs = [];
        for (const rule of RULES) {
          const hit = rule.exec(msg.text);
          if (!hit) continue;
          runs.push(await run(msg, hit.slice(1).map((g) => g ?? ""), rule.source));
          break;
        }
        answer(res, 200, { runs });
      });
    })
    .listen(port, "127.0.0.1", () => {
      if (!cluster.isWorker || cluster.worker.id === 1) console.log(`node listening on http://127.0.0.1:${port} (${mode})`);
    });
}

if (mode === "cluster" && cluster.isPrimary) {
  for (let i = 0; i < os.availableParallelism(); i++) cluster.fork();
} else {
  serve();
}
