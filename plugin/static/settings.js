// The settings page: fills the form from the saved settings, previews every change against
// the account's recent customers, and saves versions. Text from the server goes in as text.
(function () {
  "use strict";
  var token = JSON.parse(document.getElementById("cv-config").textContent).token;
  var form = document.getElementById("cv-form");
  var status = document.getElementById("cv-status");
  var state = { version: null, timer: null, histogram: null };

  function api(method, path, body) {
    var options = { method: method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    });
  }

  function get(object, path) {
    return path.split(".").reduce(function (at, key) { return at == null ? at : at[key]; }, object);
  }

  function set(object, path, value) {
    var keys = path.split(".");
    var at = object;
    keys.slice(0, -1).forEach(function (key) { at = at[key] = at[key] || {}; });
    at[keys[keys.length - 1]] = value;
  }

  function emptyJson(input) {
    // What an emptied JSON field means: `data-json="{}"` for objects, else a list.
    return input.getAttribute("data-json") || "[]";
  }

  function fill(settings) {
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name) { return; }
      var value = get(settings, input.name);
      if (input.type === "checkbox") { input.checked = Boolean(value); }
      else if (input.hasAttribute("data-json")) {
        input.value = JSON.stringify(value || JSON.parse(emptyJson(input)));
      }
      else { input.value = value == null ? "" : value; }
    });
  }

  function collect() {
    var settings = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.hasAttribute("data-secret")) { return; }
      var value;
      if (input.type === "checkbox") { value = input.checked; }
      else if (input.hasAttribute("data-json")) {
        try { value = JSON.parse(input.value || emptyJson(input)); }
        catch (error) { value = input.value; }
      } else if (input.type === "number") {
        if (input.value === "") { value = /macro_id$/.test(input.name) ? null : input.value; }
        else { value = Number(input.value); }
      } else { value = input.value; }
      set(settings, input.name, value);
    });
    return settings;
  }

  function showErrors(fields) {
    form.querySelectorAll("[data-error-for]").forEach(function (span) {
      span.textContent = (fields && fields[span.getAttribute("data-error-for")]) || "";
    });
    Array.prototype.forEach.call(form.elements, function (input) {
      if (input.name) { input.classList.toggle("cv-invalid", Boolean(fields && fields[input.name])); }
    });
  }

  function cell(tag, text) {
    var element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  function showPreview(result) {
    document.getElementById("cv-preview-summary").textContent =
      result.changed_tier + " of " + result.customers + " recent customers would change tier.";
    var image = document.getElementById("cv-histogram");
    if (state.histogram) { URL.revokeObjectURL(state.histogram); }
    state.histogram = URL.createObjectURL(new Blob([result.histogram_svg], { type: "image/svg+xml" }));
    image.src = state.histogram;
    image.hidden = false;
    var table = document.getElementById("cv-moves");
    table.querySelectorAll("tr").forEach(function (row) { row.remove(); });
    var head = document.createElement("tr");
    head.appendChild(cell("th", ""));
    result.tiers.forEach(function (tier) { head.appendChild(cell("th", tier)); });
    table.appendChild(head);
    result.tiers.forEach(function (from) {
      var row = document.createElement("tr");
      row.appendChild(cell("th", from));
      result.tiers.forEach(function (to) {
        var found = result.moves.filter(function (m) { return m.from === from && m.to === to; })[0];
        row.appendChild(cell("td", found ? String(found.customers) : "0"));
      });
      table.appendChild(row);
    });
    table.hidden = false;
    var examples = document.getElementById("cv-examples");
    examples.replaceChildren();
    result.examples.forEach(function (m) {
      examples.appendChild(cell("li", m.name + ": " + m.before.toFixed(1) + " → " + m.after.toFixed(1) +
                                       " (" + m.tier_before + " → " + m.tier_after + ")"));
    });
  }

  function previewSoon() {
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      api("POST", "/api/settings/preview", { settings: collect() }).then(function (answer) {
        if (answer.status === 422) { showErrors(answer.data.error.fields); return; }
        showErrors(null);
        if (answer.status === 200) { showPreview(answer.data); }
      });
    }, 300);
  }

  var OUTCOMES = [["leaving", "Staying (no contact or purchase means leaving)"],
                  ["bad_rating", "No bad rating"], ["any_purchase", "Buying"]];

  function auc(figure) {
    return figure.auc == null ? "n/a" : figure.auc.toFixed(3) + " (" + figure["with"] + " / " +
      (figure["with"] + figure.without) + ")";
  }

  function showBacktest(result) {
    var image = document.getElementById("cv-lift");
    if (state.lift) { URL.revokeObjectURL(state.lift); }
    state.lift = URL.createObjectURL(new Blob([result.lift_svg], { type: "image/svg+xml" }));
    image.src = state.lift;
    image.hidden = false;
    document.getElementById("cv-lift-legend").hidden = false;
    var table = document.getElementById("cv-backtest-table");
    table.querySelectorAll("tr").forEach(function (row) { row.remove(); });
    var head = document.createElement("tr");
    ["Value predicts", "Now", "Draft"].forEach(function (t) { head.appendChild(cell("th", t)); });
    table.appendChild(head);
    OUTCOMES.forEach(function (outcome) {
      var row = document.createElement("tr");
      row.appendChild(cell("th", outcome[1]));
      row.appendChild(cell("td", auc(result.current.auc[outcome[0]])));
      row.appendChild(cell("td", auc(result.draft.auc[outcome[0]])));
      table.appendChild(row);
    });
    table.hidden = false;
    document.getElementById("cv-backtest-status").textContent = result.current.customers +
      " customers active 90 days ago, scored as of " + result.at + ".";
    var notes = document.getElementById("cv-backtest-notes");
    notes.replaceChildren();
    result.current.warnings.forEach(function (w) { notes.appendChild(cell("li", w)); });
  }

  function runBacktest() {
    document.getElementById("cv-backtest-status").textContent = "Scoring…";
    api("POST", "/api/settings/backtest", { settings: collect() }).then(function (answer) {
      if (answer.status === 422) { showErrors(answer.data.error.fields); return; }
      if (answer.status === 200) { showBacktest(answer.data); }
    });
  }

  function suggestWeights() {
    var line = document.getElementById("cv-backtest-status");
    line.textContent = "Fitting weights…";
    api("POST", "/api/settings/suggest-weights", {}).then(function (answer) {
      if (answer.status !== 200) { line.textContent = "No suggestion: " + answer.status; return; }
      var found = answer.data;
      if (!found.proposed) {
        line.textContent = "No weights proposed: " + found.reason + ".";
        return;
      }
      Object.keys(found.weights).forEach(function (key) {
        var input = form.elements["weights." + key];
        if (input) { input.value = found.weights[key]; }
      });
      line.textContent = "Suggested weights are in the form as a draft (not saved): " +
        found.reason + ". Objective: " + found.objective + ".";
      previewSoon();
    });
  }

  document.getElementById("cv-backtest").addEventListener("click", runBacktest);
  document.getElementById("cv-suggest").addEventListener("click", suggestWeights);

  function showVersions(versions) {
    var list = document.getElementById("cv-versions");
    list.replaceChildren();
    versions.forEach(function (v) {
      var item = cell("li", "v" + v.version + " · " + new Date(v.created_at).toLocaleString() +
                            " · by user " + v.author_id + (v.note ? " · " + v.note : "") + " ");
      var compare = cell("button", "Changes");
      compare.type = "button"; compare.className = "c-btn c-btn--sm";
      compare.addEventListener("click", function () { showDiff(v.version); });
      var back = cell("button", "Roll back to this");
      back.type = "button"; back.className = "c-btn c-btn--sm";
      back.addEventListener("click", function () {
        api("POST", "/api/settings/versions/" + v.version + "/rollback").then(load);
      });
      item.appendChild(compare); item.appendChild(back);
      list.appendChild(item);
    });
  }

  function showDiff(version) {
    var previous = Math.max(1, version - 1);
    api("GET", "/api/settings/diff/" + previous + "/" + version).then(function (answer) {
      var box = document.getElementById("cv-diff");
      box.replaceChildren(cell("h3", "v" + previous + " → v" + version));
      var list = document.createElement("ul");
      (answer.data.changes || []).forEach(function (c) {
        list.appendChild(cell("li", c.setting + ": " + JSON.stringify(c.before) + " → " +
                                    JSON.stringify(c.after)));
      });
      if (!list.children.length) { list.appendChild(cell("li", "No changes.")); }
      box.appendChild(list);
    });
  }

  function showSecrets(secrets) {
    Object.keys(secrets).forEach(function (name) {
      var note = form.querySelector('[data-secret-state="' + name + '"]');
      if (note) { note.textContent = secrets[name] ? "set" : "not set"; }
    });
  }

  function saveSecrets() {
    var changed = {};
    form.querySelectorAll("[data-secret]").forEach(function (input) {
      if (input.value) { changed[input.getAttribute("data-secret")] = input.value; }
    });
    if (!Object.keys(changed).length) { return Promise.resolve(true); }
    return api("PUT", "/api/settings/secrets", changed).then(function (answer) {
      if (answer.status !== 200) { showErrors(answer.data.error.fields); return false; }
      form.querySelectorAll("[data-secret]").forEach(function (input) { input.value = ""; });
      showSecrets(answer.data.secrets);
      return true;
    });
  }

  function showSync(sync) {
    var line = document.getElementById("cv-sync");
    if (!sync || !line) { return; }
    var parts = [];
    if (sync.running) { parts.push("a sync is running now"); }
    if (sync.last_success) {
      parts.push("store current as of " + sync.last_success + " (" +
                 Math.round(sync.lag_seconds / 60) + " min ago)");
    } else if (!sync.running) {
      parts.push("not synced yet: the server syncs this account within a few minutes");
    }
    parts.push(sync.last_run ? "last periodic run " + sync.last_run :
               "no periodic run yet");
    if (sync.error) { parts.push("last error: " + sync.error); }
    var said = parts.join("; ") + ".";
    line.textContent = said.charAt(0).toUpperCase() + said.slice(1);
  }

  function load() {
    return api("GET", "/api/settings").then(function (answer) {
      state.version = answer.data.version;
      showSecrets(answer.data.secrets);
      showSync(answer.data.sync);
      document.getElementById("cv-version").textContent = "v" + state.version;
      fill(answer.data.settings);
      showVersions(answer.data.versions);
    });
  }

  form.addEventListener("input", previewSoon);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    status.textContent = "Saving…";
    saveSecrets().then(function (secretsSaved) {
      if (!secretsSaved) {
        status.textContent = "Not saved: fix the fields marked in red.";
        return null;
      }
      return api("PUT", "/api/settings", { settings: collect(), base_version: state.version,
                                           note: document.getElementById("f-note").value });
    }).then(function (answer) {
        if (!answer) { return; }
        if (answer.status === 422) {
          showErrors(answer.data.error.fields);
          status.textContent = "Not saved: fix the fields marked in red.";
        } else if (answer.status === 200) {
          showErrors(null);
          status.textContent = "Saved as version " + answer.data.version + ".";
          load();
        } else {
          status.textContent = "Not saved: " + ((answer.data.error || {}).message || answer.status);
        }
      });
  });
  load();
}());
