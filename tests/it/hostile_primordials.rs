//! Hostile built-ins (issue 11 item 12): a plugin that overwrites the built-ins the SDK and the
//! runtime JS call — Array/String/Promise/Function/Map/Set/RegExp prototype methods, JSON,
//! `Object` statics, getters and `toJSON` on `Object.prototype`, global constructors — breaks only
//! its own code. Its later runs still require a helper file, a JSON file and Node modules, push,
//! reply, use buckets, fetch and log: the runtime took its built-ins before any plugin ran.

use crate::harness::*;
use serde_json::json;

/// Run 1 (`clobber`) overwrites everything at once; every run (`use`) reports what the SDK and
/// the runtime still do, using nothing it clobbered itself (string `+` only).
const PLUGIN: &str = r#"const sdk = require('./middleware.js');
// The plugin's own code keeps what it needs itself (it clobbers the globals it would use).
const OwnPromise = globalThis.OwnPromise || (globalThis.OwnPromise = Promise);
const s = new sdk.Sender(sdk.getSenderID());
const text = await s.getMessage();
if (text === 'clobber') {
  const E = Error;
  const hostile = (name) => function () { throw new E('hostile ' + name); };
  const protos = {
    Array: [Array.prototype, ['push', 'pop', 'shift', 'unshift', 'splice', 'slice', 'map', 'filter', 'forEach', 'some', 'every', 'reduce', 'find', 'findIndex', 'indexOf', 'lastIndexOf', 'includes', 'join', 'concat', 'sort', 'reverse', 'fill', 'at']],
    String: [String.prototype, ['split', 'slice', 'substring', 'startsWith', 'endsWith', 'includes', 'indexOf', 'lastIndexOf', 'replace', 'replaceAll', 'charCodeAt', 'charAt', 'codePointAt', 'toLowerCase', 'toUpperCase', 'trim', 'padStart', 'padEnd', 'repeat', 'match', 'search', 'concat', 'normalize']],
    Promise: [Promise.prototype, ['then', 'catch', 'finally']],
    Function: [Function.prototype, ['call', 'apply', 'bind']],
    Map: [Map.prototype, ['get', 'set', 'has', 'delete', 'forEach']],
    Set: [Set.prototype, ['add', 'has', 'delete', 'forEach']],
    WeakMap: [WeakMap.prototype, ['get', 'set', 'has']],
    WeakSet: [WeakSet.prototype, ['add', 'has']],
    RegExp: [RegExp.prototype, ['test']],
    Number: [Number.prototype, ['toString', 'toFixed']],
    Object: [Object, ['defineProperty', 'defineProperties', 'keys', 'entries', 'assign', 'create', 'freeze', 'getPrototypeOf', 'setPrototypeOf', 'getOwnPropertyNames', 'getOwnPropertyDescriptor', 'fromEntries']],
    JSON: [JSON, ['parse', 'stringify']],
    Math: [Math, ['min', 'max', 'floor', 'ceil', 'random']],
    ArrayStatic: [Array, ['isArray', 'from', 'of']],
    Reflect: [Reflect, ['apply', 'ownKeys', 'defineProperty']],
  };
  const define = Object.defineProperty;
  for (const key in protos) {
    const target = protos[key][0];
    const names = protos[key][1];
    for (let i = 0; i < names.length; i++) target[names[i]] = hostile(key + '.' + names[i]);
  }
  // Getters on Object.prototype: every property descriptor or option bag the runtime builds
  // as a plain object would inherit them.
  const accessors = ['get', 'set', 'value', 'writable', 'enumerable', 'configurable', 'error', 'code', 'exports', 'format', 'loaded'];
  for (let i = 0; i < accessors.length; i = i + 1) {
    define(Object.prototype, accessors[i], { __proto__: null, get: hostile('Object.prototype.' + accessors[i]), configurable: true });
  }
  define(Object.prototype, 'toJSON', { __proto__: null, value: function () { return 'hijacked'; }, configurable: true, writable: true });
  globalThis.clobbered = true;
  for (const name of ['Map', 'Set', 'WeakMap', 'WeakSet', 'Promise', 'Error', 'TypeError', 'RangeError', 'Uint8Array', 'ArrayBuffer', 'Date', 'RegExp', 'Symbol', 'String', 'Number', 'Object', 'Array', 'JSON', 'Math', 'Reflect', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'Headers', 'Response']) {
    globalThis[name] = hostile('global ' + name);
  }
  await s.reply('clobbered');
  return;
}
let r = '';
const step = async (name, f) => {
  try { r = r + name + '=' + (await f()) + ';'; } catch (e) { r = r + name + '=THREW ' + (e && e.message) + ';'; }
};
// The plugin's own use of what it clobbered does break (the clobber took effect).
await step('own', () => { try { [].push(1); return 'intact'; } catch (e) { return e.message; } });
await step('helper', () => require('./helper.js').twice(21));
await step('json', () => require('./data.json').answer);
await step('path', () => require('path').join('a', 'b', '../c') + ',' + require('path').extname('x.tar.gz') + ',' + require('node:path').resolve('/r', 's'));
await step('buffer', () => require('buffer').Buffer.from('hi there').toString('base64') + ',' + Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString('hex'));
await step('events', () => {
  const EventEmitter = require('events');
  const e = new EventEmitter();
  let got = '';
  e.on('x', (v) => { got = got + v; });
  e.once('x', (v) => { got = got + '1' + v; });
  e.emit('x', 'a');
  e.emit('x', 'b');
  return got + ',' + e.listenerCount('x');
});
await step('util', () => require('util').format('%s-%d', 'n', 7) + ',' + require('util').inspect({ a: [1, 'x'] }));
await step('url', () => new (require('url').URL)('https://h.example/p?q=1#f').searchParams.get('q') + ',' + require('url').parse('http://a.b/c?d=e').pathname + ',' + require('url').pathToFileURL('/x y').href);
await step('text', () => new (require('util').TextDecoder)().decode(new (require('util').TextEncoder)().encode('t\u00e9')));
await step('missing', () => { try { require('./missing.js'); return 'loaded'; } catch (e) { return e.code; } });
await step('badpath', () => { try { require('path').join(5); return 'joined'; } catch (e) { return e.code; } });
await step('bucket', async () => { await sdk.bucketSet('hp', 'k', 'v' + text); return await sdk.bucketGet('hp', 'k'); });
await step('keys', async () => (await sdk.bucketKeys('hp')).length);
await step('all', async () => (await sdk.bucketAll('hp')).k);
await step('fetch', async () => { const res = await fetch(FETCH_URL, { method: 'POST', body: '{"q":1}', headers: { 'content-type': 'application/json' } }); const j = await res.json(); return res.status + ',' + j.ok; });
await step('push', async () => { const receipt = await sdk.push('qq', 'g1', '', 't', 'pushed ' + text); return typeof receipt; });
await step('timer', () => new OwnPromise((resolve) => setTimeout(() => resolve('fired'), 1)));
await step('late', () => (globalThis.clobbered ? require('./late.js').n : 7) + ',' + (globalThis.clobbered ? require('os').EOL.length : 1));
await step('sleep', async () => { await sdk.sleep(1); return 'slept'; });
console.log('logged', { a: 1, b: [2] });
await s.reply(r);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwritten_builtins_break_neither_the_sdk_nor_require_nor_node_modules() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let server = hook(Answer::Json(200, json!({"ok": true}))).await;
    bot.write(
        "helper.js",
        "module.exports = { twice: function (n) { return n * 2; } };\n",
    );
    bot.write("data.json", "{\"answer\": 42}\n");
    bot.write("late.js", "exports.n = [3, 4].length + 5;\n");
    let good = bot
        .start(
            "good.js",
            &format!("{PRELUDE}await new Sender(getSenderID()).reply('fine');"),
        )
        .await;
    let source = PLUGIN.replace("FETCH_URL", &format!("{:?}", server.url));
    let hostile = bot.start("hostile.js", &source).await;
    let turn = |text: &str| msg_ctx(message("qq", "qa", "", "u1", text), &[]);

    // Before: the baseline every later run must match.
    let before = run(&hostile, turn("use")).await;
    assert_ok(&before);
    let baseline = before.sends.last().unwrap().body.clone();
    let expected = "own=intact;helper=42;json=42;path=a/c,.gz,/r/s;buffer=aGkgdGhlcmU=,6162;\
events=a1ab,1;util=n-7,{ a: [ 1, 'x' ] };url=1,/c,file:///x%20y;text=t\u{e9};missing=MODULE_NOT_FOUND;badpath=ERR_INVALID_ARG_TYPE;bucket=vuse;keys=1;all=vuse;\
fetch=200,true;push=number;timer=fired;late=7,1;sleep=slept;";
    assert_eq!(baseline["text"], expected, "{baseline}");

    let (clobber, g) = tokio::join!(
        run(&hostile, turn("clobber")),
        run(&good, msg_ctx(message("qq", "qa", "", "u2", "x"), &[]))
    );
    assert_ok(&clobber);
    assert_ok(&g);
    assert_eq!(clobber.sends[0].body["text"], "clobbered");

    for i in 0..2 {
        let o = run(&hostile, turn("use")).await;
        assert_ok(&o);
        let body = &o.sends.last().unwrap().body;
        assert_eq!(
            body["text"],
            expected.replace("own=intact", "own=hostile Array.push"),
            "run {i} after the clobber: {body}"
        );
        let logged = log_text(&o);
        assert!(
            logged.contains(r#"logged {"a":1,"b":[2]}"#),
            "console.log of an object after the clobber: {logged}"
        );
        let g = run(&good, msg_ctx(message("qq", "qa", "", "u2", "x"), &[])).await;
        assert_ok(&g);
        assert_eq!(g.sends.len(), 1);
    }
    // Every fetch (before, and the two runs after) reached the server.
    assert_eq!(server.received().len(), 3);
}
