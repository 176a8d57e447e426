//! TypeScript and ES-module plugins (issue 16): `.ts` plugins and `require('./x.ts')` /
//! `import … from './x'` helpers have their types stripped at load (never checked), ESM syntax
//! in `.js` or `.ts` becomes the CommonJS wrapper (top-level `await` and `return` kept), the
//! bare specifier `middleware` is the SDK, and every error names the file's own line.

use crate::harness::{assert_ok, console, log_text, message, msg_ctx, outs, run, Bot};
use isobot::run::RunStatus;
use serde_json::json;

/// A plugin with interfaces, generics, enums, a class with parameter properties, `satisfies`,
/// type-only imports and ESM imports of the SDK and of a TypeScript helper.
const WEATHER_TS: &str = r#"//[title: weather-ts]
//[author: t]
//[rule: ^weather (.+)$]
import { Sender, getSenderID } from 'middleware';
import type { SendReceipt } from 'middleware';
import { describe, Unit } from './lib/format';

interface Forecast {
  city: string;
  tempC: number;
  tags?: readonly string[];
}

enum Level { Low, Mid = 5, High }
enum Color { Red = 'red', Blue = 'blue' }

function first<T>(xs: T[]): T | undefined {
  return xs[0];
}

class Station<T extends Forecast> {
  constructor(private readonly data: T, public hits: number = 0) {}
  read(): T { this.hits++; return this.data; }
}

const s = new Sender(getSenderID());
const city = (await s.param(1)) as string;
const station = new Station<Forecast>({ city, tempC: 25, tags: ['sunny'] });
const fc = station.read();
const cfg = { unit: 'C' } satisfies { unit: Unit };
const level: Level = fc.tempC > 20 ? Level.High : Level.Low;
const r: SendReceipt = await s.reply(
  `${describe(fc.city, fc.tempC, cfg.unit)} level=${Level[level]} color=${Color.Blue} first=${first<number>([7, 8])} hits=${station.hits} tag=${fc.tags?.[0] ?? 'none'}`,
);
return r.ok;
"#;

const FORMAT_TS: &str = r#"export type Unit = 'C' | 'F';

export function describe(city: string, tempC: number, unit: Unit = 'C'): string {
  const t: number = unit === 'F' ? (tempC * 9) / 5 + 32 : tempC;
  return `${city}: ${t}${unit}`;
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ts_plugin_with_interfaces_generics_enums_and_esm_imports_replies() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    bot.write("lib/format.ts", FORMAT_TS);
    let iso = bot.start("weather.ts", WEATHER_TS).await;
    let o = run(
        &iso,
        msg_ctx(
            message("qq", "qa", "g", "u", "weather beijing"),
            &["beijing"],
        ),
    )
    .await;
    assert_ok(&o);
    assert_eq!(o.sends.len(), 1, "{}", log_text(&o));
    assert_eq!(
        o.sends[0].body["text"],
        json!("beijing: 25C level=High color=blue first=7 hits=1 tag=sunny")
    );
}

/// Line 42 of the `.ts` file throws: the error and its stack name `file.ts:42`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_on_line_42_of_a_ts_file_reports_file_ts_42() {
    let mut src = String::from(
        "//[author: t]\nimport { Sender, getSenderID } from 'middleware';\ninterface Big {\n  a: string;\n  b: {\n    c: number;\n  };\n}\n",
    );
    while src.lines().count() < 40 {
        src.push_str("type Pad<T> = T | null; // types vanish, their lines stay\n");
    }
    src.push_str("function boom(arg: Big | null): never {\n");
    assert_eq!(src.lines().count(), 41);
    src.push_str("  throw new Error('boom ' + (arg as Big | null)); // line 42\n}\nboom(null);\n");
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot.start("line42.ts", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    let RunStatus::Failed { message, stack } = &o.status else {
        panic!("expected a failure, got {}", o.status);
    };
    assert_eq!(message, "Error: boom null");
    assert!(stack.contains("line42.ts:42:"), "{stack}");
}

/// A syntax error in TypeScript is a load error at its own line, like a script error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ts_syntax_error_fails_the_load_at_its_line() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let e = bot
        .try_start(
            "bad.ts",
            "//[author: t]\nconst a: number = 1;\nconst b: = 2;\n",
        )
        .await
        .err()
        .expect("a syntax error fails the load");
    let text = e.to_string();
    assert!(text.starts_with("SyntaxError: Unexpected token"), "{text}");
    assert!(text.contains("bad.ts:3:"), "{text}");
}

/// A type error never blocks running: types are stripped, not checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_errors_do_not_stop_a_plugin() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "loose.ts",
            "//[author: t]\nconst n: number = 'not a number' as any as string as unknown as number;\nconsole.log('OUT ' + JSON.stringify(n));\n",
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), [json!("not a number")]);
}

/// ESM syntax in a `.js` plugin: imports of the SDK by bare name and by path, of a helper
/// written as an ES module, top-level `await` and `return`; errors at the file's own lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esm_js_plugins_and_helpers_become_commonjs_with_their_lines() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    bot.write(
        "util.js",
        "export const twice = (x) => x * 2;\nexport default function hello(n) { return 'hello ' + n; }\n",
    );
    let src = "//[author: t]\nimport { Sender, getSenderID } from 'middleware';\nimport * as mw from './middleware.js';\nimport hello, { twice } from './util.js';\nconst s = new Sender(getSenderID());\nif ((await s.param(1)) === 'stop') return;\nawait s.reply(hello(twice(21)) + ' ' + (typeof mw.push));\nexport const unused = 1;\nnull.boom;\n";
    let iso = bot.start("esm.js", src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &["go"])).await;
    assert_eq!(o.sends[0].body["text"], json!("hello 42 function"));
    let RunStatus::Failed { stack, .. } = &o.status else {
        panic!("line 9 throws: {}", o.status);
    };
    assert!(stack.contains("esm.js:9:"), "{stack}");
    // Top-level `return` still ends the body.
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &["stop"])).await;
    assert_ok(&o);
    assert!(o.sends.is_empty());
}

/// Plain CommonJS plugins are compiled exactly as written: sloppy mode stays sloppy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commonjs_plugins_are_not_converted() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "sloppy.js",
            "//[author: t]\nimplicitGlobal = 5;\nconsole.log('OUT ' + JSON.stringify([implicitGlobal, (function () { return this === globalThis; })()]));\n",
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), [json!([5, true])]);
}

/// `require('./x.ts')` from a CommonJS plugin converts the helper; its errors keep its lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_of_a_ts_helper_strips_its_types() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    bot.write(
        "lib/calc.ts",
        "export interface Pair { a: number; b: number }\nexport const sum = ({ a, b }: Pair): number => a + b;\nexport function fail(): never {\n  throw new Error('calc failed');\n}\n",
    );
    let iso = bot
        .start(
            "calc.js",
            "//[author: t]\nconst calc = require('./lib/calc.ts');\nconsole.log('OUT ' + JSON.stringify(calc.sum({ a: 2, b: 3 })));\ncalc.fail();\n",
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_eq!(outs(&o), [json!(5)]);
    let RunStatus::Failed { message, stack } = &o.status else {
        panic!("fail() throws: {}", o.status);
    };
    assert_eq!(message, "Error: calc failed");
    assert!(stack.contains("calc.ts:4:"), "{stack}");
}
