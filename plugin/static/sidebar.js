// The sidebar: asks Zendesk (through its ZAF SDK) which ticket, person or organization is open
// and who the agent is, asks the app's API for the glance (already worded and formatted on the
// server, in the agent's language), and places it. Customer-provided text only ever goes in as
// textContent. One polite status region speaks; focus lands on the result of each action.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("cv-config").textContent);
  var t = config.strings;
  var view = document.getElementById("cv-view");
  var root = document.getElementById("cv-root");
  var statusRegion = document.getElementById("cv-status");
  var zaf = window.ZAFClient.init();
  var ctx = { location: config.location, ticketId: null, subjectId: null, agentId: null,
              agentLocale: config.locale, replyLocale: null };
  var shown = null;        // the glance on screen
  var busy = false;        // a reply preview is open: polls do not redraw
  var poll = null, retryDelay = 5000;
  var POLL_FRESH = 60000, POLL_STALE = 10000, RETRY_MAX = 60000, UNDO_MS = 10000;

  function el(tag, className, value) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (value !== undefined && value !== null) { node.textContent = value; }
    return node;
  }

  function button(label, className, accessible) {
    var b = el("button", "c-btn " + (className || ""), label);
    b.type = "button";
    if (accessible && accessible !== label) { b.setAttribute("aria-label", accessible); }
    return b;
  }

  function say(message) {
    statusRegion.textContent = "";
    window.setTimeout(function () { statusRegion.textContent = message; }, 30);
  }

  function focusOn(node) {
    if (!node.hasAttribute("tabindex") && !/^(BUTTON|A|TEXTAREA|INPUT)$/.test(node.tagName)) {
      node.setAttribute("tabindex", "-1");
    }
    node.focus();
  }

  function resize() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    return zaf.invoke("resize", { width: "100%", height: height + "px" });
  }

  function words(key, values) {
    var source = (shown && shown.words) || t;
    var text = source[key] || t[key] || key;
    return String(text).replace(/\{(\w+)\}/g, function (all, name) {
      return values && name in values ? String(values[name]) : all;
    });
  }

  // ---- talking to the app -------------------------------------------------------------
  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + config.token },
                                    options.headers || {});
    return fetch(path, options).then(function (response) {
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        error.retryAfter = Number(response.headers.get("Retry-After")) || 0;
        throw error;
      }
      return response;
    });
  }

  function glancePath(refresh) {
    var base = ctx.location === "organization_sidebar"
      ? "/api/organizations/" + ctx.subjectId + "/glance"
      : "/api/customers/" + ctx.subjectId + "/glance";
    var query = ["locale=" + encodeURIComponent(ctx.agentLocale || "en")];
    if (ctx.replyLocale) { query.push("reply_locale=" + encodeURIComponent(ctx.replyLocale)); }
    if (ctx.ticketId) { query.push("ticket_id=" + encodeURIComponent(ctx.ticketId)); }
    if (refresh) { query.push("refresh=1"); }
    return base + "?" + query.join("&");
  }

  var pending = {};  // dismissals not yet recorded, by suggestion id
  window.addEventListener("pagehide", function () {
    Object.keys(pending).forEach(function (id) { pending[id](); });
  });

  function record(suggestion, outcome) {
    // Feedback is kept per person and ticket; the organization page has neither.
    if (ctx.location === "organization_sidebar") { return Promise.resolve(); }
    return api("/api/customers/" + ctx.subjectId + "/suggestions/" +
               encodeURIComponent(suggestion.id), {
      method: "POST", headers: { "Content-Type": "application/json" }, keepalive: true,
      body: JSON.stringify({ outcome: outcome, ticket_id: ctx.ticketId ? Number(ctx.ticketId) : null })
    }).catch(function () { /* feedback is best effort */ });
  }

  // ---- the glance card ------------------------------------------------------------------
  function scale(value) {
    var box = el("div", "cv-scale");
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", value.label + "; " +
                     value.thresholds.map(function (x) { return x.label; }).join(", "));
    var track = el("div", "cv-scale-track");
    value.thresholds.forEach(function (x, i) {
      var tick = el("span", "cv-scale-tick cv-scale-tick--" + (i ? "high" : "low"));
      tick.style.left = (100 * x.at) + "%";
      track.appendChild(tick);
    });
    var marker = el("span", "cv-scale-marker");
    marker.style.left = (100 * value.position) + "%";
    track.appendChild(marker);
    box.appendChild(track);
    // One row under the track: the scale's ends, and the tier thresholds between them.
    var labels = el("div", "cv-scale-labels");
    labels.appendChild(el("span", "", value.scale[0]));
    labels.appendChild(el("span", "cv-scale-thresholds",
                          value.thresholds.map(function (x) { return x.label; }).join(" · ")));
    labels.appendChild(el("span", "", value.scale[value.scale.length - 1]));
    box.appendChild(labels);
    return box;
  }

  function card(body) {
    var glance = el("section", "cv-glance");
    glance.setAttribute("aria-labelledby", "cv-value-heading");
    var head = el("div", "cv-head");
    var heading = el("h2", "cv-value-heading");
    heading.id = "cv-value-heading";
    heading.appendChild(el("span", "cv-visually-hidden", words("value") + " "));
    heading.appendChild(el("span", "cv-value", body.value.text));
    head.appendChild(heading);
    // Beside the value: its tier, and under it the trend (arrow and change over 30 days);
    // read in that order, value, trend, tier.
    var side = el("div", "cv-head-side");
    if (body.trend) {
      var trend = el("span", "cv-trend cv-trend--" + body.trend.direction);
      trend.appendChild(el("span", "cv-arrow", body.trend.arrow)).setAttribute("aria-hidden", "true");
      trend.appendChild(el("span", "cv-visually-hidden", words("trend_label") + ": "));
      trend.appendChild(document.createTextNode(" " + body.trend.text));
      side.appendChild(trend);
    }
    side.appendChild(el("span", "cv-badge tier-" + body.tier.key, body.tier.label));
    head.appendChild(side);
    glance.appendChild(head);
    glance.appendChild(scale(body.value));
    if (body.reasons) { glance.appendChild(el("p", "cv-reasons", body.reasons)); }
    var meta = el("p", "cv-meta");
    [body.little_data, body.coverage].forEach(function (text) {
      if (!text) { return; }
      if (meta.childNodes.length) { meta.appendChild(document.createTextNode(" · ")); }
      meta.appendChild(el("span", "", text));
    });
    if (meta.childNodes.length) { glance.appendChild(meta); }
    if (body.pin) { glance.appendChild(el("p", "cv-pin", body.pin)); }
    body.notices.forEach(function (n) { glance.appendChild(el("p", "cv-note", n)); });
    return glance;
  }

  // ---- suggestions ------------------------------------------------------------------------
  function suggestionItem(s) {
    var item = el("article", "cv-suggestion");
    var titleId = "cv-s-" + s.id;
    item.setAttribute("aria-labelledby", titleId);
    var title = el("h3", "cv-suggestion-title", s.title);
    title.id = titleId;
    item.appendChild(title);
    item.appendChild(el("p", "cv-suggestion-reason", s.reason));
    var actions = el("div", "cv-suggestion-actions");
    var go = button(s.action.label, "c-btn--primary c-btn--sm", s.action.accessible);
    var dismiss = button(words("dismiss"), "c-btn--quiet c-btn--sm", s.dismiss);
    actions.appendChild(go);
    actions.appendChild(dismiss);
    item.appendChild(actions);
    go.addEventListener("click", function () {
      if (s.action.type === "reply") { return preview(s, item, actions); }
      act(s).then(function () { done(s, item, s.action.type === "tag"
        ? words("tag_added", { tag: s.action.value }) : words("applied", { title: s.title })); });
    });
    dismiss.addEventListener("click", function () { dismissed(s, item); });
    return item;
  }

  function act(s) {
    var a = s.action;
    if (a.type === "macro") { return zaf.invoke("macro", a.value); }
    if (a.type === "tag") { return zaf.invoke("ticket.tags.add", a.value); }
    if (a.type === "link") { window.open(a.value, "_blank", "noopener"); }
    return Promise.resolve();
  }

  // On the organization page no ticket is open: the reply is copied, to go into the next one.
  function copying() { return ctx.location === "organization_sidebar"; }

  function copyText(box) {
    box.focus();
    box.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    if (copied) { return Promise.resolve(); }
    return navigator.clipboard.writeText(box.value);
  }

  function preview(s, item, actions) {
    busy = true;
    var form = el("div", "cv-preview");
    var id = "cv-reply-" + s.id;
    var label = el("label", "cv-preview-label", words(copying() ? "copy_label" : "reply_label"));
    label.htmlFor = id;
    var box = el("textarea", "cv-preview-text");
    box.id = id;
    box.rows = 5;
    box.value = (s.action.greeting ? s.action.greeting + "\n\n" : "") + s.action.value;
    var row = el("div", "cv-suggestion-actions");
    var insert = copying()
      ? button(words("copy"), "c-btn--primary c-btn--sm", words("copy_for", { title: s.title }))
      : button(words("insert"), "c-btn--primary c-btn--sm",
               words("insert_for", { title: s.title }));
    var cancel = button(words("cancel"), "c-btn--quiet c-btn--sm");
    row.appendChild(insert);
    row.appendChild(cancel);
    form.appendChild(label);
    form.appendChild(box);
    form.appendChild(row);
    actions.replaceWith(form);
    resize();
    focusOn(box);
    insert.addEventListener("click", function () {
      var put = copying() ? copyText(box) : zaf.invoke("ticket.editor.insert", box.value);
      put.then(function () {
        busy = false;
        record(s, "accepted");
        done(s, item, words(copying() ? "copied" : "inserted", { title: s.title }));
      });
    });
    cancel.addEventListener("click", function () {
      busy = false;
      form.replaceWith(actions);
      resize();
      focusOn(actions.querySelector("button"));
    });
  }

  function done(s, item, message) {
    if (s.action.type !== "reply") { record(s, "accepted"); }
    var result = el("p", "cv-done", message);
    item.replaceWith(result);
    resize();
    focusOn(result);
    say(message);
  }

  function dismissed(s, item) {
    var note = el("p", "cv-dismissed", words("dismissed", { title: s.title }) + " ");
    var undo = button(words("undo"), "c-btn--quiet c-btn--sm", words("undo_for", { title: s.title }));
    note.appendChild(undo);
    // Recorded once the chance to undo has passed (or the page goes away).
    var send = function () { record(s, "dismissed"); delete pending[s.id]; };
    var timer = window.setTimeout(send, UNDO_MS);
    pending[s.id] = function () { window.clearTimeout(timer); send(); };
    undo.addEventListener("click", function () {
      window.clearTimeout(timer);
      delete pending[s.id];
      note.replaceWith(item);
      resize();
      focusOn(item.querySelector(".cv-suggestion-title"));
      say(words("restored", { title: s.title }));
    });
    item.replaceWith(note);
    resize();
    focusOn(undo);
    say(words("dismissed", { title: s.title }));
  }

  // ---- details ----------------------------------------------------------------------------
  function detailsKey() { return "cv.details." + (ctx.agentId || "agent"); }

  function signalList(items) {
    var list = el("ul", "cv-signals");
    items.forEach(function (s) {
      var li = el("li", "cv-signal-" + s.kind);
      var head = el("div", "cv-signal-head");
      head.appendChild(el("span", "", s.label));
      head.appendChild(el("span", "", s.points));
      li.appendChild(head);
      var bar = el("span", "cv-bar");
      bar.setAttribute("aria-hidden", "true");
      var fill = el("span", "cv-bar-fill");
      fill.style.width = Math.round(100 * s.share) + "%";
      bar.appendChild(fill);
      li.appendChild(bar);
      li.appendChild(el("span", "cv-signal-evidence", s.evidence || s.fact));
      list.appendChild(li);
    });
    return list;
  }

  function section(titleText, content) {
    var box = el("section", "cv-detail");
    var h = el("h3", "", titleText);
    box.appendChild(h);
    box.appendChild(content);
    return box;
  }

  function pairs(rows) {
    var dl = el("dl", "cv-pairs");
    rows.forEach(function (row) { dl.appendChild(el("dt", "", row[0])); dl.appendChild(el("dd", "", row[1])); });
    return dl;
  }

  function details(body) {
    var d = body.details;
    var box = el("details", "cv-details");
    var summary = el("summary", "", words("details"));
    box.appendChild(summary);
    if (body.suggestions.length > 1) {
      var more = el("div", "");
      body.suggestions.slice(1).forEach(function (s) { more.appendChild(suggestionItem(s)); });
      box.appendChild(section(words("more_suggestions"), more));
    }
    if (d.people) {
      var people = el("ol", "cv-people");
      d.people.forEach(function (p) { people.appendChild(el("li", "", p)); });
      box.appendChild(section(words("people"), people));
    }
    if (d.benefits.length) { box.appendChild(section(words("benefits"), signalList(d.benefits))); }
    if (d.costs.length) { box.appendChild(section(words("costs"), signalList(d.costs))); }
    if (d.unmeasured.length) {
      var none = el("ul", "cv-unmeasured");
      d.unmeasured.forEach(function (item) {
        var li = el("li", "");
        li.appendChild(el("span", "cv-unmeasured-label", item.label));
        if (item.reason) { li.appendChild(el("span", "cv-unmeasured-reason", item.reason)); }
        none.appendChild(li);
      });
      box.appendChild(section(words("unmeasured"), none));
    }
    if (d.money) {
      box.appendChild(section(words("money_view"), pairs([[words("money_source"), d.money.source],
        [words("money_spend"), d.money.spend],
        [words("money_cost"), d.money.cost], [words("money_net"), d.money.net]])));
    }
    if (d.lifetime) {
      box.appendChild(section(words("lifetime"), pairs(d.lifetime)));
    }
    box.open = window.localStorage.getItem(detailsKey()) === "open";
    box.addEventListener("toggle", function () {
      window.localStorage.setItem(detailsKey(), box.open ? "open" : "closed");
      resize();
    });
    return box;
  }

  // ---- states -----------------------------------------------------------------------------
  function render(body, focusResult) {
    // A person's page has no ticket to act on; the organization's shows the suggestions
    // that need none (a reply to copy, a link).
    if (ctx.location === "user_sidebar") { body.suggestions = []; }
    shown = body;
    var parts = [card(body)];
    var next = el("section", "cv-next");
    next.setAttribute("aria-labelledby", "cv-next-heading");
    var nextHeading = el("h2", "cv-label", words("suggestions"));
    nextHeading.id = "cv-next-heading";
    next.appendChild(nextHeading);
    if (body.suggestions.length) { next.appendChild(suggestionItem(body.suggestions[0])); }
    else {
      next.appendChild(el("p", "cv-muted", words(copying() ? "no_org_suggestions" : "no_suggestions")));
    }
    if (ctx.location !== "user_sidebar") { parts.push(next); }
    parts.push(details(body));
    var foot = el("footer", "cv-foot");
    var when = el("span", "cv-updated", body.updated);
    var refresh = button(words("refresh"), "c-btn--quiet c-btn--sm");
    refresh.addEventListener("click", function () {
      when.textContent = words("updating");
      load(true).then(function (painted) {
        if (painted === false) { return; }
        var heading = document.getElementById("cv-value-heading");
        if (heading) { focusOn(heading); say(words("refreshed")); }
      });
    });
    foot.appendChild(when);
    foot.appendChild(refresh);
    parts.push(foot);
    view.replaceChildren.apply(view, parts);
    if (statusRegion.textContent === t.loading) { statusRegion.textContent = ""; }
    root.setAttribute("aria-busy", "false");
    document.documentElement.setAttribute("data-state", "ready");
    if (window.performance && performance.mark) { performance.mark("cv-glance-painted"); }
    if (focusResult) { focusOn(document.getElementById("cv-value-heading")); }
    schedule(body.stale ? POLL_STALE : POLL_FRESH);
    return resize();
  }

  function message(state, title, text, action) {
    var box = el("section", "cv-message cv-message--" + state);
    var h = el("h2", "", title);
    box.appendChild(h);
    if (text) { box.appendChild(el("p", "cv-muted", text)); }
    if (action) { box.appendChild(action); }
    view.replaceChildren(box);
    root.setAttribute("aria-busy", "false");
    document.documentElement.setAttribute("data-state", state);
    say(title);
    resize();
    return box;
  }

  function failed(error) {
    if (error && error.status === 404) {
      return message("new", words("not_found_title"), words("not_found_body"));
    }
    if (error && error.status === 401) { return resign(); }
    if (error && (error.status === 403 || error.status === 502)) {
      // Not an outage: the app's set-up (installation, API credentials) needs an admin.
      return message("setup", words("setup_title"), words("setup_body"));
    }
    var now = button(words("retry"), "c-btn--sm");
    now.addEventListener("click", function () { load(false); });
    message("unavailable", words("unavailable"), null, now);
    schedule(retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX);
  }

  // The app's session (15 minutes) ran out: ask the host for a fresh signed load of this
  // iframe, which brings a new session with it. Zendesk documents no action for that (the
  // demo's host honours `app.reload`); where the host refuses it, the agent is told how to
  // sign in again: Zendesk's "Reload all apps", or the button, which loads the page again.
  function resign() {
    document.documentElement.setAttribute("data-state", "resigning");
    say(words("resigning"));
    return zaf.invoke("app.reload").catch(function () {
      var again = button(words("reload"), "c-btn--sm");
      again.addEventListener("click", function () { window.location.reload(); });
      message("expired", words("expired_title"), words("expired_body"), again);
    });
  }

  function schedule(ms) {
    if (poll) { window.clearTimeout(poll); }
    poll = window.setTimeout(function () { poll = null; quietly(); }, ms);
  }

  // A background update landed (or time passed): redraw unless the agent is in the middle of
  // something; the freshness line always moves on.
  function quietly() {
    return api(glancePath(false)).then(function (r) { return r.json(); }).then(function (body) {
      retryDelay = 5000;
      var changed = !shown || body.computed_at !== shown.computed_at || body.stale !== shown.stale;
      if (!shown || (changed && !busy && !view.contains(document.activeElement))) {
        return render(body, false);
      }
      var when = view.querySelector(".cv-updated");
      if (when) { when.textContent = body.updated; }
      schedule(body.stale ? POLL_STALE : POLL_FRESH);
    }, function (error) {
      // A glance on screen stays there through a passing failure; the next poll tries again.
      if (shown && error && error.status !== 401 && error.status !== 404) {
        return schedule(POLL_STALE);
      }
      failed(error);
    });
  }

  function load(refresh) {
    root.setAttribute("aria-busy", "true");
    return api(glancePath(refresh)).then(function (r) { return r.json(); })
      .then(function (body) { retryDelay = 5000; return render(body, false); }, function (error) {
        if (refresh && shown && error && error.status === 429) { return limited(error.retryAfter); }
        return failed(error);
      });
  }

  // A refresh asked for too soon after the last (the app allows one every few seconds): the
  // value on screen stays, and the freshness line says quietly when the next is possible.
  function limited(seconds) {
    root.setAttribute("aria-busy", "false");
    var when = view.querySelector(".cv-updated");
    if (when) { when.textContent = words("refresh_soon"); }
    say(words("refresh_soon"));
    window.setTimeout(function () {
      var line = view.querySelector(".cv-updated");
      if (line && shown && line.textContent === words("refresh_soon")) { line.textContent = shown.updated; }
    }, 1000 * Math.max(seconds || 0, 1));
    return false;
  }

  // ---- where the app is -------------------------------------------------------------------
  var paths = { ticket_sidebar: ["ticket.id", "ticket.requester.id", "ticket.requester.locale"],
                user_sidebar: ["user.id", "user.locale"],
                organization_sidebar: ["organization.id"] };

  zaf.context().then(function (context) {
    ctx.location = context.location || ctx.location || "ticket_sidebar";
    return zaf.get(["currentUser.id", "currentUser.locale"].concat(paths[ctx.location] || []));
  }).then(function (data) {
    ctx.agentId = data["currentUser.id"];
    ctx.agentLocale = data["currentUser.locale"] || ctx.agentLocale;
    document.documentElement.lang = ctx.agentLocale;
    if (ctx.location === "ticket_sidebar") {
      ctx.ticketId = data["ticket.id"];
      ctx.subjectId = data["ticket.requester.id"];
      ctx.replyLocale = data["ticket.requester.locale"] || null;
    } else if (ctx.location === "user_sidebar") {
      ctx.subjectId = data["user.id"];
      ctx.replyLocale = data["user.locale"] || null;
    } else {
      ctx.subjectId = data["organization.id"];
    }
    if (!ctx.subjectId) { return message("new", words("no_requester")); }
    zaf.on("app.activated", function () { quietly(); });
    return load(false);
  }).catch(failed);
}());
