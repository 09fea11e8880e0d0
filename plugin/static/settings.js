// The settings page: fills the form from the saved settings, previews every change against
// the account's recent customers, and saves versions. Text from the server goes in as text.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("cv-config").textContent);
  var token = config.token;
  var form = document.getElementById("cv-form");
  var status = document.getElementById("cv-status");
  var state = { version: null, timer: null, histogram: null, dirty: false, saved: null, signals: {} };

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
    drawRates();
    drawSegments();
    showShares();
  }

  // --- weights: each one's share of its side ---------------------------------------------

  function showShares() {
    ["benefit", "cost"].forEach(function (kind) {
      var inputs = Array.prototype.filter.call(form.elements, function (input) {
        return input.name && input.name.indexOf("weights.") === 0 && input.getAttribute("data-kind") === kind;
      });
      var total = inputs.reduce(function (sum, input) { return sum + (Number(input.value) || 0); }, 0);
      inputs.forEach(function (input) {
        var help = document.getElementById("h-" + input.name);
        var share = total ? Math.round(100 * (Number(input.value) || 0) / total) : 0;
        help.textContent = share + "% of " + (kind === "benefit" ? "benefits" : "costs");
      });
    });
  }

  // --- exchange rates and segments as rows, kept in their hidden JSON fields -------------

  function jsonField(name) { return form.elements[name]; }

  function readJson(name, empty) {
    try { return JSON.parse(jsonField(name).value || empty); } catch (error) { return JSON.parse(empty); }
  }

  function writeJson(name, value) {
    jsonField(name).value = JSON.stringify(value);
    changed();
  }

  function labelled(text, input) {
    var label = cell("label", text + " ");
    label.appendChild(input);
    return label;
  }

  function rateRows() {
    return Array.prototype.map.call(document.querySelectorAll("#cv-rates tbody tr"), function (row) {
      var inputs = row.querySelectorAll("input");
      return [inputs[0].value.trim().toUpperCase(), inputs[1].value];
    });
  }

  function storeRates() {
    var rates = {};
    rateRows().forEach(function (pair) {
      if (pair[0]) { rates[pair[0]] = pair[1] === "" ? pair[1] : Number(pair[1]); }
    });
    writeJson("exchange_rates", rates);
  }

  function addRate(code, rate) {
    var body = document.querySelector("#cv-rates tbody");
    var row = document.createElement("tr");
    var index = body.children.length + 1;
    var codeInput = document.createElement("input");
    codeInput.type = "text"; codeInput.maxLength = 3; codeInput.value = code;
    codeInput.setAttribute("aria-label", "Currency " + index);
    var rateInput = document.createElement("input");
    rateInput.type = "number"; rateInput.step = "any"; rateInput.min = "0"; rateInput.value = rate;
    rateInput.setAttribute("aria-label", "Rate " + index);
    [codeInput, rateInput].forEach(function (input) {
      var td = document.createElement("td");
      td.appendChild(input);
      row.appendChild(td);
      input.addEventListener("input", function (event) { event.stopPropagation(); storeRates(); });
    });
    var remove = cell("button", "Remove");
    remove.type = "button"; remove.className = "c-btn c-btn--sm";
    remove.setAttribute("aria-label", "Remove rate " + index);
    remove.addEventListener("click", function () { row.remove(); storeRates(); });
    var td = document.createElement("td");
    td.appendChild(remove);
    row.appendChild(td);
    body.appendChild(row);
    return codeInput;
  }

  function drawRates() {
    document.querySelector("#cv-rates tbody").replaceChildren();
    var rates = readJson("exchange_rates", "{}");
    Object.keys(rates).forEach(function (code) { addRate(code, rates[code]); });
  }

  document.getElementById("cv-add-rate").addEventListener("click", function () {
    addRate("", "").focus();
  });

  function storeSegments() {
    var segments = Array.prototype.map.call(document.querySelectorAll(".cv-segment"), function (box) {
      var weights = {};
      box.querySelectorAll(".cv-segment-weight").forEach(function (line) {
        var signal = line.querySelector("select").value;
        var weight = line.querySelector("input").value;
        weights[signal] = weight === "" ? weight : Number(weight);
      });
      return { tag: box.querySelector("input[data-tag]").value.trim(), weights: weights };
    });
    writeJson("segments", segments);
  }

  function addWeight(box, signal, weight) {
    var line = cell("div", null);
    line.className = "cv-segment-weight";
    var index = box.querySelectorAll(".cv-segment-weight").length + 1;
    var select = document.createElement("select");
    Object.keys(state.signals).forEach(function (key) {
      var option = cell("option", state.signals[key]);
      option.value = key;
      select.appendChild(option);
    });
    select.value = signal;
    var number = document.createElement("input");
    number.type = "number"; number.min = "0"; number.max = "100"; number.value = weight;
    line.appendChild(labelled("Signal " + index, select));
    line.appendChild(labelled("Weight " + index, number));
    var remove = cell("button", "Remove");
    remove.type = "button"; remove.className = "c-btn c-btn--sm";
    remove.setAttribute("aria-label", "Remove weight " + index);
    remove.addEventListener("click", function () { line.remove(); storeSegments(); });
    line.appendChild(remove);
    [select, number].forEach(function (input) {
      input.addEventListener("input", function (event) { event.stopPropagation(); storeSegments(); });
      input.addEventListener("change", function (event) { event.stopPropagation(); storeSegments(); });
    });
    box.querySelector(".cv-segment-weights").appendChild(line);
  }

  function addSegment(segment) {
    var box = cell("div", null);
    box.className = "cv-segment";
    var head = cell("div", null);
    head.className = "cv-segment-head";
    var tag = document.createElement("input");
    tag.type = "text"; tag.value = segment.tag; tag.setAttribute("data-tag", "");
    tag.addEventListener("input", function (event) { event.stopPropagation(); storeSegments(); });
    var index = document.querySelectorAll(".cv-segment").length + 1;
    head.appendChild(labelled("Segment " + index + " tag", tag));
    var more = cell("button", "Add a weight");
    more.type = "button"; more.className = "c-btn c-btn--sm";
    more.addEventListener("click", function () { addWeight(box, Object.keys(state.signals)[0], ""); storeSegments(); });
    var remove = cell("button", "Remove segment");
    remove.type = "button"; remove.className = "c-btn c-btn--sm";
    remove.setAttribute("aria-label", "Remove segment " + index);
    remove.addEventListener("click", function () { box.remove(); storeSegments(); });
    head.appendChild(more);
    head.appendChild(remove);
    box.appendChild(head);
    var weights = cell("div", null);
    weights.className = "cv-segment-weights";
    box.appendChild(weights);
    Object.keys(segment.weights || {}).forEach(function (key) { addWeight(box, key, segment.weights[key]); });
    document.getElementById("cv-segments").appendChild(box);
    return tag;
  }

  function drawSegments() {
    document.getElementById("cv-segments").replaceChildren();
    readJson("segments", "[]").forEach(addSegment);
  }

  document.getElementById("cv-add-segment").addEventListener("click", function () {
    addSegment({ tag: "", weights: {} }).focus();
    storeSegments();
  });

  // --- unsaved changes ---------------------------------------------------------------------

  function setDirty(dirty) {
    state.dirty = dirty;
    document.getElementById("cv-dirty").hidden = !dirty;
  }

  function changed() {
    setDirty(true);
    showShares();
    previewSoon();
  }

  window.addEventListener("beforeunload", function (event) {
    if (state.dirty) { event.preventDefault(); event.returnValue = ""; }
  });

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
    head.appendChild(cell("td", ""));
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
        var image = document.getElementById("cv-histogram");
        if (answer.status === 422) {
          showErrors(answer.data.error.fields);
          document.getElementById("cv-preview-summary").textContent =
            "Invalid draft: fix the fields marked in red. The chart shows the last valid draft.";
          image.classList.add("cv-stale");
          return;
        }
        showErrors(null);
        image.classList.remove("cv-stale");
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
      var item = cell("li", "v" + v.version + " · " + new Date(v.created_at).toLocaleString("en-GB") +
                            " · " + v.author + (v.note ? " · " + v.note : "") + " ");
      var compare = cell("button", "Changes");
      compare.type = "button"; compare.className = "c-btn c-btn--sm";
      compare.setAttribute("aria-label", "Changes in v" + v.version);
      compare.addEventListener("click", function () { showDiff(Math.max(1, v.version - 1), v.version); });
      item.appendChild(compare);
      if (v.current) {
        item.appendChild(cell("span", " current", "cv-current"));
      } else {
        var back = cell("button", "Roll back to v" + v.version);
        back.type = "button"; back.className = "c-btn c-btn--sm";
        back.addEventListener("click", function () { confirmRollback(v.version); });
        item.appendChild(back);
      }
      list.appendChild(item);
    });
  }

  function shown(value) {
    return value === null || value === undefined ? "none" : JSON.stringify(value);
  }

  function changeLines(changes) {
    var list = document.createElement("ul");
    changes.forEach(function (c) {
      list.appendChild(cell("li", c.label + ": " + shown(c.before) + " → " + shown(c.after)));
    });
    if (!list.children.length) { list.appendChild(cell("li", "No changes.")); }
    return list;
  }

  function showDiff(before, after) {
    api("GET", "/api/settings/diff/" + before + "/" + after).then(function (answer) {
      var box = document.getElementById("cv-diff");
      box.replaceChildren(cell("h3", "v" + before + " → v" + after));
      box.appendChild(changeLines(answer.data.changes || []));
    });
  }

  function confirmRollback(version) {
    api("GET", "/api/settings/diff/" + state.version + "/" + version).then(function (answer) {
      var dialog = document.getElementById("cv-confirm");
      document.getElementById("cv-confirm-title").textContent =
        "Roll back from v" + state.version + " to the settings of v" + version + "?";
      document.getElementById("cv-confirm-changes").replaceChildren(
        ...changeLines(answer.data.changes || []).children);
      var yes = document.getElementById("cv-confirm-yes");
      var no = document.getElementById("cv-confirm-no");
      function close() { yes.onclick = null; dialog.close(); }
      no.onclick = close;
      yes.onclick = function () {
        close();
        status.textContent = "Rolling back…";
        api("POST", "/api/settings/versions/" + version + "/rollback").then(function (done) {
          if (done.status !== 200) {
            status.textContent = "Not rolled back: " + ((done.data.error || {}).message || done.status);
            return;
          }
          afterSave("Rolled back: version " + done.data.version + " has the settings of v" + version + ".");
        });
      };
      dialog.showModal();
    });
  }

  function afterSave(message) {
    document.getElementById("f-note").value = "";
    document.getElementById("cv-diff").replaceChildren();
    setDirty(false);
    return load().then(function () {
      status.textContent = message;
      previewSoon();
    });
  }

  function showHealth(problems) {
    var list = document.getElementById("cv-health");
    list.replaceChildren();
    if (!problems.length) { list.appendChild(cell("li", "No set-up problems found.", "cv-muted")); }
    problems.forEach(function (p) {
      var item = cell("li", null);
      item.appendChild(cell("strong", p.title));
      item.appendChild(cell("div", p.detail, "cv-muted"));
      item.appendChild(cell("div", "What to do: " + p.fix, "cv-problem-fix"));
      list.appendChild(item);
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
      showHealth(answer.data.health);
    });
  }

  Array.prototype.forEach.call(form.querySelectorAll("[name^='weights.']"), function (input) {
    var benefit = config.benefits.indexOf(input.name.slice(8)) >= 0;
    input.setAttribute("data-kind", benefit ? "benefit" : "cost");
  });
  form.addEventListener("input", function (event) {
    if (event.target.id === "f-note") { return; }
    changed();
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "checkbox" || event.target.tagName === "SELECT") { changed(); }
  });
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
          afterSave("Saved as version " + answer.data.version + ".");
        } else {
          status.textContent = "Not saved: " + ((answer.data.error || {}).message || answer.status);
        }
      });
  });
  state.signals = config.signals;
  load();
}());
