// isobot console: the browser side of the server-rendered pages. Every action is a call of the
// admin API (/api, with the session cookie and the page's CSRF token); live views follow the
// API's event streams. No inline handlers, no eval (the CSP forbids both); text is always set
// as text, never as HTML. One section per page, chosen by <body data-page>.
(function () {
  "use strict";

  var page = document.body.getAttribute("data-page") || "";

  // Anything the CSP blocks is a console bug: keep a record (the browser test reads it).
  var violations = [];
  window.isobotCspViolations = violations;
  document.addEventListener("securitypolicyviolation", function (e) {
    violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
  });
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfMeta ? csrfMeta.getAttribute("content") : "";

  // ---- helpers -----------------------------------------------------------

  function api(method, path, body) {
    var opts = { method: method, headers: { "X-CSRF-Token": CSRF }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = { error: t }; }
        return { status: r.status, ok: r.ok, data: data };
      });
    }, function (e) {
      return { status: 0, ok: false, data: { error: "the server did not answer (" + e + ")" } };
    });
  }

  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") n.textContent = attrs[k];
        else if (k === "class") n.className = attrs[k];
        else n.setAttribute(k, attrs[k]);
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      n.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return n;
  }

  function seg(s) { return encodeURIComponent(s); }

  function badgeClass(t) {
    if (["ok", "sent", "online", "enabled"].indexOf(t) >= 0) return "good";
    if (["running", "dry_run", "http"].indexOf(t) >= 0) return "info";
    if (["degraded", "skipped_overlap", "cancelled", "skipped", "disabled", "warn"].indexOf(t) >= 0) return "warn";
    return t ? "bad" : "muted";
  }
  function badge(t) { return el("span", { class: "badge " + badgeClass(t), text: t }); }

  function durationUs(us) {
    us = us || 0;
    if (us < 1000) return us + " \u00b5s";
    if (us < 1000000) return (us / 1000).toFixed(1) + " ms";
    return (us / 1000000).toFixed(2) + " s";
  }

  function showResult(out, ok, text) {
    if (!out) return;
    out.textContent = text;
    out.className = (out.className.replace(/\b(ok|error)\b/g, "").trim() + " " + (ok ? "ok" : "error")).trim();
  }

  function errorText(res) {
    return (res.data && res.data.error) ? res.data.error : ("HTTP " + res.status);
  }

  function logLine(l) {
    return el("li", { class: "lvl-" + l.level }, [
      el("span", { class: "lvl", text: l.level }), " ", el("span", { class: "text", text: l.text })
    ]);
  }

  // The same markup as the server's run page (pages/runs.rs `send`).
  function sendRecord(s) {
    var head = el("header", null, [badge(s.result), " ", el("strong", { text: s.action }), " \u2192 " + (s.im || "")]);
    if (s.target) head.appendChild(document.createTextNode(" " + s.target.type + " " + s.target.id));
    if (s.account) { head.appendChild(document.createTextNode(" via ")); head.appendChild(el("code", { text: s.account })); }
    if (s.rule) head.appendChild(el("span", { class: "muted", text: " (" + s.rule + ")" }));
    if (s.message_id) head.appendChild(el("span", { class: "muted", text: " message " + s.message_id }));
    var box = el("article", { class: "send" }, [head]);
    if (s.error) box.appendChild(el("div", { class: "bad-text", text: s.error }));
    box.appendChild(el("pre", { class: "json", text: JSON.stringify(s.body, null, 2) }));
    return box;
  }

  // Follows a run's events (/api/runs/{id}/events) until its end event.
  function followRun(id, on) {
    var es = new EventSource("/api/runs/" + id + "/events");
    es.addEventListener("log", function (e) { on.log(JSON.parse(e.data)); });
    es.addEventListener("send", function (e) { on.send(JSON.parse(e.data)); });
    es.addEventListener("end", function (e) { es.close(); on.end(JSON.parse(e.data)); });
    es.onerror = function () { if (on.error) on.error(es); };
    return es;
  }

  function refresh(selector) {
    if (window.htmx && document.querySelector(selector)) {
      window.htmx.ajax("GET", location.pathname + location.search, { target: selector, select: selector, swap: "outerHTML" });
    }
  }

  function busy(button, on) { if (button) button.disabled = on; }

  // A run answered by POST .../run (wait: true): its status, replies, logs.
  function runSummary(run) {
    var box = el("div", null, []);
    var head = el("p", null, [badge(run.status), " ", el("a", { href: "/console/runs/" + run.id, text: "run #" + run.id }),
      " \u00b7 " + durationUs(run.duration_us)]);
    box.appendChild(head);
    if (run.detail && run.detail.message) box.appendChild(el("pre", { class: "error-text", text: run.detail.stack || run.detail.message }));
    else if (run.detail) box.appendChild(el("pre", { class: "error-text", text: JSON.stringify(run.detail) }));
    (run.sends || []).forEach(function (s) { box.appendChild(sendRecord(s)); });
    if ((run.logs || []).length) {
      var ol = el("ol", { class: "log-lines" });
      run.logs.forEach(function (l) { ol.appendChild(logLine(l)); });
      box.appendChild(ol);
    }
    if (!(run.sends || []).length) box.appendChild(el("p", { class: "muted", text: "No sends." }));
    return box;
  }

  // ---- actions shared by the plugin and cron pages ---------------------

  function startRun(file, body, button) {
    busy(button, true);
    body.wait = false;
    api("POST", "/api/plugins/" + seg(file) + "/run", body).then(function (res) {
      busy(button, false);
      if (res.status === 202 && res.data && res.data.id) location.href = "/console/runs/" + res.data.id;
      else alert(errorText(res));
    });
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button[data-action]") : null;
    if (!b) return;
    var action = b.getAttribute("data-action");
    var file = b.getAttribute("data-file");
    if (action === "run") startRun(file, {}, b);
    else if (action === "run-cron") startRun(file, { cron: true }, b);
    else if (action === "enable" || action === "disable") {
      busy(b, true);
      api("POST", "/api/plugins/" + seg(file) + "/" + action).then(function (res) {
        busy(b, false);
        if (res.ok) refresh("#plugins"); else alert(errorText(res));
      });
    } else if (action === "again") {
      busy(b, true);
      api("POST", "/api/runs/" + b.getAttribute("data-run") + "/again", { wait: false }).then(function (res) {
        busy(b, false);
        if (res.status === 202 && res.data && res.data.id) location.href = "/console/runs/" + res.data.id;
        else alert(errorText(res));
      });
    } else if (action === "del-key") {
      var bucket = b.getAttribute("data-bucket"), key = b.getAttribute("data-key");
      if (!confirm("Delete key " + key + " of bucket " + bucket + "?")) return;
      api("DELETE", "/api/buckets/" + seg(bucket) + "/" + seg(key)).then(function (res) {
        if (res.ok) { var li = b.closest("li"); if (li) li.remove(); }
        else showResult(b.parentNode.querySelector("output"), false, errorText(res));
      });
    }
  });

  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    var action = f.getAttribute("data-action");
    if (!action) return;
    ev.preventDefault();
    var out = f.querySelector("output");
    if (action === "test") {
      var file = f.getAttribute("data-file");
      var box = f.nextElementSibling;
      box.textContent = "running\u2026";
      api("POST", "/api/plugins/" + seg(file) + "/run", { message: { text: f.elements.text.value } }).then(function (res) {
        box.textContent = "";
        if (res.ok) box.appendChild(runSummary(res.data));
        else box.appendChild(el("p", { class: "error-text", text: errorText(res) }));
      });
    } else if (action === "new-plugin") {
      api("POST", "/api/plugins", { file: f.elements.file.value, title: f.elements.title.value }).then(function (res) {
        if (res.status === 201 || res.ok) location.href = "/console/plugins/" + seg(res.data.file);
        else showResult(out, false, errorText(res));
      });
    } else if (action === "params") {
      saveParams(f, out);
    } else if (action === "put-key") {
      var bucket = f.getAttribute("data-bucket");
      var key = f.getAttribute("data-key") || (f.elements.key ? f.elements.key.value : "");
      api("PUT", "/api/buckets/" + seg(bucket) + "/" + seg(key), { value: f.elements.value.value }).then(function (res) {
        if (res.ok) {
          showResult(out, true, "saved");
          if (f.getAttribute("data-new")) location.reload();
        } else showResult(out, false, errorText(res));
      });
    }
  });

  // ---- params -------------------------------------------------------------

  function saveParams(f, out) {
    var body = {};
    Array.prototype.forEach.call(f.querySelectorAll("input[name]"), function (i) {
      if (i.getAttribute("data-secret")) {
        if (i.value !== "") body[i.name] = i.value; // empty: keep the stored secret
      } else if (i.value !== i.getAttribute("data-initial")) {
        body[i.name] = i.value;
      }
    });
    Array.prototype.forEach.call(f.querySelectorAll("input[data-clear]"), function (c) {
      if (c.checked) body[c.getAttribute("data-clear")] = null;
    });
    if (!Object.keys(body).length) { showResult(out, true, "nothing changed"); return; }
    api("PUT", "/api/plugins/" + seg(f.getAttribute("data-file")) + "/params", body).then(function (res) {
      if (!res.ok) { showResult(out, false, errorText(res)); return; }
      (res.data.params || []).forEach(function (p) {
        var i = f.querySelector('input[name="' + CSS.escape(p.key) + '"]');
        if (!i) return;
        if (p.secret) { i.value = ""; i.placeholder = p.set ? "set \u2014 type to replace" : ""; }
        else { i.value = p.value || ""; i.setAttribute("data-initial", p.value || ""); }
      });
      showResult(out, true, "saved " + Object.keys(body).length + " value(s)");
    });
  }

  // ---- storage import -----------------------------------------------------

  var importFile = document.getElementById("import-file");
  if (importFile) {
    importFile.addEventListener("change", function () {
      var out = document.getElementById("import-result");
      var file = importFile.files[0];
      if (!file) return;
      file.text().then(function (text) {
        var body;
        try { body = JSON.parse(text); } catch (e) { showResult(out, false, "not JSON: " + e.message); return; }
        api("POST", "/api/import", body).then(function (res) {
          if (res.ok) { showResult(out, true, "imported " + res.data.written + " key(s)"); setTimeout(function () { location.reload(); }, 600); }
          else showResult(out, false, errorText(res));
        });
      });
    });
  }

  // ---- editor -------------------------------------------------------------

  function editorPage() {
    var host = document.getElementById("editor");
    var fallback = document.getElementById("source");
    var file = host.getAttribute("data-file");
    var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    var E = window.IsobotEditor;
    var view = null;
    if (E) {
      view = E.create(host, { doc: fallback.value, language: "js", dark: !!(dark && dark.matches), nonce: document.body.getAttribute("data-nonce") });
      host.isobotView = view; // for scripts driving the page (the browser test)
      if (dark && dark.addEventListener) dark.addEventListener("change", function () { E.setDark(view, dark.matches); });
      var line = parseInt(host.getAttribute("data-error-line"), 10);
      if (line > 0) E.markErrorLine(view, line);
    }
    function source() { return view ? E.getValue(view) : fallback.value; }
    var resultBox = document.getElementById("save-result");
    var testBox = document.getElementById("test-result");

    function save() {
      resultBox.textContent = "saving\u2026";
      return api("PUT", "/api/plugins/" + seg(file) + "/source", { source: source() }).then(function (res) {
        resultBox.textContent = "";
        if (!res.ok) {
          resultBox.appendChild(el("div", { class: "notice error", text: errorText(res) }));
          return false;
        }
        var d = res.data;
        document.getElementById("source-hash").textContent = d.hash;
        if (d.ok) {
          if (view) E.markErrorLine(view, null);
          resultBox.appendChild(el("div", { class: "notice ok", id: "save-ok" }, [el("strong", { text: "Saved and loaded" }), " \u2014 version " + d.hash + " serves now."]));
          resultBox.scrollIntoView({ block: "nearest" });
          return true;
        }
        var marked = (view && d.line) ? E.markErrorLine(view, d.line) : null;
        var note = el("div", { class: "notice error", id: "save-error" }, [
          el("strong", { text: "Saved, but it does not load" + (marked ? " (line " + marked + ")" : "") }),
          d.serving ? " \u2014 the last good version " + d.serving + " keeps serving." : " \u2014 no version serves.",
          el("pre", { class: "error-text", text: d.error || "" })
        ]);
        resultBox.appendChild(note);
        resultBox.scrollIntoView({ block: "nearest" });
        return false;
      });
    }

    function test() {
      var msg = {
        text: document.getElementById("test-text").value,
        im: document.getElementById("test-im").value || "qq",
        user: document.getElementById("test-user").value || "10001",
        admin: document.getElementById("test-admin").checked
      };
      testBox.textContent = "";
      var head = el("h2", { text: "Test run " }), logs = el("ol", { class: "log-lines", id: "test-logs" }), sends = el("div", { id: "test-sends" });
      testBox.appendChild(head);
      testBox.appendChild(el("h3", { text: "Sends" }));
      testBox.appendChild(sends);
      testBox.appendChild(el("h3", { text: "Console" }));
      testBox.appendChild(logs);
      api("POST", "/api/plugins/" + seg(file) + "/run", { message: msg, wait: false }).then(function (res) {
        if (res.status !== 202) { head.appendChild(el("span", { class: "error-text", text: errorText(res) })); return; }
        var id = res.data.id;
        head.appendChild(el("a", { href: "/console/runs/" + id, text: "#" + id }));
        head.appendChild(document.createTextNode(" "));
        var state = badge("running");
        head.appendChild(state);
        followRun(id, {
          log: function (l) { logs.appendChild(logLine(l)); },
          send: function (s) { sends.appendChild(sendRecord(s)); },
          end: function (r) {
            state.replaceWith(badge(r.outcome));
            head.appendChild(document.createTextNode(" " + durationUs(r.duration_us)));
            if (r.error) testBox.insertBefore(el("pre", { class: "error-text", id: "test-error", text: r.error }), head.nextSibling);
            if (!sends.childNodes.length) sends.appendChild(el("p", { class: "muted", text: "No sends." }));
            testBox.setAttribute("data-done", r.outcome);
            testBox.scrollIntoView({ block: "nearest" });
          }
        });
      });
    }

    document.getElementById("editor-actions").addEventListener("submit", function (ev) { ev.preventDefault(); save(); });
    document.getElementById("save-test").addEventListener("click", function () {
      save().then(function (ok) { if (ok) test(); });
    });
    document.addEventListener("keydown", function (ev) {
      if ((ev.ctrlKey || ev.metaKey) && ev.key === "s") { ev.preventDefault(); save(); }
    });
  }

  // ---- run detail ---------------------------------------------------------

  function runPage() {
    var d = document.getElementById("run-detail");
    if (!d || !d.getAttribute("data-live")) return;
    var logs = document.getElementById("run-logs"), sends = document.getElementById("run-sends");
    var nLogs = 0, nSends = 0;
    followRun(d.getAttribute("data-run"), {
      log: function (l) { logs.appendChild(logLine(l)); document.getElementById("log-count").textContent = ++nLogs; },
      send: function (s) { sends.appendChild(sendRecord(s)); document.getElementById("send-count").textContent = ++nSends; },
      end: function (r) {
        document.getElementById("run-outcome").replaceChildren(badge(r.outcome));
        document.getElementById("run-duration").textContent = durationUs(r.duration_us);
        if (r.error) document.getElementById("run-error").replaceChildren(el("div", { class: "notice error" }, [el("strong", { text: "Reason" }), el("pre", { class: "error-text", text: r.error })]));
        d.setAttribute("data-live", "");
        d.setAttribute("data-ended", r.outcome);
      }
    });
  }

  // ---- sandbox chat -------------------------------------------------------

  function chatPage() {
    var log = document.getElementById("chat-log");
    if (!log) return;
    var form = document.getElementById("chat-form"), status = document.getElementById("chat-status");
    var accountSel = document.getElementById("chat-account");
    var pending = 0;
    function who() {
      var opt = accountSel.options[accountSel.selectedIndex];
      return {
        im: opt ? opt.getAttribute("data-im") : "qq",
        account: accountSel.value,
        user: document.getElementById("chat-user").value,
        user_name: document.getElementById("chat-user-name").value,
        chat: document.getElementById("chat-group").value,
        admin: document.getElementById("chat-admin").checked
      };
    }
    function mine(line) {
      var w = who();
      if (line.im !== w.im || line.account !== w.account || !line.target) return false;
      return w.chat ? (line.target.type === "group" && line.target.id === w.chat)
        : (line.target.type === "private" && line.target.id === w.user);
    }
    function scroll() { log.scrollTop = log.scrollHeight; }
    function mediaSrc(line, media, index) {
      var s = media.source || {};
      if (s.kind === "url") return s.url;
      if (s.kind === "base64") return "data:" + (s.mime || media.mime || "application/octet-stream") + ";base64," + s.data;
      return "/api/console/media/" + line.seq + "/" + index;
    }
    function mediaNode(line, kind, media, index) {
      var src = mediaSrc(line, media, index);
      if (kind === "image") return el("img", { src: src, alt: media.name || "image", loading: "lazy" });
      if (kind === "voice") return el("audio", { src: src, controls: "" });
      if (kind === "video") return el("video", { src: src, controls: "" });
      return el("a", { href: src, download: media.name || "file", text: "file: " + (media.name || "file") });
    }
    function payloadNodes(line) {
      var p = line.payload || {};
      if (p.type === "text" || p.type === "markdown") return [el("div", { class: "text", text: p.text })];
      if (p.type === "media") return [mediaNode(line, p.kind, p.media, 0)];
      if (p.type === "mixed") {
        var m = 0;
        return (p.items || []).map(function (it) {
          if (it.type === "media") return mediaNode(line, it.kind, it.media, m++);
          return el("div", { class: "text", text: it.text });
        });
      }
      return [el("div", { class: "text", text: JSON.stringify(p) })];
    }
    function botLine(line) {
      if (line.console === "recall") { log.appendChild(el("li", { class: "bubble note", text: "message " + line.message_id + " was recalled" })); scroll(); return; }
      if (!mine(line)) return;
      var b = el("li", { class: "bubble bot", "data-seq": String(line.seq) }, [el("span", { class: "who", text: "bot \u00b7 " + line.account })]);
      payloadNodes(line).forEach(function (n) { b.appendChild(n); });
      log.appendChild(b);
      scroll();
    }
    function note(text) { log.appendChild(el("li", { class: "bubble note", text: text })); scroll(); }
    function setStatus() { status.textContent = pending ? pending + " message(s) still being handled (a plugin may be waiting in listen())" : ""; }
    var es = null;
    function connect() {
      if (es) es.close();
      log.textContent = "";
      api("GET", "/api/console/sends?limit=256").then(function (res) {
        var after = 0;
        if (res.ok) { res.data.sends.forEach(botLine); after = res.data.next; }
        es = new EventSource("/api/console/stream?after=" + after);
        es.addEventListener("send", function (e) { botLine(JSON.parse(e.data)); });
        log.setAttribute("data-connected", "1");
      });
    }
    ["chat-account", "chat-user", "chat-group"].forEach(function (id) { document.getElementById(id).addEventListener("change", connect); });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = document.getElementById("chat-text");
      var text = input.value;
      if (!text) return;
      var w = who();
      var mineBubble = el("li", { class: "bubble me" }, [el("span", { class: "who", text: (w.user_name || w.user) + (w.chat ? " @ " + w.chat : "") }), el("div", { class: "text", text: text })]);
      log.appendChild(mineBubble);
      scroll();
      input.value = "";
      pending++; setStatus();
      var body = { im: w.im, account: w.account, user: w.user, user_name: w.user_name, chat: w.chat, text: text, admin: w.admin };
      api("POST", "/api/messages", body).then(function (res) {
        pending--; setStatus();
        if (!res.ok) { note("refused: " + errorText(res)); return; }
        var runs = res.data.runs || [];
        if (!runs.length) note("no new run started: a waiting listen() took \"" + text + "\", or no rule matched it");
        // Each run the message started links to its record: what it sent, through which
        // account and rule, and why it ended as it did.
        var links = el("div", { class: "runs" });
        runs.forEach(function (r) {
          links.appendChild(el("a", { href: "/console/runs/" + r.id, class: "run-link", "data-run": String(r.id) }, [r.plugin + " #" + r.id + " ", badge(r.status)]));
        });
        if (runs.length) { mineBubble.appendChild(links); scroll(); }
        runs.forEach(function (r) {
          if (r.status !== "ok") note(r.plugin + " " + r.status + ": " + ((r.detail && r.detail.message) || JSON.stringify(r.detail || "")) + " (run #" + r.id + ")");
        });
      });
    });
    connect();
  }

  // ---- live logs ----------------------------------------------------------

  function logsPage() {
    var list = document.getElementById("log-lines");
    var max = parseInt(list.getAttribute("data-window"), 10) || 500;
    var status = document.getElementById("log-status"), pauseBtn = document.getElementById("log-pause");
    var paused = false, held = [], missed = 0;
    var q = ["tail=200"];
    ["plugin", "level", "adapter"].forEach(function (k) { var v = list.getAttribute("data-" + k); if (v) q.push(k + "=" + seg(v)); });
    function entry(e) {
      return el("li", { class: "lvl-" + e.level, "data-seq": String(e.seq) }, [
        el("span", { class: "meta", text: e.time.slice(11, 23) + " " }), el("span", { class: "lvl", text: e.level }), " ",
        el("span", { class: "meta", text: (e.plugin ? "[" + e.plugin + "] " : "") + (e.adapter ? "<" + e.adapter + "> " : "") + e.target + " " }),
        el("span", { class: "text", text: e.message })
      ]);
    }
    function add(e) {
      var atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
      list.appendChild(entry(e));
      while (list.childNodes.length > max) list.removeChild(list.firstChild);
      if (atEnd) list.scrollTop = list.scrollHeight;
    }
    function show() {
      status.textContent = (paused ? "paused, " + held.length + " new line(s) held" : "live") +
        (missed ? " \u00b7 " + missed + " line(s) skipped (the log moved faster than the page)" : "") +
        " \u00b7 " + list.childNodes.length + " shown (window " + max + ")";
    }
    var es = new EventSource("/api/logs/stream?" + q.join("&"));
    es.onopen = show;
    es.addEventListener("log", function (ev) {
      var e = JSON.parse(ev.data);
      if (paused) { held.push(e); if (held.length > max) held.shift(); } else add(e);
      show();
    });
    es.addEventListener("lagged", function (ev) { missed += JSON.parse(ev.data).missed; show(); });
    es.onerror = function () { status.textContent = "disconnected; reconnecting\u2026"; };
    pauseBtn.addEventListener("click", function () {
      paused = !paused;
      pauseBtn.setAttribute("aria-pressed", paused ? "true" : "false");
      pauseBtn.textContent = paused ? "Resume" : "Pause";
      if (!paused) { held.forEach(add); held = []; }
      show();
    });
    document.getElementById("log-clear").addEventListener("click", function () { list.textContent = ""; held = []; show(); });
  }

  // Times are rendered in UTC by the server; show them in the browser's own time zone.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localTimes(root) {
    Array.prototype.forEach.call(root.querySelectorAll("time[datetime]"), function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime()) || !t.firstChild || t.firstChild.nodeType !== 3) return;
      t.firstChild.textContent = pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
        pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + " ";
    });
  }
  localTimes(document);
  document.body.addEventListener("htmx:afterSettle", function (e) { localTimes(e.target); });

  if (page === "editor") editorPage();
  else if (page === "run") runPage();
  else if (page === "chat") chatPage();
  else if (page === "logs") logsPage();
})();
