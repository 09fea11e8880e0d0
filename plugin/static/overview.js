// The account overview: tier shares, movers, customers at risk, the ranked customers (paged
// on the server) and pinned tiers. Everything from the server goes in as text, never HTML.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("cv-config").textContent);
  var filters = document.getElementById("cv-filters");
  var state = { page: 1, perPage: 25, total: 0, timer: null };

  function api(method, path, body) {
    var options = { method: method, headers: { Authorization: "Bearer " + config.token } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    });
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function signed(number) {
    return (number > 0 ? "+" : number < 0 ? "−" : "") + Math.abs(number).toFixed(1);
  }

  function customerLink(row) {
    var link = el("a", row.name || ("User " + row.user_id));
    link.href = row.zendesk_url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  }

  function badge(tier, pinned) {
    var node = el("span", tier + (pinned ? " (pinned)" : ""), "cv-badge tier-" + tier);
    return node;
  }

  function reasons(row) {
    var parts = row.moved.length ? row.moved.map(function (m) { return m.label + " " + signed(m.points); })
      : row.top_drivers.map(function (d) { return d.label + " " + signed(d.points); });
    return parts.concat(row.risks).join("; ");
  }

  function list(id, rows, describe) {
    var ul = document.getElementById(id);
    ul.textContent = "";
    if (!rows.length) { ul.appendChild(el("li", "None right now.", "cv-muted")); return; }
    rows.forEach(function (row) {
      var li = el("li");
      li.appendChild(customerLink(row));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(badge(row.tier, row.pinned));
      li.appendChild(el("div", describe(row), "cv-muted"));
      ul.appendChild(li);
    });
  }

  function options(select, values) {
    var keep = select.value;
    values.forEach(function (value) {
      var option = el("option", value);
      option.value = value;
      select.appendChild(option);
    });
    select.value = keep;
  }

  function loadSummary() {
    return api("GET", "/api/overview").then(function (answer) {
      var data = answer.data;
      document.getElementById("cv-refreshed").textContent = data.refreshed_at
        ? "Values as of " + data.refreshed_at.replace("T", " ").replace("Z", " UTC") + "."
        : "No values yet: the worker computes them within a few minutes.";
      var chart = document.getElementById("cv-shares");
      chart.textContent = "";
      var image = el("img");
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(data.shares_svg);
      image.alt = "Share of customers by tier over 90 days: high " + data.tiers.high +
        ", medium " + data.tiers.medium + ", low " + data.tiers.low + " customers now.";
      chart.appendChild(image);
      list("cv-drops", data.drops, function (row) { return signed(row.change_30d) + " · " + reasons(row); });
      list("cv-rises", data.rises, function (row) { return signed(row.change_30d) + " · " + reasons(row); });
      list("cv-at-risk", data.at_risk, function (row) { return row.risks.join("; "); });
      if (filters.segment.options.length === 1) {
        options(filters.segment, data.choices.segments);
        options(filters.organization, data.choices.organizations);
      }
    });
  }

  function query() {
    var params = new URLSearchParams();
    ["q", "tier", "segment", "organization", "sort", "order"].forEach(function (name) {
      if (filters[name].value) { params.set(name, filters[name].value); }
    });
    ["little_data", "at_risk"].forEach(function (name) {
      if (filters[name].checked) { params.set(name, "1"); }
    });
    return params;
  }

  function loadCustomers() {
    var params = query();
    params.set("page", state.page);
    params.set("per_page", state.perPage);
    return api("GET", "/api/overview/customers?" + params.toString()).then(function (answer) {
      var data = answer.data;
      state.total = data.total;
      var body = document.querySelector("#cv-customers tbody");
      body.textContent = "";
      data.customers.forEach(function (row) {
        var tr = el("tr");
        var who = el("td");
        who.appendChild(customerLink(row));
        if (row.little_data) { who.appendChild(el("span", " little data", "cv-muted")); }
        tr.appendChild(who);
        tr.appendChild(el("td", row.organization));
        tr.appendChild(el("td", row.segment));
        tr.appendChild(el("td", row.value.toFixed(1)));
        var tier = el("td");
        tier.appendChild(badge(row.tier, row.pinned));
        tr.appendChild(tier);
        tr.appendChild(el("td", signed(row.change_30d), row.change_30d < 0 ? "cv-down" : row.change_30d > 0 ? "cv-up" : ""));
        tr.appendChild(el("td", reasons(row)));
        body.appendChild(tr);
      });
      var pages = Math.max(1, Math.ceil(data.total / state.perPage));
      document.getElementById("cv-count").textContent = (data.more ? "Over " : "") +
        data.total.toLocaleString("en") + (data.total === 1 ? " customer matches." : " customers match.");
      document.getElementById("cv-page").textContent = "Page " + state.page + " of " + pages;
      document.getElementById("cv-prev").disabled = state.page <= 1;
      document.getElementById("cv-next").disabled = state.page >= pages;
    });
  }

  function changed() {
    state.page = 1;
    clearTimeout(state.timer);
    state.timer = setTimeout(loadCustomers, 250);
  }

  filters.addEventListener("input", changed);
  filters.addEventListener("change", changed);
  filters.addEventListener("submit", function (event) { event.preventDefault(); });
  document.getElementById("cv-prev").addEventListener("click", function () { state.page -= 1; loadCustomers(); });
  document.getElementById("cv-next").addEventListener("click", function () { state.page += 1; loadCustomers(); });
  document.getElementById("cv-export").addEventListener("click", function () {
    fetch("/api/overview/customers.csv?" + query().toString(),
          { headers: { Authorization: "Bearer " + config.token } })
      .then(function (response) { return response.blob(); })
      .then(function (blob) {
        var link = el("a");
        link.href = URL.createObjectURL(blob);
        link.download = "customer-values.csv";
        document.body.appendChild(link);
        link.click();
        link.remove();
      });
  });

  function loadPins() {
    return api("GET", "/api/overrides").then(function (answer) {
      var body = document.querySelector("#cv-pins tbody");
      body.textContent = "";
      answer.data.overrides.forEach(function (pin) {
        var tr = el("tr");
        tr.appendChild(el("td", (pin.subject === "user" ? "Customer " : "Organization ") + pin.subject_id));
        var tier = el("td");
        tier.appendChild(badge(pin.tier, false));
        tr.appendChild(tier);
        tr.appendChild(el("td", pin.reason));
        tr.appendChild(el("td", pin.expires_at.slice(0, 10)));
        tr.appendChild(el("td", pin.pinned_by));
        if (config.can_manage) {
          var cell = el("td");
          var end = el("button", "End pin", "c-btn c-btn--sm");
          end.type = "button";
          end.setAttribute("aria-label", "End pin of " + (pin.subject === "user" ? "customer " : "organization ") + pin.subject_id);
          end.addEventListener("click", function () {
            api("DELETE", "/api/overrides/" + pin.id).then(refreshAll);
          });
          cell.appendChild(end);
          tr.appendChild(cell);
        }
        body.appendChild(tr);
      });
      var events = document.getElementById("cv-pin-events");
      events.textContent = "";
      answer.data.events.forEach(function (e) {
        events.appendChild(el("li", e.at.slice(0, 16).replace("T", " ") + " · " + e.by + " · " +
          e.action + " " + e.tier + " until " + e.expires_at.slice(0, 10) + " · " + e.reason));
      });
    });
  }

  var pinForm = document.getElementById("cv-pin");
  if (pinForm) {
    pinForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = document.getElementById("cv-pin-status");
      var day = pinForm.expires_at.value;
      api("POST", "/api/overrides", {
        subject: pinForm.subject.value, subject_id: Number(pinForm.subject_id.value),
        tier: pinForm.tier.value, reason: pinForm.reason.value,
        expires_at: day ? day + "T23:59:59+00:00" : null
      }).then(function (answer) {
        if (answer.status === 201) {
          status.textContent = "Pinned.";
          pinForm.reset();
          refreshAll();
        } else {
          status.textContent = answer.data.error.message;
        }
      });
    });
  }

  var refreshButton = document.getElementById("cv-refresh");
  if (refreshButton) {
    refreshButton.addEventListener("click", function () {
      refreshButton.disabled = true;
      api("POST", "/api/overview/refresh").then(function () {
        refreshButton.disabled = false;
        refreshAll();
      });
    });
  }

  function loadAlerts() {
    return api("GET", "/api/alerts").then(function (answer) {
      var rules = document.getElementById("cv-rules");
      rules.textContent = "";
      if (!answer.data.rules.length) { rules.appendChild(el("li", "No alert rules yet.", "cv-muted")); }
      answer.data.rules.forEach(function (rule) {
        var li = el("li", rule.label + " → " + rule.actions.map(function (a) {
          return a.type === "tag" ? "tag " + a.tag : a.type === "priority" ? "priority " + a.priority
            : a.type === "webhook" ? "webhook" : "internal note";
        }).join(", ") + " ");
        if (config.is_admin) {
          var remove = el("button", "Remove rule", "c-btn c-btn--sm");
          remove.type = "button";
          remove.setAttribute("aria-label", "Remove rule: " + rule.label);
          remove.addEventListener("click", function () {
            api("DELETE", "/api/alerts/rules/" + rule.id).then(loadAlerts);
          });
          li.appendChild(remove);
        }
        rules.appendChild(li);
      });
      var raisedList = document.getElementById("cv-alert-list");
      raisedList.textContent = "";
      if (!answer.data.alerts.length) { raisedList.appendChild(el("li", "No alerts so far.", "cv-muted")); }
      answer.data.alerts.forEach(function (alert) {
        var li = el("li");
        li.appendChild(customerLink({ name: alert.name, user_id: alert.user_id, zendesk_url: alert.zendesk_url }));
        li.appendChild(el("div", alert.fired_at.slice(0, 16).replace("T", " ") + " · " + alert.rule + ": " + alert.reason +
          (alert.ended_at ? " (over)" : ""), "cv-muted"));
        li.appendChild(el("div", alert.done.map(function (d) {
          return d.type + (d.ok ? " done" : " failed") + (d.detail ? " (" + d.detail + ")" : "");
        }).join("; "), "cv-muted"));
        raisedList.appendChild(li);
      });
    });
  }

  var ruleForm = document.getElementById("cv-rule");
  if (ruleForm) {
    ruleForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var actions = [];
      if (ruleForm.note.checked) { actions.push({ type: "note" }); }
      if (ruleForm.tag.checked) { actions.push({ type: "tag", tag: ruleForm.tag_name.value }); }
      if (ruleForm.priority.checked) { actions.push({ type: "priority", priority: ruleForm.priority_level.value }); }
      if (ruleForm.webhook.checked) { actions.push({ type: "webhook", url: ruleForm.url.value }); }
      var status = document.getElementById("cv-rule-status");
      api("POST", "/api/alerts/rules", {
        kind: ruleForm.kind.value, threshold: Number(ruleForm.threshold.value), actions: actions
      }).then(function (answer) {
        status.textContent = answer.status === 201 ? "Rule added." : answer.data.error.message;
        loadAlerts();
      });
    });
  }

  function refreshAll() {
    return Promise.all([loadSummary(), loadCustomers(), loadPins(), loadAlerts()]);
  }

  refreshAll();
}());
