// 62_node_inspect.js - `util.inspect` and `util.format`, following Node's algorithm (lib/internal/
// util/inspect.js: depth 2, breakLength 80, compact 3, array grouping, circular markers) without
// colors, so plugins that log or build replies with them print what they print under Node.
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;
  const core = I.core;

  const CUSTOM = P.SymbolFor("nodejs.util.inspect.custom");
  const DEFAULTS = {
    showHidden: false,
    depth: 2,
    colors: false,
    customInspect: true,
    showProxy: false,
    maxArrayLength: 100,
    maxStringLength: 10000,
    breakLength: 80,
    compact: 3,
    sorted: false,
    getters: false,
    numericSeparator: false,
  };
  const OBJECT = 0;
  /** An array element: printed without its index. */
  const ARRAY = 1;
  /** A non-index key of an array: printed with its name; arrays group their elements. */
  const ARRAY_EXTRAS = 2;
  const ObjectToString = P.ObjectPrototypeToString;
  const FunctionToString = P.FunctionPrototypeToString;
  const hasOwn = (o, k) => P.ObjectPrototypeHasOwnProperty(o, k);
  const KEY_IDENT = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
  const BUILT_INS = new P.SafeSet(
    P.AnyFilter(P.ObjectGetOwnPropertyNames(globalThis), (n) => P.AnyTest(/^[A-Z][a-zA-Z0-9]+$/, n)),
  );

  // ---- strings --------------------------------------------------------------------------
  const META = [];
  for (let i = 0; i < 0x20; i++) P.AnyPush(META, `\\x${P.StringPrototypePadStart(P.StringPrototypeToUpperCase(P.AnyToString(i, 16)), 2, "0")}`);
  META[8] = "\\b";
  META[9] = "\\t";
  META[10] = "\\n";
  META[12] = "\\f";
  META[13] = "\\r";

  function strEscape(str) {
    let quote = "'";
    if (P.AnyIncludes(str, "'")) {
      if (!P.AnyIncludes(str, '"')) quote = '"';
      else if (!P.AnyIncludes(str, "`") && !P.AnyIncludes(str, "${")) quote = "`";
    }
    let out = "";
    for (let i = 0; i < str.length; i++) {
      const c = P.StringPrototypeCharCodeAt(str, i);
      const ch = str[i];
      if (ch === quote || ch === "\\") out += "\\" + ch;
      else if (c < 0x20 || c === 0x7f) out += c === 0x7f ? "\\x7F" : META[c];
      else out += ch;
    }
    return quote + out + quote;
  }

  function formatNumber(n, numericSeparator) {
    if (P.ObjectIs(n, -0)) return "-0";
    if (!numericSeparator) return `${n}`;
    return `${n}`;
  }

  function formatPrimitive(ctx, value) {
    switch (typeof value) {
      case "string": {
        let trailer = "";
        let v = value;
        if (v.length > ctx.maxStringLength) {
          const remaining = v.length - ctx.maxStringLength;
          v = P.AnySlice(v, 0, ctx.maxStringLength);
          trailer = `... ${remaining} more character${remaining > 1 ? "s" : ""}`;
        }
        if (ctx.compact !== true && v.length > 16 && v.length > ctx.breakLength - ctx.indentationLvl - 4) {
          const lines = P.AnySplit(v, /(?<=\n)/);
          if (lines.length > 1) {
            return P.AnyJoin(P.AnyMap(lines, (l) => strEscape(l)), ` +\n${P.StringPrototypeRepeat(" ", ctx.indentationLvl + 2)}`) + trailer;
          }
        }
        return strEscape(v) + trailer;
      }
      case "number":
        return formatNumber(value, ctx.numericSeparator);
      case "bigint":
        return `${value}n`;
      case "boolean":
        return `${value}`;
      case "undefined":
        return "undefined";
      default:
        return P.AnyToString(value); // symbol
    }
  }

  // ---- objects --------------------------------------------------------------------------
  function constructorName(obj) {
    let o = obj;
    while (o !== null && o !== undefined) {
      const d = P.ObjectGetOwnPropertyDescriptor(o, "constructor");
      if (d !== undefined && typeof d.value === "function" && d.value.name !== "") {
        return d.value.name;
      }
      o = P.ObjectGetPrototypeOf(o);
    }
    return null;
  }

  function prefix(constructor, tag, fallback, size = "") {
    if (constructor === null) {
      if (tag !== "" && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
      return `[${fallback}${size}: null prototype] `;
    }
    if (tag !== "" && constructor !== tag) return `${constructor}${size} [${tag}] `;
    return `${constructor}${size} `;
  }

  function keysOf(value, showHidden) {
    const symbols = P.ObjectGetOwnPropertySymbols(value);
    if (showHidden) return [...P.ObjectGetOwnPropertyNames(value), ...symbols];
    const keys = P.ObjectKeys(value);
    for (const s of symbols) {
      if (P.ObjectPrototypePropertyIsEnumerable(value, s)) P.AnyPush(keys, s);
    }
    return keys;
  }

  function nonIndexKeys(value, showHidden) {
    return P.AnyFilter(keysOf(value, showHidden), (k) => typeof k === "symbol" || !P.AnyTest(/^(0|[1-9][0-9]*)$/, k) || +k >= value.length);
  }

  function functionBase(value, constructor, tag) {
    const source = FunctionToString(value);
    if (P.StringPrototypeStartsWith(source, "class") && P.StringPrototypeEndsWith(source, "}")) {
      const body = P.AnySlice(source, 5, -1);
      const brace = P.AnyIndexOf(body, "{");
      const head = brace === -1 ? body : P.AnySlice(body, 0, brace);
      let base = `[class ${value.name || "(anonymous)"}`;
      const ext = P.RegExpPrototypeExec(/extends\s+([\w$.]+)/, head);
      if (ext) base += ` extends ${ext[1]}`;
      if (constructor !== "Function" && constructor !== null) base += ` [${constructor}]`;
      if (tag !== "" && constructor !== tag) base += ` [${tag}]`;
      if (constructor === null) base += " (null prototype)";
      return base + "]";
    }
    let type = "Function";
    if (core.isGeneratorFunction(value)) type = `Generator${type}`;
    if (core.isAsyncFunction(value)) type = `Async${type}`;
    let base = `[${type}`;
    if (constructor === null) base += " (null prototype)";
    base += value.name === "" ? " (anonymous)" : `: ${value.name}`;
    base += "]";
    if (constructor !== type && constructor !== null) base += ` ${constructor}`;
    if (tag !== "" && constructor !== tag) base += ` [${tag}]`;
    return base;
  }

  function formatValue(ctx, value, recurseTimes, typedArray) {
    if (typeof value !== "object" && typeof value !== "function") return formatPrimitive(ctx, value);
    if (value === null) return "null";
    if (ctx.customInspect) {
      const fn = value[CUSTOM];
      if (typeof fn === "function" && fn !== inspect && !(P.ObjectGetOwnPropertyDescriptor(value, "constructor")?.value?.prototype === value)) {
        const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
        const result = P.FunctionPrototypeCall(fn, value, depth, { ...ctx, stylize: (s) => s }, inspect);
        if (result !== value) {
          if (typeof result !== "string") return formatValue(ctx, result, recurseTimes);
          return P.StringPrototypeReplaceAll(result, "\n", `\n${P.StringPrototypeRepeat(" ", ctx.indentationLvl)}`);
        }
      }
    }
    if (P.AnyIncludes(ctx.seen, value)) {
      let index = 1;
      if (ctx.circular === undefined) {
        ctx.circular = new P.SafeMap([[value, index]]);
      } else {
        index = ctx.circular.get(value);
        if (index === undefined) {
          index = ctx.circular.size + 1;
          ctx.circular.set(value, index);
        }
      }
      return `[Circular *${index}]`;
    }
    return formatRaw(ctx, value, recurseTimes, typedArray);
  }

  function formatRaw(ctx, value, recurseTimes, typedArray) {
    let keys;
    const constructor = constructorName(value);
    let tag = value[P.SymbolToStringTag];
    // Only shown when it is not an own (enumerable) property: that one is printed as a key.
    const own = ctx.showHidden ? hasOwn : (o, k) => P.ObjectPrototypePropertyIsEnumerable(o, k);
    if (typeof tag !== "string" || (tag !== "" && own(value, P.SymbolToStringTag))) tag = "";
    let base = "";
    let formatter = () => [];
    let braces;
    let noIterator = true;
    let extrasType = OBJECT;
    if (typeof value[P.SymbolIterator] === "function" || constructor === null) {
      noIterator = false;
      if (P.ArrayIsArray(value)) {
        const pre = constructor !== "Array" || tag !== "" ? prefix(constructor, tag, "Array", `(${value.length})`) : "";
        keys = nonIndexKeys(value, ctx.showHidden);
        braces = [`${pre}[`, "]"];
        if (value.length === 0 && keys.length === 0) return `${braces[0]}]`;
        extrasType = ARRAY_EXTRAS;
        formatter = formatArray;
      } else if (core.isSet(value)) {
        keys = keysOf(value, ctx.showHidden);
        const pre = prefix(constructor, tag, "Set", `(${value.size})`);
        formatter = formatSet;
        if (value.size === 0 && keys.length === 0) return `${pre}{}`;
        braces = [`${pre}{`, "}"];
      } else if (core.isMap(value)) {
        keys = keysOf(value, ctx.showHidden);
        const pre = prefix(constructor, tag, "Map", `(${value.size})`);
        formatter = formatMap;
        if (value.size === 0 && keys.length === 0) return `${pre}{}`;
        braces = [`${pre}{`, "}"];
      } else if (core.isTypedArray(value)) {
        keys = nonIndexKeys(value, ctx.showHidden);
        const fallback = constructor === null ? value[P.SymbolToStringTag] : "";
        const pre = prefix(constructor, tag, fallback, `(${value.length})`);
        braces = [`${pre}[`, "]"];
        if (value.length === 0 && keys.length === 0 && !ctx.showHidden) return `${braces[0]}]`;
        formatter = formatTypedArray;
        extrasType = ARRAY_EXTRAS;
      } else {
        noIterator = true;
      }
    }
    if (noIterator) {
      keys = keysOf(value, ctx.showHidden);
      braces = ["{", "}"];
      if (constructor === "Object") {
        if (core.isArgumentsObject(value)) braces[0] = "[Arguments] [";
        else if (tag !== "") braces[0] = `${prefix(constructor, tag, "Object")}{`;
        if (keys.length === 0) return `${braces[0]}}`;
      } else if (typeof value === "function") {
        base = functionBase(value, constructor, tag);
        if (keys.length === 0) return base;
      } else if (core.isRegExp(value)) {
        base = P.RegExpPrototypeToString(value);
        const pre = prefix(constructor, tag, "RegExp");
        if (pre !== "RegExp ") base = `${pre}${base}`;
        if (keys.length === 0) return base;
      } else if (core.isDate(value)) {
        base = P.NumberIsNaN(P.DatePrototypeGetTime(value)) ? P.DatePrototypeToString(value) : P.DatePrototypeToISOString(value);
        const pre = prefix(constructor, tag, "Date");
        if (pre !== "Date ") base = `${pre}${base}`;
        if (keys.length === 0) return base;
      } else if (core.isNativeError(value) || value instanceof P.Error) {
        base = formatError(value);
        keys = P.AnyFilter(keys, (k) => k !== "stack" && k !== "message");
        if (keys.length === 0) return base;
      } else if (core.isAnyArrayBuffer(value)) {
        const name = core.isArrayBuffer(value) ? "ArrayBuffer" : "SharedArrayBuffer";
        const pre = prefix(constructor, tag, name);
        formatter = () => {
          const bytes = new P.Uint8Array(value, 0, P.MathMin(ctx.maxArrayLength, value.byteLength));
          let hex = P.AnyJoin(P.ArrayFrom(bytes, (b) => P.StringPrototypePadStart(P.AnyToString(b, 16), 2, "0")), " ");
          const remaining = value.byteLength - bytes.length;
          if (remaining > 0) hex += ` ... ${remaining} more byte${remaining > 1 ? "s" : ""}`;
          return [`[Uint8Contents]: <${hex}>`, `byteLength: ${value.byteLength}`];
        };
        braces = [`${pre}{`, "}"];
      } else if (core.isPromise(value)) {
        braces[0] = `${prefix(constructor, tag, "Promise")}{`;
        formatter = formatPromise;
      } else if (core.isWeakSet(value) || core.isWeakMap(value)) {
        braces[0] = `${prefix(constructor, tag, core.isWeakSet(value) ? "WeakSet" : "WeakMap")}{`;
        formatter = () => ["<items unknown>"];
      } else if (core.isBoxedPrimitive(value)) {
        const prim = value.valueOf();
        const type = typeof prim === "string" ? "String" : typeof prim === "number" ? "Number" : typeof prim === "boolean" ? "Boolean" : typeof prim === "bigint" ? "BigInt" : "Symbol";
        base = `[${type}: ${formatPrimitive({ ...ctx, compact: true }, prim)}]`;
        if (type === "String") keys = P.AnyFilter(keys, (k) => !P.AnyTest(/^\d+$/, k) && k !== "length");
        if (keys.length === 0) return base;
      } else {
        if (keys.length === 0) return `${prefix(constructor, tag, "Object")}{}`;
        braces[0] = `${prefix(constructor, tag, "Object")}{`;
      }
    }
    if (ctx.depth !== null && recurseTimes > ctx.depth) {
      let name = P.AnySlice(prefix(constructor, tag, "Object"), 0, -1);
      if (P.ArrayIsArray(value)) name = P.AnySlice(prefix(constructor, tag, "Array"), 0, -1);
      return constructor !== null ? `[${name}]` : name;
    }
    recurseTimes += 1;
    P.AnyPush(ctx.seen, value);
    ctx.currentDepth = recurseTimes;
    let output;
    try {
      output = formatter(ctx, value, recurseTimes);
      for (let i = 0; i < keys.length; i++) {
        P.AnyPush(output, formatProperty(ctx, value, recurseTimes, keys[i], extrasType));
      }
    } finally {
      P.AnyPop(ctx.seen);
    }
    if (ctx.circular !== undefined) {
      const index = ctx.circular.get(value);
      if (index !== undefined) {
        const reference = `<ref *${index}>`;
        base = base === "" ? reference : `${reference} ${base}`;
      }
    }
    if (ctx.sorted) {
      const cmp = ctx.sorted === true ? undefined : ctx.sorted;
      if (extrasType === OBJECT) output = P.ArrayPrototypeSort(output, cmp);
    }
    return reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
  }

  function formatError(err) {
    const stack = typeof err.stack === "string" && err.stack !== "" ? err.stack : P.ErrorPrototypeToString(err);
    return stack;
  }

  function formatProperty(ctx, value, recurseTimes, key, type) {
    let str;
    const desc = P.ObjectGetOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
    if (desc.value !== undefined) {
      const diff = ctx.compact !== true || type !== OBJECT ? 2 : 3;
      ctx.indentationLvl += diff;
      str = formatValue(ctx, desc.value, recurseTimes);
      ctx.indentationLvl -= diff;
    } else if (desc.get !== undefined) {
      str = desc.set !== undefined ? "[Getter/Setter]" : "[Getter]";
    } else if (desc.set !== undefined) {
      str = "[Setter]";
    } else {
      str = "undefined";
    }
    if (type === ARRAY) return str;
    let name;
    if (typeof key === "symbol") name = `[${P.AnyToString(key)}]`;
    else if (key === "__proto__") name = "['__proto__']";
    else if (desc.enumerable === false) name = `[${P.AnyTest(KEY_IDENT, key) ? key : strEscape(key)}]`;
    else if (P.AnyTest(KEY_IDENT, key)) name = key;
    else name = strEscape(key);
    return `${name}: ${str}`;
  }

  function formatArray(ctx, value, recurseTimes) {
    const len = P.MathMin(P.MathMax(0, ctx.maxArrayLength), value.length);
    const remaining = value.length - len;
    const output = [];
    let holes = 0;
    const flushHoles = () => {
      if (holes > 0) {
        P.AnyPush(output, `<${holes} empty item${holes > 1 ? "s" : ""}>`);
        holes = 0;
      }
    };
    for (let i = 0; i < len; i++) {
      if (!hasOwn(value, i)) {
        holes++;
        continue;
      }
      flushHoles();
      P.AnyPush(output, formatProperty(ctx, value, recurseTimes, i, ARRAY));
    }
    flushHoles();
    if (remaining > 0) P.AnyPush(output, `... ${remaining} more item${remaining > 1 ? "s" : ""}`);
    return output;
  }

  function formatTypedArray(ctx, value) {
    const len = P.MathMin(P.MathMax(0, ctx.maxArrayLength), value.length);
    const remaining = value.length - len;
    const output = [];
    for (let i = 0; i < len; i++) {
      P.AnyPush(output, typeof value[i] === "bigint" ? `${value[i]}n` : formatNumber(value[i], ctx.numericSeparator));
    }
    if (remaining > 0) P.AnyPush(output, `... ${remaining} more item${remaining > 1 ? "s" : ""}`);
    return output;
  }

  function formatSet(ctx, value, recurseTimes) {
    const output = [];
    ctx.indentationLvl += 2;
    for (const v of value) P.AnyPush(output, formatValue(ctx, v, recurseTimes));
    ctx.indentationLvl -= 2;
    return output;
  }

  function formatMap(ctx, value, recurseTimes) {
    const output = [];
    ctx.indentationLvl += 2;
    for (const [k, v] of value) {
      P.AnyPush(output, `${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
    }
    ctx.indentationLvl -= 2;
    return output;
  }

  function formatPromise(ctx, value, recurseTimes) {
    const [state, result] = core.getPromiseDetails(value);
    if (state === 0) return ["<pending>"];
    ctx.indentationLvl += 2;
    const str = formatValue(ctx, result, recurseTimes);
    ctx.indentationLvl -= 2;
    return [state === 2 ? `<rejected> ${str}` : str];
  }

  function groupArrayElements(ctx, output, value) {
    let totalLength = 0;
    let maxLength = 0;
    let outputLength = output.length;
    if (ctx.maxArrayLength < output.length) outputLength--;
    const separatorSpace = 2;
    const dataLen = new P.Array(outputLength);
    for (let i = 0; i < outputLength; i++) {
      const len = output[i].length;
      dataLen[i] = len;
      totalLength += len + separatorSpace;
      if (maxLength < len) maxLength = len;
    }
    const actualMax = maxLength + separatorSpace;
    if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength && (totalLength / actualMax > 5 || maxLength <= 6)) {
      const averageBias = P.MathSqrt(actualMax - totalLength / output.length);
      const biasedMax = P.MathMax(actualMax - 3 - averageBias, 1);
      const columns = P.MathMin(
        P.MathRound(P.MathSqrt(2.5 * biasedMax * outputLength) / biasedMax),
        P.MathFloor((ctx.breakLength - ctx.indentationLvl) / actualMax),
        ctx.compact * 4,
        15,
      );
      if (columns <= 1) return output;
      const tmp = [];
      const maxLineLength = [];
      for (let i = 0; i < columns; i++) {
        let lineLength = 0;
        for (let j = i; j < output.length; j += columns) {
          if (dataLen[j] > lineLength) lineLength = dataLen[j];
        }
        P.AnyPush(maxLineLength, lineLength + separatorSpace);
      }
      let padStart = true;
      if (value !== undefined) {
        for (let i = 0; i < output.length; i++) {
          if (typeof value[i] !== "number" && typeof value[i] !== "bigint") {
            padStart = false;
            break;
          }
        }
      }
      for (let i = 0; i < outputLength; i += columns) {
        const max = P.MathMin(i + columns, outputLength);
        let str = "";
        let j = i;
        for (; j < max - 1; j++) {
          const padding = maxLineLength[j - i];
          str += padStart ? P.StringPrototypePadStart(`${output[j]}, `, padding, " ") : P.StringPrototypePadEnd(`${output[j]}, `, padding, " ");
        }
        if (padStart) str += P.StringPrototypePadStart(output[j], maxLineLength[j - i] - separatorSpace, " ");
        else str += output[j];
        P.AnyPush(tmp, str);
      }
      if (ctx.maxArrayLength < output.length) P.AnyPush(tmp, output[outputLength]);
      output = tmp;
    }
    return output;
  }

  function isBelowBreakLength(ctx, output, start, base) {
    let totalLength = output.length + start;
    if (totalLength + output.length > ctx.breakLength) return false;
    for (let i = 0; i < output.length; i++) {
      totalLength += output[i].length;
      if (totalLength > ctx.breakLength) return false;
    }
    return base === "" || !P.AnyIncludes(base, "\n");
  }

  function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
    if (ctx.compact !== true) {
      if (typeof ctx.compact === "number" && ctx.compact >= 1) {
        const entries = output.length;
        if (extrasType === ARRAY_EXTRAS && entries > 6) output = groupArrayElements(ctx, output, value);
        if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
          const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
          if (isBelowBreakLength(ctx, output, start, base)) {
            const joined = P.AnyJoin(output, ", ");
            if (!P.AnyIncludes(joined, "\n")) {
              return `${base ? `${base} ` : ""}${braces[0]} ${joined} ${braces[1]}`;
            }
          }
        }
      }
      const indentation = `\n${P.StringPrototypeRepeat(" ", ctx.indentationLvl)}`;
      return `${base ? `${base} ` : ""}${braces[0]}${indentation}  ${P.AnyJoin(output, `,${indentation}  `)}${indentation}${braces[1]}`;
    }
    if (isBelowBreakLength(ctx, output, 0, base)) {
      return `${braces[0]}${base ? ` ${base}` : ""} ${P.AnyJoin(output, ", ")} ${braces[1]}`;
    }
    const indentation = P.StringPrototypeRepeat(" ", ctx.indentationLvl);
    const ln = base === "" && braces[0].length === 1 ? " " : `${base ? ` ${base}` : ""}\n${indentation}  `;
    return `${braces[0]}${ln}${P.AnyJoin(output, `,\n${indentation}  `)} ${braces[1]}`;
  }

  /** `util.inspect(value, options)` (or the legacy `(value, showHidden, depth, colors)`). */
  function inspect(value, opts) {
    const ctx = {
      ...DEFAULTS,
      ...inspect.defaultOptions,
      seen: [],
      indentationLvl: 0,
      currentDepth: 0,
      circular: undefined,
    };
    if (arguments.length > 1 && (typeof opts !== "object" || opts === null)) {
      if (typeof opts === "boolean") ctx.showHidden = opts;
      if (arguments.length >= 3 && arguments[2] !== undefined) ctx.depth = arguments[2];
    } else if (opts !== null && typeof opts === "object") {
      for (const k of P.ObjectKeys(opts)) {
        if (hasOwn(DEFAULTS, k) || k === "stylize") ctx[k] = opts[k];
      }
    }
    if (ctx.depth === Infinity) ctx.depth = null;
    if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
    if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
    return formatValue(ctx, value, 0);
  }
  inspect.custom = CUSTOM;
  inspect.defaultOptions = { ...DEFAULTS };
  inspect.colors = P.ObjectCreate(null);
  inspect.styles = P.ObjectCreate(null);

  function hasBuiltInToString(value) {
    if (typeof value.toString !== "function") return true;
    if (hasOwn(value, "toString")) return false;
    let pointer = value;
    do {
      pointer = P.ObjectGetPrototypeOf(pointer);
    } while (pointer !== null && !hasOwn(pointer, "toString"));
    if (pointer === null) return true;
    const d = P.ObjectGetOwnPropertyDescriptor(pointer, "constructor");
    return d !== undefined && typeof d.value === "function" && BUILT_INS.has(d.value.name);
  }

  function formatWithOptions(options, ...args) {
    const first = args[0];
    let a = 0;
    let str = "";
    let join = "";
    if (typeof first === "string") {
      if (args.length === 1) return first;
      let tempStr;
      let lastPos = 0;
      for (let i = 0; i < first.length - 1; i++) {
        if (P.StringPrototypeCharCodeAt(first, i) !== 37) continue; // '%'
        const c = P.StringPrototypeCharCodeAt(first, ++i);
        if (a + 1 !== args.length) {
          switch (c) {
            case 115: {
              // 's'
              const arg = args[++a];
              if (typeof arg === "number") tempStr = formatNumber(arg, false);
              else if (typeof arg === "bigint") tempStr = `${arg}n`;
              else if (typeof arg !== "object" || arg === null || !hasBuiltInToString(arg)) tempStr = P.String(arg);
              else tempStr = inspect(arg, { ...options, depth: 0, colors: false, compact: 3 });
              break;
            }
            case 106: // 'j'
              try {
                tempStr = P.JSONStringify(args[++a]);
              } catch (e) {
                if (P.AnyTest(/circular/i, P.String(e && e.message))) tempStr = "[Circular]";
                else throw e;
              }
              break;
            case 100: {
              // 'd'
              const n = args[++a];
              if (typeof n === "bigint") tempStr = `${n}n`;
              else if (typeof n === "symbol") tempStr = "NaN";
              else tempStr = formatNumber(P.Number(n), false);
              break;
            }
            case 79: // 'O'
              tempStr = inspect(args[++a], options);
              break;
            case 111: // 'o'
              tempStr = inspect(args[++a], { ...options, showHidden: true, showProxy: true, depth: 4 });
              break;
            case 105: {
              // 'i'
              const n = args[++a];
              if (typeof n === "bigint") tempStr = `${n}n`;
              else if (typeof n === "symbol") tempStr = "NaN";
              else tempStr = formatNumber(P.NumberParseInt(n), false);
              break;
            }
            case 102: {
              // 'f'
              const n = args[++a];
              tempStr = typeof n === "symbol" ? "NaN" : formatNumber(P.NumberParseFloat(n), false);
              break;
            }
            case 99: // 'c'
              a += 1;
              tempStr = "";
              break;
            case 37: // '%'
              str += P.AnySlice(first, lastPos, i);
              lastPos = i + 1;
              continue;
            default:
              continue;
          }
          if (lastPos !== i - 1) str += P.AnySlice(first, lastPos, i - 1);
          str += tempStr;
          lastPos = i + 1;
        } else if (c === 37) {
          str += P.AnySlice(first, lastPos, i);
          lastPos = i + 1;
        }
      }
      if (lastPos !== 0) {
        a++;
        join = " ";
        if (lastPos < first.length) str += P.AnySlice(first, lastPos);
      }
    }
    while (a < args.length) {
      const value = args[a];
      str += join;
      str += typeof value !== "string" ? inspect(value, options) : value;
      join = " ";
      a++;
    }
    return str;
  }

  I.inspect = inspect;
  I.formatWithOptions = formatWithOptions;
  I.nodeFormat = (...args) => formatWithOptions(undefined, ...args);
  I.objectToString = ObjectToString;
})(globalThis);
