// 46_event.js - the DOM event primitives Node and browsers both have and libraries build on:
// Event, CustomEvent, EventTarget (add/removeEventListener with `once`, dispatchEvent) and
// DOMException (name -> legacy code).
"use strict";
((globalThis) => {
  const I = globalThis.__isobot_internal;
  const { P } = I;

  const define = I.defineGlobal;

  const DOM_CODES = {
    IndexSizeError: 1,
    HierarchyRequestError: 3,
    WrongDocumentError: 4,
    InvalidCharacterError: 5,
    NoModificationAllowedError: 7,
    NotFoundError: 8,
    NotSupportedError: 9,
    InvalidStateError: 11,
    SyntaxError: 12,
    InvalidModificationError: 13,
    NamespaceError: 14,
    InvalidAccessError: 15,
    TypeMismatchError: 17,
    SecurityError: 18,
    NetworkError: 19,
    AbortError: 20,
    URLMismatchError: 21,
    QuotaExceededError: 22,
    TimeoutError: 23,
    InvalidNodeTypeError: 24,
    DataCloneError: 25,
  };

  class DOMException extends P.Error {
    #name;
    constructor(message = "", options = "Error") {
      super(P.StringCtor(message), typeof options === "object" && options !== null && "cause" in options ? { cause: options.cause } : undefined);
      this.#name = typeof options === "object" && options !== null ? P.StringCtor(options.name ?? "Error") : P.StringCtor(options);
    }
    get name() {
      return this.#name;
    }
    get code() {
      return DOM_CODES[this.#name] ?? 0;
    }
  }
  for (const [name, code] of P.ObjectEntries(DOM_CODES)) {
    const key = P.AnyReplace(P.StringPrototypeToUpperCase(P.AnyReplace(name, /([a-z])([A-Z])/g, "$1_$2")), /_ERROR$/, "_ERR");
    P.ObjectDefineProperty(DOMException, key, { __proto__: null, value: code, enumerable: true });
  }

  class Event {
    #type;
    #stop = false;
    constructor(type, init = {}) {
      if (arguments.length === 0) throw new P.TypeErrorCtor("Event: the type argument is required");
      this.#type = P.StringCtor(type);
      this.bubbles = !!init.bubbles;
      this.cancelable = !!init.cancelable;
      this.composed = !!init.composed;
      this.defaultPrevented = false;
      this.timeStamp = P.DateNow();
      this.isTrusted = false;
      this.target = null;
      this.currentTarget = null;
      this.eventPhase = 0;
    }
    get type() {
      return this.#type;
    }
    get srcElement() {
      return this.target;
    }
    preventDefault() {
      if (this.cancelable) this.defaultPrevented = true;
    }
    stopPropagation() {}
    stopImmediatePropagation() {
      this.#stop = true;
    }
    composedPath() {
      return this.target ? [this.target] : [];
    }
    static _stopped(e) {
      return e.#stop;
    }
  }
  Event.NONE = 0;
  Event.CAPTURING_PHASE = 1;
  Event.AT_TARGET = 2;
  Event.BUBBLING_PHASE = 3;

  class CustomEvent extends Event {
    constructor(type, init = {}) {
      super(type, init);
      this.detail = init.detail ?? null;
    }
  }

  class EventTarget {
    #listeners = new P.SafeMap();
    addEventListener(type, listener, options) {
      if (listener === null || listener === undefined) return;
      const once = typeof options === "object" && options !== null && !!options.once;
      const signal = typeof options === "object" && options !== null ? options.signal : undefined;
      let list = P.MapPrototypeGet(this.#listeners, type);
      if (list === undefined) {
        list = [];
        P.MapPrototypeSet(this.#listeners, type, list);
      }
      if (P.AnySome(list, (l) => l.listener === listener)) return;
      P.AnyPush(list, { listener, once });
      if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, listener));
    }
    removeEventListener(type, listener) {
      const list = P.MapPrototypeGet(this.#listeners, type);
      if (list === undefined) return;
      const i = P.AnyFindIndex(list, (l) => l.listener === listener);
      if (i >= 0) P.AnySplice(list, i, 1);
    }
    dispatchEvent(event) {
      try {
        P.ObjectDefineProperty(event, "target", { __proto__: null, value: this, configurable: true, writable: true });
        P.ObjectDefineProperty(event, "currentTarget", { __proto__: null, value: this, configurable: true, writable: true });
      } catch {
        // A frozen event keeps its own target.
      }
      const list = P.MapPrototypeGet(this.#listeners, event.type);
      if (list !== undefined) {
        for (const l of P.AnySlice(list)) {
          if (l.once) this.removeEventListener(event.type, l.listener);
          if (typeof l.listener === "function") P.FunctionPrototypeCall(l.listener, this, event);
          else if (l.listener && typeof l.listener.handleEvent === "function") l.listener.handleEvent(event);
          if (event instanceof Event && Event._stopped(event)) break;
        }
      }
      const handler = this[`on${event.type}`];
      if (typeof handler === "function") P.FunctionPrototypeCall(handler, this, event);
      return !event.defaultPrevented;
    }
  }

  define("DOMException", DOMException);
  define("Event", Event);
  define("CustomEvent", CustomEvent);
  define("EventTarget", EventTarget);
})(globalThis);
