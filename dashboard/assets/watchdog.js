/* FeederWatch page watchdog: a frozen or vanished server must never look like a quiet night.
 *
 * Every page refreshes through Dash callbacks (/_dash-update-component). This script watches
 * those requests: when one fails (server gone, network error, HTTP 5xx or a lost session) or
 * gets no answer within the stall limit, or no refresh has succeeded for two intervals plus the
 * limit, a red banner says so in the page's language, with the time of the last successful
 * refresh, and the figures are dimmed. It hides again at the next successful refresh. It does
 * not depend on Dash rendering anything, since that is exactly what may have stopped.
 * Settings come from data-* attributes of #watchdog-banner (dashboard/app.py).
 */
(function () {
  "use strict";
  if (window.__feederwatchWatchdog || typeof window.fetch !== "function") { return; }
  window.__feederwatchWatchdog = true;

  var state = { lastOk: Date.now(), inflight: {}, seq: 0, failed: false };
  var realFetch = window.fetch.bind(window);

  function isRefresh(input) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    return String(url).indexOf("_dash-update-component") !== -1;
  }

  window.fetch = function (input, init) {
    if (!isRefresh(input)) { return realFetch(input, init); }
    var id = ++state.seq;
    state.inflight[id] = Date.now();
    return realFetch(input, init).then(function (resp) {
      delete state.inflight[id];
      if (resp.status >= 500 || resp.status === 401 || resp.status === 403) {
        state.failed = true;
      } else if (resp.status < 400) {
        state.failed = false;
        state.lastOk = Date.now();
      }
      check();
      return resp;
    }, function (err) {
      delete state.inflight[id];
      state.failed = true;
      check();
      throw err;
    });
  };

  function banner() { return document.getElementById("watchdog-banner"); }

  function setting(el, name, fallback) {
    var v = Number(el.getAttribute("data-" + name));
    return isFinite(v) && v > 0 ? v : fallback;
  }

  function lang(el) {
    try {
      var stored = JSON.parse(window.localStorage.getItem("lang-store"));
      if (stored === "zh" || stored === "en") { return stored; }
    } catch (e) { /* no storage: the configured language */ }
    return el.getAttribute("data-lang") || "zh";
  }

  function clock(ms) {
    var d = new Date(ms);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function check() {
    var el = banner();
    if (!el) { return; }
    var now = Date.now();
    var refresh = setting(el, "refresh-ms", 15000);
    var stall = setting(el, "stall-ms", Math.max(5000, refresh));
    var oldest = now;
    Object.keys(state.inflight).forEach(function (k) { oldest = Math.min(oldest, state.inflight[k]); });
    // what is happening now: a request hanging beats an earlier failure
    var hanging = now - oldest > stall;
    var quiet = now - state.lastOk > 2 * refresh + stall;
    var kind = hanging ? "stalled" : state.failed ? "failed" : quiet ? "stalled" : "ok";
    var down = kind !== "ok";
    if (down) {
      var l = lang(el);
      var text = el.getAttribute("data-text-" + kind + "-" + l) || "";
      text = text.replace("{seconds}", String(Math.round(stall / 1000)));
      var line = text + " " + clock(state.lastOk);
      if (el.textContent !== line) { el.textContent = line; }
      el.setAttribute("data-state", kind);
      el.style.display = "block";
    } else if (el.style.display !== "none") {
      el.style.display = "none";
      el.setAttribute("data-state", "ok");
    }
    document.body.classList.toggle("watchdog-down", down);
  }

  window.setInterval(check, 1000);
})();
