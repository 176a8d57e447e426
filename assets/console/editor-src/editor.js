// isobot console editor: CodeMirror 6 wrapped behind one small global.
// Bundled by esbuild into dist/editor.min.js (IIFE); see ../README.md.
//
//   const view = IsobotEditor.create(parentEl, {doc, language: 'js'|'ts'|'jsx'|'tsx', dark, onChange, readOnly, nonce})
//     onChange(text, update) fires on every document change (including setValue).
//     nonce: CSP nonce put on the <style> element CodeMirror injects (needed under a style-src without 'unsafe-inline').
//   IsobotEditor.getValue(view) -> string
//   IsobotEditor.setValue(view, text)       // replaces the document (not undoable), clears the error mark
//   IsobotEditor.markErrorLine(view, line)  // 1-based line, or null to clear; scrolls to it
//   IsobotEditor.setDark(view, bool), IsobotEditor.setLanguage(view, lang)

import { EditorState, Compartment, StateEffect, StateField, RangeSet, Transaction } from "@codemirror/state";
import {
  EditorView, Decoration, GutterMarker, keymap, lineNumbers, highlightActiveLine,
  highlightActiveLineGutter, highlightSpecialChars, drawSelection, dropCursor, gutterLineClass,
} from "@codemirror/view";
import {
  syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, foldGutter, foldKeymap,
} from "@codemirror/language";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { javascript } from "@codemirror/lang-javascript";
import { oneDark } from "@codemirror/theme-one-dark";

// ---- error line marking -------------------------------------------------

const setErrorLine = StateEffect.define();
const errorLineDeco = Decoration.line({ class: "cm-isobot-errorLine" });
const errorGutter = new (class extends GutterMarker {
  constructor() { super(); this.elementClass = "cm-isobot-errorGutter"; }
})();

// Holds at most one range: the start of the marked line. Mapped through edits.
const errorLineField = StateField.define({
  create: () => RangeSet.empty,
  update(value, tr) {
    value = value.map(tr.changes);
    for (const e of tr.effects) {
      if (e.is(setErrorLine)) value = e.value == null ? RangeSet.empty : RangeSet.of([errorLineDeco.range(e.value)]);
    }
    return value;
  },
  provide: (f) => [
    EditorView.decorations.from(f),
    gutterLineClass.compute([f], (s) => {
      const ranges = [];
      for (let it = s.field(f).iter(); it.value; it.next()) ranges.push(errorGutter.range(it.from));
      return RangeSet.of(ranges);
    }),
  ],
});

const errorLineTheme = EditorView.baseTheme({
  "&light .cm-isobot-errorLine": { backgroundColor: "#ffd9d9", boxShadow: "inset 3px 0 0 #d22" },
  "&dark .cm-isobot-errorLine": { backgroundColor: "#5a1e22", boxShadow: "inset 3px 0 0 #ff5c5c" },
  "&light .cm-isobot-errorGutter": { color: "#b00", fontWeight: "bold" },
  "&dark .cm-isobot-errorGutter": { color: "#ff7b7b", fontWeight: "bold" },
});

// ---- configuration ----------------------------------------------------

const languageConf = new Compartment();
const themeConf = new Compartment();

function languageExt(language) {
  const l = String(language || "js").toLowerCase();
  return javascript({ typescript: l === "ts" || l === "tsx", jsx: l === "jsx" || l === "tsx" });
}
function themeExt(dark) {
  return dark ? oneDark : [];
}

function create(parent, opts = {}) {
  const { doc = "", language = "js", dark = false, onChange = null, readOnly = false, nonce = null } = opts;
  const extensions = [
    lineNumbers(),
    foldGutter(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    keymap.of([...defaultKeymap, ...searchKeymap, ...historyKeymap, ...foldKeymap, indentWithTab]),
    languageConf.of(languageExt(language)),
    themeConf.of(themeExt(dark)),
    errorLineField,
    errorLineTheme,
  ];
  if (nonce) extensions.push(EditorView.cspNonce.of(String(nonce)));
  if (readOnly) extensions.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
  if (typeof onChange === "function") {
    extensions.push(EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString(), u); }));
  }
  return new EditorView({ parent, state: EditorState.create({ doc, extensions }) });
}

function getValue(view) {
  return view.state.doc.toString();
}

function setValue(view, text) {
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: String(text ?? "") },
    effects: setErrorLine.of(null),
    annotations: Transaction.addToHistory.of(false),
  });
}

// line: 1-based line number (clamped to the document), or null/undefined/0 to clear.
function markErrorLine(view, line) {
  if (line == null || !(Number(line) >= 1)) {
    view.dispatch({ effects: setErrorLine.of(null) });
    return null;
  }
  const doc = view.state.doc;
  const n = Math.min(Math.floor(Number(line)), doc.lines);
  const pos = doc.line(n).from;
  view.dispatch({ effects: [setErrorLine.of(pos), EditorView.scrollIntoView(pos, { y: "center" })] });
  return n;
}

function setDark(view, dark) {
  view.dispatch({ effects: themeConf.reconfigure(themeExt(dark)) });
}

function setLanguage(view, language) {
  view.dispatch({ effects: languageConf.reconfigure(languageExt(language)) });
}

window.IsobotEditor = Object.freeze({ create, getValue, setValue, markErrorLine, setDark, setLanguage });
