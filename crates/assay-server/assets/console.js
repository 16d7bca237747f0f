// assay console: progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  // A form sends once: its buttons are disabled while the request is in flight.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // A destructive form asks first.
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // A version whose checks are running: ask for the page again with a long poll (the server
  // answers as soon as the verdict is recorded) and show it then. Without this script the
  // page refreshes itself every 3 s instead.
  if (document.body.hasAttribute("data-await-verdict")) {
    var poll = function () {
      fetch(location.pathname + "?wait=25", { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
        .then(function (html) { if (html.indexOf("data-await-verdict") === -1) location.reload(); else poll(); })
        .catch(function () { window.setTimeout(function () { location.reload(); }, 3000); });
    };
    poll();
  }
  // Waiting times count up in place.
  function ago(seconds) {
    if (seconds < 90) return seconds + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " days";
  }
  var clocks = document.querySelectorAll("[data-since]");
  if (clocks.length) {
    var skew = Date.now() / 1000 - Number(document.body.dataset.now || Date.now() / 1000);
    window.setInterval(function () {
      var now = Date.now() / 1000 - skew;
      clocks.forEach(function (el) { el.textContent = ago(Math.max(0, Math.round(now - Number(el.dataset.since)))); });
    }, 15000);
  }
  // Keyboard: "/" focuses the page's search box; "j" and "k" move through the queue's rows.
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || /INPUT|TEXTAREA|SELECT/.test(t.tagName)) return;
    if (event.key === "/") {
      var search = document.querySelector("input[type=search]");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (event.key === "j" || event.key === "k") {
      var links = Array.prototype.slice.call(document.querySelectorAll("[data-row-link]"));
      if (!links.length) return;
      var i = links.indexOf(document.activeElement);
      i = event.key === "j" ? Math.min(links.length - 1, i + 1) : Math.max(0, i - 1);
      links[i].focus();
      event.preventDefault();
    }
  });
})();
