// The set-up page: connect with an API token (if offered) and follow the checklist.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("cv-setup-config").textContent);
  var POLL_MS = 2000;

  function headers() {
    return {"X-Setup-Ticket": config.ticket, "Content-Type": "application/json"};
  }

  function show(status) {
    status.items.forEach(function (item) {
      var row = document.querySelector('#cv-checklist li[data-key="' + item.key + '"]');
      if (!row) { return; }
      row.hidden = false;
      row.classList.toggle("cv-done", item.done);
      row.querySelector(".cv-check-mark").textContent = item.done ? "✓" : "○";
      row.querySelector(".cv-muted").textContent = item.detail ? "— " + item.detail : "";
    });
    var connected = status.items.some(function (item) {
      return item.key === "connected" && item.done;
    });
    document.getElementById("cv-connect-section").hidden = connected;
    document.getElementById("cv-setup-done").hidden = !status.done;
    return status.done;
  }

  function poll() {
    fetch("/setup/status", {headers: headers()})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (!status || !show(status)) { window.setTimeout(poll, POLL_MS); }
      })
      .catch(function () { window.setTimeout(poll, POLL_MS); });
  }

  var form = document.getElementById("cv-token-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = document.getElementById("cv-token-error");
      error.hidden = true;
      fetch("/setup/token", {method: "POST", headers: headers(), body: JSON.stringify({
        email: form.elements.email.value, token: form.elements.token.value})})
        .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
        .then(function (answer) {
          if (answer[0]) { form.elements.token.value = ""; show(answer[1]); return; }
          error.textContent = answer[1].error ? answer[1].error.message : "Not connected";
          error.hidden = false;
        });
    });
  }
  poll();
}());
