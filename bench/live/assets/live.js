// photobench live: the page's only script. It swaps in the parts of the
// page the server renders after every frame (Server-Sent Events) and sends
// the controls with fetch. Without it the page still works: it reloads
// every 2 s and the controls are plain forms.
(function () {
  "use strict";
  var msg = document.getElementById("msg");
  function say(text, bad) {
    if (!msg) return;
    msg.textContent = text;
    msg.className = bad ? "bad" : "";
  }
  var es = new EventSource("/events");
  es.addEventListener("frame", function (ev) {
    var u = JSON.parse(ev.data);
    document.getElementById("status").innerHTML = u.html.status;
    document.getElementById("timeline").innerHTML = u.html.timeline;
    (u.frame.variants || []).forEach(function (v, i) {
      var col = document.getElementById("col-" + v.label);
      if (col && u.html.columns[i] !== undefined) col.innerHTML = u.html.columns[i];
    });
    document.querySelectorAll("button[name=state]").forEach(function (b) {
      b.classList.toggle("on", b.value === u.frame.vision);
    });
    document.body.dataset.frame = u.frame.at;
  });
  es.onerror = function () { say("lost the stream; reconnecting…", true); };
  es.onopen = function () { if (msg && msg.className === "bad" && msg.textContent.indexOf("lost the stream") === 0) say(""); };

  document.querySelectorAll("form.ctl").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      var data = new URLSearchParams(new FormData(form, ev.submitter));
      say((data.get("action") || "") + "…", false);
      fetch("/control", { method: "POST", body: data, headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (r) { say(r.ok ? r.body.ok : r.body.error, !r.ok); })
        .catch(function (e) { say(String(e), true); });
    });
  });
})();
