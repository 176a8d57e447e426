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
  const ObjectToString = Function.prototype.call.bind(Object.prototype.toString);
  const FunctionToString = Function.prototype.call.bind(Function.prototype.toString);
  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const KEY_IDENT = /^[a-zA-Z_][a-zA-Z_0-9]*$/;
  const BUILT_INS = new Set(
    Object.getOwnPropertyNames(globalThis).filter((n) => /^[A-Z][a-zA-Z0-9]+$/.test(n)),
  );

  // ---- strings --------------------------------------------------------------------------
  const META = [];
  for (let i = 0; i < 0x20; i++) META.push(`\\x${i.toString(16).toUpperCase().padStart(2, "0")}`);
  META[8] = "\\b";
  META[9] = "\\t";
  META[10] = "\\n";
  META[12] = "\\f";
  META[13] = "\\r";

  function strEscape(str) {
    let quote = "'";
    if (str.includes("'")) {
      if (!str.includes('"')) quote = '"';
      else if (!str.includes("`") && !str.includes("${")) quote = "`";
    }
    let out = "";
    for (let i = 0; i < str.length; i++) {
      const c = str.charCodeAt(i);
      const ch = str[i];
      if (ch === quote || ch === "\\") out += "\\" + ch;
      else if (c < 0x20 || c === 0x7f) out += c === 0x7f ? "\\x7F" : META[c];
      else out += ch;
    }
    return quote + out + quote;
  }

  function formatNumber(n, numericSeparator) {
    if (Object.is(n, -0)) return "-0";
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
          v = v.slice(0, ctx.maxStringLength);
          trailer = `... ${remaining} more character${remaining > 1 ? "s" : ""}`;
        }
        if (ctx.compact !== true && v.length > 16 && v.length > ctx.breakLength - ctx.indentationLvl - 4) {
          const lines = v.split(/(?<=\n)/);
          if (lines.length > 1) {
            return lines.map((l) => strEscape(l)).join(` +\n${" ".repeat(ctx.indentationLvl + 2)}`) + trailer;
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
        return value.toString(); // symbol
    }
  }

  // ---- objects --------------------------------------------------------------------------
  function constructorName(obj) {
    let o = obj;
    while (o !== null && o !== undefined) {
      const d = Object.getOwnPropertyDescriptor(o, "constructor");
      if (d !== undefined && typeof d.value === "function" && d.value.name !== "") {
        return d.value.name;
      }
      o = Object.getPrototypeOf(o);
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
    const symbols = Object.getOwnPropertySymbols(value);
    if (showHidden) return [...Object.getOwnPropertyNames(value), ...symbols];
    const keys = Object.keys(value);
    for (const s of symbols) {
      if (Object.prototype.propertyIsEnumerable.call(value, s)) keys.push(s);
    }
    return keys;
  }

  function nonIndexKeys(value, showHidden) {
    return keysOf(value, showHidden).filter((k) => typeof k === "symbol" || !/^(0|[1-9][0-9]*)$/.test(k) || +k >= value.length);
  }

  function functionBase(value, constructor, tag) {
    const source = FunctionToString(value);
    if (source.startsWith("class") && source.endsWith("}")) {
      const body = source.slice(5, -1);
      const brace = body.indexOf("{");
      const head = brace === -1 ? body : body.slice(0, brace);
      let base = `[class ${value.name || "(anonymous)"}`;
      const ext = /extends\s+([\w$.]+)/.exec(head);
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
      if (typeof fn === "function" && fn !== inspect && !(Object.getOwnPropertyDescriptor(value, "constructor")?.value?.prototype === value)) {
        const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
        const result = fn.call(value, depth, { ...ctx, stylize: (s) => s }, inspect);
        if (result !== value) {
          if (typeof result !== "string") return formatValue(ctx, result, recurseTimes);
          return result.replaceAll("\n", `\n${" ".repeat(ctx.indentationLvl)}`);
        }
      }
    }
    if (ctx.seen.includes(value)) {
      let index = 1;
      if (ctx.circular === undefined) {
        ctx.circular = new Map([[value, index]]);
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
    let tag = value[Symbol.toStringTag];
    // Only shown when it is not an own (enumerable) property: that one is printed as a key.
    const own = ctx.showHidden ? hasOwn : (o, k) => Object.prototype.propertyIsEnumerable.call(o, k);
    if (typeof tag !== "string" || (tag !== "" && own(value, Symbol.toStringTag))) tag = "";
    let base = "";
    let formatter = () => [];
    let braces;
    let noIterator = true;
    let extrasType = OBJECT;
    if (typeof value[Symbol.iterator] === "function" || constructor === null) {
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
        const fallback = constructor === null ? value[Symbol.toStringTag] : "";
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
        base = RegExp.prototype.toString.call(value);
        const pre = prefix(constructor, tag, "RegExp");
        if (pre !== "RegExp ") base = `${pre}${base}`;
        if (keys.length === 0) return base;
      } else if (core.isDate(value)) {
        base = Number.isNaN(value.getTime()) ? Date.prototype.toString.call(value) : Date.prototype.toISOString.call(value);
        const pre = prefix(constructor, tag, "Date");
        if (pre !== "Date ") base = `${pre}${base}`;
        if (keys.length === 0) return base;
      } else if (core.isNativeError(value) || value instanceof Error) {
        base = formatError(value);
        keys = keys.filter((k) => k !== "stack" && k !== "message");
        if (keys.length === 0) return base;
      } else if (core.isAnyArrayBuffer(value)) {
        const name = core.isArrayBuffer(value) ? "ArrayBuffer" : "SharedArrayBuffer";
        const pre = prefix(constructor, tag, name);
        formatter = () => {
          const bytes = new Uint8Array(value, 0, Math.min(ctx.maxArrayLength, value.byteLength));
          let hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
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
        if (type === "String") keys = keys.filter((k) => !/^\d+$/.test(k) && k !== "length");
        if (keys.length === 0) return base;
      } else {
        if (keys.length === 0) return `${prefix(constructor, tag, "Object")}{}`;
        braces[0] = `${prefix(constructor, tag, "Object")}{`;
      }
    }
    if (ctx.depth !== null && recurseTimes > ctx.depth) {
      let name = prefix(constructor, tag, "Object").slice(0, -1);
      if (P.ArrayIsArray(value)) name = prefix(constructor, tag, "Array").slice(0, -1);
      return constructor !== null ? `[${name}]` : name;
    }
    recurseTimes += 1;
    ctx.seen.push(value);
    ctx.currentDepth = recurseTimes;
    let output;
    try {
      output = formatter(ctx, value, recurseTimes);
      for (let i = 0; i < keys.length; i++) {
        output.push(formatProperty(ctx, value, recurseTimes, keys[i], extrasType));
      }
    } finally {
      ctx.seen.pop();
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
      if (extrasType === OBJECT) output = output.sort(cmp);
    }
    return reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
  }

  function formatError(err) {
    const stack = typeof err.stack === "string" && err.stack !== "" ? err.stack : Error.prototype.toString.call(err);
    return stack;
  }

  function formatProperty(ctx, value, recurseTimes, key, type) {
    let str;
    const desc = Object.getOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
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
    if (typeof key === "symbol") name = `[${key.toString()}]`;
    else if (key === "__proto__") name = "['__proto__']";
    else if (desc.enumerable === false) name = `[${KEY_IDENT.test(key) ? key : strEscape(key)}]`;
    else if (KEY_IDENT.test(key)) name = key;
    else name = strEscape(key);
    return `${name}: ${str}`;
  }

  function formatArray(ctx, value, recurseTimes) {
    const len = Math.min(Math.max(0, ctx.maxArrayLength), value.length);
    const remaining = value.length - len;
    const output = [];
    let holes = 0;
    const flushHoles = () => {
      if (holes > 0) {
        output.push(`<${holes} empty item${holes > 1 ? "s" : ""}>`);
        holes = 0;
      }
    };
    for (let i = 0; i < len; i++) {
      if (!hasOwn(value, i)) {
        holes++;
        continue;
      }
      flushHoles();
      output.push(formatProperty(ctx, value, recurseTimes, i, ARRAY));
    }
    flushHoles();
    if (remaining > 0) output.push(`... ${remaining} more item${remaining > 1 ? "s" : ""}`);
    return output;
  }

  function formatTypedArray(ctx, value) {
    const len = Math.min(Math.max(0, ctx.maxArrayLength), value.length);
    const remaining = value.length - len;
    const output = [];
    for (let i = 0; i < len; i++) {
      output.push(typeof value[i] === "bigint" ? `${value[i]}n` : formatNumber(value[i], ctx.numericSeparator));
    }
    if (remaining > 0) output.push(`... ${remaining} more item${remaining > 1 ? "s" : ""}`);
    return output;
  }

  function formatSet(ctx, value, recurseTimes) {
    const output = [];
    ctx.indentationLvl += 2;
    for (const v of value) output.push(formatValue(ctx, v, recurseTimes));
    ctx.indentationLvl -= 2;
    return output;
  }

  function formatMap(ctx, value, recurseTimes) {
    const output = [];
    ctx.indentationLvl += 2;
    for (const [k, v] of value) {
      output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
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
    const dataLen = new Array(outputLength);
    for (let i = 0; i < outputLength; i++) {
      const len = output[i].length;
      dataLen[i] = len;
      totalLength += len + separatorSpace;
      if (maxLength < len) maxLength = len;
    }
    const actualMax = maxLength + separatorSpace;
    if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength && (totalLength / actualMax > 5 || maxLength <= 6)) {
      const averageBias = Math.sqrt(actualMax - totalLength / output.length);
      const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
      const columns = Math.min(
        Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
        Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
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
        maxLineLength.push(lineLength + separatorSpace);
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
        const max = Math.min(i + columns, outputLength);
        let str = "";
        let j = i;
        for (; j < max - 1; j++) {
          const padding = maxLineLength[j - i];
          str += padStart ? `${output[j]}, `.padStart(padding, " ") : `${output[j]}, `.padEnd(padding, " ");
        }
        if (padStart) str += output[j].padStart(maxLineLength[j - i] - separatorSpace, " ");
        else str += output[j];
        tmp.push(str);
      }
      if (ctx.maxArrayLength < output.length) tmp.push(output[outputLength]);
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
    return base === "" || !base.includes("\n");
  }

  function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
    if (ctx.compact !== true) {
      if (typeof ctx.compact === "number" && ctx.compact >= 1) {
        const entries = output.length;
        if (extrasType === ARRAY_EXTRAS && entries > 6) output = groupArrayElements(ctx, output, value);
        if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
          const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
          if (isBelowBreakLength(ctx, output, start, base)) {
            const joined = output.join(", ");
            if (!joined.includes("\n")) {
              return `${base ? `${base} ` : ""}${braces[0]} ${joined} ${braces[1]}`;
            }
          }
        }
      }
      const indentation = `\n${" ".repeat(ctx.indentationLvl)}`;
      return `${base ? `${base} ` : ""}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
    }
    if (isBelowBreakLength(ctx, output, 0, base)) {
      return `${braces[0]}${base ? ` ${base}` : ""} ${output.join(", ")} ${braces[1]}`;
    }
    const indentation = " ".repeat(ctx.indentationLvl);
    const ln = base === "" && braces[0].length === 1 ? " " : `${base ? ` ${base}` : ""}\n${indentation}  `;
    return `${braces[0]}${ln}${output.join(`,\n${indentation}  `)} ${braces[1]}`;
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
      pointer = Object.getPrototypeOf(pointer);
    } while (pointer !== null && !hasOwn(pointer, "toString"));
    if (pointer === null) return true;
    const d = Object.getOwnPropertyDescriptor(pointer, "constructor");
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
        if (first.charCodeAt(i) !== 37) continue; // '%'
        const c = first.charCodeAt(++i);
        if (a + 1 !== args.length) {
          switch (c) {
            case 115: {
              // 's'
              const arg = args[++a];
              if (typeof arg === "number") tempStr = formatNumber(arg, false);
              else if (typeof arg === "bigint") tempStr = `${arg}n`;
              else if (typeof arg !== "object" || arg === null || !hasBuiltInToString(arg)) tempStr = String(arg);
              else tempStr = inspect(arg, { ...options, depth: 0, colors: false, compact: 3 });
              break;
            }
            case 106: // 'j'
              try {
                tempStr = JSON.stringify(args[++a]);
              } catch (e) {
                if (/circular/i.test(String(e && e.message))) tempStr = "[Circular]";
                else throw e;
              }
              break;
            case 100: {
              // 'd'
              const n = args[++a];
              if (typeof n === "bigint") tempStr = `${n}n`;
              else if (typeof n === "symbol") tempStr = "NaN";
              else tempStr = formatNumber(Number(n), false);
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
              else tempStr = formatNumber(Number.parseInt(n), false);
              break;
            }
            case 102: {
              // 'f'
              const n = args[++a];
              tempStr = typeof n === "symbol" ? "NaN" : formatNumber(Number.parseFloat(n), false);
              break;
            }
            case 99: // 'c'
              a += 1;
              tempStr = "";
              break;
            case 37: // '%'
              str += first.slice(lastPos, i);
              lastPos = i + 1;
              continue;
            default:
              continue;
          }
          if (lastPos !== i - 1) str += first.slice(lastPos, i - 1);
          str += tempStr;
          lastPos = i + 1;
        } else if (c === 37) {
          str += first.slice(lastPos, i);
          lastPos = i + 1;
        }
      }
      if (lastPos !== 0) {
        a++;
        join = " ";
        if (lastPos < first.length) str += first.slice(lastPos);
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
