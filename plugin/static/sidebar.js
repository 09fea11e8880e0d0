// The ticket sidebar: reads the ticket through the ZAF SDK, asks the app's API for the
// requester's value, and renders it. Customer-provided text only ever goes in as textContent.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("cv-config").textContent);
  var t = config.strings;
  var root = document.getElementById("cv-root");
  var zaf = window.ZAFClient.init();
  var context = { ticketId: null, requesterId: null };

  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + config.token },
                                    options.headers || {});
    return fetch(path, options).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response;
    });
  }

  function field(node, name) { return node.querySelector('[data-field="' + name + '"]'); }

  function text(tag, className, value) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    element.textContent = value;
    return element;
  }

  function bar(points, max) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "cv-bar");
    svg.setAttribute("viewBox", "0 0 100 6");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    var track = document.createElementNS(ns, "rect");
    track.setAttribute("class", "track"); track.setAttribute("width", "100");
    track.setAttribute("height", "6"); track.setAttribute("rx", "3");
    var fill = document.createElementNS(ns, "rect");
    fill.setAttribute("class", "fill"); fill.setAttribute("height", "6"); fill.setAttribute("rx", "3");
    fill.setAttribute("width", String(max > 0 ? Math.max(0, Math.min(100, 100 * points / max)) : 0));
    svg.appendChild(track); svg.appendChild(fill);
    return svg;
  }

  function signals(list, items) {
    items.filter(function (s) { return s.max_points > 0; }).forEach(function (s) {
      var item = document.createElement("li");
      var head = document.createElement("div");
      head.className = "cv-signal-head";
      head.appendChild(text("span", "", s.label));
      head.appendChild(text("span", "", s.points.toFixed(1) + " / " + s.max_points));
      item.appendChild(head);
      item.appendChild(bar(s.points, s.max_points));
      item.appendChild(text("span", "cv-signal-evidence", s.evidence));
      list.appendChild(item);
    });
  }

  function act(suggestion) {
    var action = suggestion.action;
    if (action.type === "reply") { return zaf.invoke("ticket.comment.appendText", action.value); }
    if (action.type === "macro") { return zaf.invoke("macro", action.value); }
    if (action.type === "tag") { return zaf.invoke("ticket.tags.add", action.value); }
    if (action.type === "link") { window.open(action.value, "_blank", "noopener"); }
    return Promise.resolve();
  }

  function record(suggestion, outcome) {
    return api("/api/customers/" + context.requesterId + "/suggestions/" +
               encodeURIComponent(suggestion.id), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ outcome: outcome, ticket_id: context.ticketId })
    }).catch(function () { /* feedback is best effort */ });
  }

  function suggestionItem(suggestion) {
    var item = document.createElement("li");
    item.appendChild(text("div", "cv-suggestion-title", suggestion.title));
    item.appendChild(text("p", "cv-suggestion-reason", suggestion.reason));
    var actions = document.createElement("div");
    actions.className = "cv-suggestion-actions";
    var go = text("button", "c-btn c-btn--primary c-btn--sm", t["action_" + suggestion.action.type]);
    go.type = "button";
    var dismiss = text("button", "c-btn c-btn--sm", t.dismiss);
    dismiss.type = "button";
    go.addEventListener("click", function () {
      Promise.resolve(act(suggestion)).then(function () {
        record(suggestion, "accepted");
        actions.replaceChildren(text("span", "cv-done", t.done));
        resize();
      });
    });
    dismiss.addEventListener("click", function () {
      record(suggestion, "dismissed");
      item.remove();
      resize();
    });
    actions.appendChild(go); actions.appendChild(dismiss);
    item.appendChild(actions);
    return item;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? String(values[name]) : all;
    });
  }

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat(config.locale, { style: "currency", currency: currency,
                                                    maximumFractionDigits: 0 }).format(amount);
    } catch (e) {
      return currency + " " + Math.round(amount);
    }
  }

  // Lifetime spend, purchases, frequency, recency and average deal (the JSON's spend block).
  function spend(view, s) {
    if (!s) { return; }
    var none = t.none_yet;
    field(view, "spend").hidden = false;
    field(view, "spend-source").textContent = t["source_" + s.source] || "";
    field(view, "spend-lifetime").textContent = s.lifetime ? money(s.lifetime, s.currency) : none;
    field(view, "spend-purchases").textContent = s.purchases || s.lost
      ? fill(t.purchases_value, { won: s.purchases, lost: s.lost }) : none;
    field(view, "spend-frequency").textContent = s.purchases
      ? fill(t.per_year, { n: s.per_year.toFixed(1) }) : none;
    field(view, "spend-recency").textContent = s.last_purchase_days === null ? none
      : fill(t.days_ago, { n: Math.round(s.last_purchase_days) });
    field(view, "spend-average").textContent = s.purchases
      ? money(s.average_deal, s.currency) : none;
  }

  function render(body) {
    var view = document.getElementById("cv-template").content.cloneNode(true);
    field(view, "value").textContent = (body.value > 0 ? "+" : "") + body.value.toFixed(1);
    var tier = field(view, "tier");
    tier.textContent = t["tier_" + body.tier];
    tier.classList.add("tier-" + body.tier);
    field(view, "little-data").hidden = !body.little_data;
    var notices = (body.notices || []).slice();
    if (body.stale) { notices.push(t.stale); }
    notices.forEach(function (n) { field(view, "notices").appendChild(text("li", "", n)); });
    spend(view, body.spend);
    field(view, "total-benefits").textContent = "(" + body.total_benefits.toFixed(1) + ")";
    field(view, "total-costs").textContent = "(" + body.total_costs.toFixed(1) + ")";
    signals(field(view, "benefits"), body.benefits);
    signals(field(view, "costs"), body.costs);
    var list = field(view, "suggestions");
    if (!body.suggestions.length) { list.appendChild(text("li", "cv-muted", t.no_suggestions)); }
    body.suggestions.forEach(function (s) { list.appendChild(suggestionItem(s)); });
    var when = field(view, "computed-at");
    when.dateTime = body.computed_at;
    when.textContent = new Date(body.computed_at).toLocaleString(config.locale);
    view.querySelector('[data-action="refresh"]').addEventListener("click", function () {
      load(true);
    });
    var trend = field(view, "trend");
    trend.alt = t.trend;
    api("/api/customers/" + context.requesterId + "/trend.svg").then(function (r) {
      return r.blob();
    }).then(function (blob) {
      trend.src = URL.createObjectURL(blob);
    }).catch(function () { trend.hidden = true; });
    root.replaceChildren(view);
    root.setAttribute("aria-busy", "false");
    resize();
  }

  function failed() {
    var retry = text("button", "c-btn c-btn--sm", t.retry);
    retry.type = "button";
    retry.addEventListener("click", function () { load(true); });
    root.replaceChildren(text("p", "cv-flag", t.error), retry);
    root.setAttribute("aria-busy", "false");
    resize();
  }

  function resize() {
    zaf.invoke("resize", { width: "100%", height: document.body.scrollHeight + "px" });
  }

  function load(refresh) {
    root.setAttribute("aria-busy", "true");
    var query = "?ticket_id=" + encodeURIComponent(context.ticketId || "") +
                (refresh ? "&refresh=1" : "");
    return api("/api/customers/" + context.requesterId + "/value" + query)
      .then(function (r) { return r.json(); })
      .then(render, failed);
  }

  zaf.get(["ticket.id", "ticket.requester.id"]).then(function (data) {
    context.ticketId = data["ticket.id"];
    context.requesterId = data["ticket.requester.id"];
    if (!context.requesterId) {
      root.replaceChildren(text("p", "cv-muted", t.no_requester));
      return resize();
    }
    return load(false);
  }, failed);
}());
