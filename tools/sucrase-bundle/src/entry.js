// Entry of the isobot Sucrase bundle: exposes globalThis.__isobot_sucrase.
// Only `transform` is exposed. Sucrase's option validation (ts-interface-checker) and
// source-map generation (@jridgewell/gen-mapping) are stubbed out at bundle time (see
// build.mjs); the options are checked here instead, against the short list isobot uses.
import { transform as sucraseTransform, getVersion } from "sucrase/dist/esm/index.js";
import { parse } from "sucrase/dist/esm/parser/index.js";
import { TokenType as tt } from "sucrase/dist/esm/parser/tokenizer/types.js";
import { ContextualKeyword as ck } from "sucrase/dist/esm/parser/tokenizer/keywords.js";

const ALLOWED = new Set(["typescript", "imports", "jsx", "flow"]);

const VALUE_DECL = new Set([tt._const, tt._let, tt._var, tt._function, tt._class]);

/**
 * Sucrase treats every `namespace X {}` / `module X {}` as a type declaration and drops it, so a
 * namespace holding values would vanish silently (a ReferenceError at run time). Refuse those
 * with a SyntaxError at the namespace's line instead. Only runs when the text mentions one.
 */
function checkValueNamespaces(code, filePath) {
  if (!/\b(?:namespace|module)\s+[A-Za-z_$]/.test(code)) return;
  const { tokens } = parse(code, false, true, false);
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (t.type !== tt.name || !t.isType) continue;
    if (t.contextualKeyword !== ck._namespace && t.contextualKeyword !== ck._module) continue;
    if (tokens[i + 1].type !== tt.name) continue; // `module 'x'` and `declare global` are ambient
    if (i > 0 && tokens[i - 1].contextualKeyword === ck._declare) continue;
    let j = i + 1;
    while (j < tokens.length && tokens[j].type !== tt.braceL) j++;
    let depth = 0;
    for (; j < tokens.length; j++) {
      const u = tokens[j];
      if (u.type === tt.braceL) depth++;
      else if (u.type === tt.braceR && --depth === 0) break;
      const isEnum = u.type === tt.name && u.contextualKeyword === ck._enum;
      if ((VALUE_DECL.has(u.type) || isEnum) && tokens[j - 1].contextualKeyword !== ck._declare) {
        const line = code.slice(0, t.start).split("\n").length;
        const col = t.start - code.lastIndexOf("\n", t.start - 1) - 1;
        const e = new SyntaxError(
          `${filePath ? filePath + ": " : ""}TypeScript namespaces that hold values are not supported ` +
            `(line ${line}); use a plain object or a separate module (${line}:${col})`,
        );
        e.loc = { line, column: col };
        throw e;
      }
    }
  }
}

function transform(code, options) {
  if (typeof code !== "string") throw new TypeError("transform: code must be a string");
  const o = options || {};
  const transforms = o.transforms || ["typescript", "imports"];
  if (!Array.isArray(transforms)) throw new TypeError("transform: transforms must be an array");
  for (const t of transforms) {
    if (!ALLOWED.has(t)) throw new TypeError(`transform: unsupported transform '${t}'`);
  }
  if (transforms.includes("typescript")) checkValueNamespaces(code, o.filePath);
  const r = sucraseTransform(code, {
    transforms,
    filePath: typeof o.filePath === "string" ? o.filePath : undefined,
    // V8 15 runs ES2022+ natively: leave optional chaining, ??, class fields, etc. untouched.
    disableESTransforms: o.disableESTransforms !== false,
    // import('x') -> Promise.resolve().then(() => require('x')) unless the host has an ESM loader.
    preserveDynamicImport: o.preserveDynamicImport === true,
    keepUnusedImports: o.keepUnusedImports === true,
  });
  return { code: r.code };
}

Object.defineProperty(globalThis, "__isobot_sucrase", {
  value: Object.freeze({ transform, version: getVersion() }),
  writable: false,
  enumerable: false,
  configurable: true,
});
