// Demo harness: plays Zendesk's side of the ZAF SDK's postMessage protocol for the sidebar
// iframe (the sidebar runs Zendesk's real SDK). Zendesk loads an app's iframe with
// `?origin=<host origin>&app_guid=<guid>`; the SDK sends JSON strings to window.parent:
//   {key: "iframe.handshake", message: {version}}          -> we answer zaf.app.registered
//   {id, request: "get", params: [path, ...]}              -> {id, result: {path: value}}
//   {id, request: "invoke", params: {name: [args]}}        -> {id, result: {}} (or error)
//   {key: "iframe.on:<event>", message: {subscriberCount}} -> remembered; we fire zaf.<event>
// With a signing path the host POSTs the iframe a fresh signed token, as Zendesk does, and
// again when the app asks to be reloaded (its session ran out).
(function () {
  "use strict";
  var host = JSON.parse(document.getElementById("cv-host").textContent);
  var frame = document.getElementById("cv-frame");
  var comment = document.getElementById("cv-comment");
  var log = document.getElementById("cv-actions");
  var guid = "cv-" + Math.random().toString(16).slice(2);
  var origin = window.location.origin;
  var subscribed = {};
  var caret = { start: 0, end: 0 };
  window.cvHost = { loads: 0, messages: [], subscribed: subscribed };

  function note(text) {
    var item = document.createElement("li");
    item.textContent = text;
    log.appendChild(item);
  }

  function appUrl() {
    return host.app_url + "?origin=" + encodeURIComponent(origin) + "&app_guid=" + guid +
      "&locale=" + encodeURIComponent(host.locale);
  }

  function load() {
    window.cvHost.loads += 1;
    if (!host.sign) { frame.src = appUrl(); return; }
    fetch(host.sign).then(function (r) { return r.text(); }).then(function (token) {
      var form = document.createElement("form");
      form.method = "POST";
      form.action = appUrl();
      form.target = frame.name;
      form.hidden = true;
      var field = document.createElement("input");
      field.type = "hidden"; field.name = "token"; field.value = token;
      form.appendChild(field);
      document.body.appendChild(form);
      form.submit();
      form.remove();
    });
  }

  function send(message) { frame.contentWindow.postMessage(JSON.stringify(message), origin); }

  function fire(event, data) {
    if (subscribed[event]) { send({ key: "zaf." + event, message: data }); }
  }
  window.cvHost.fire = fire;
  window.cvHost.reload = load;

  // Zendesk's editor keeps the agent's caret: the sidebar's text goes in there.
  if (comment) {
    ["keyup", "click", "select", "blur"].forEach(function (name) {
      comment.addEventListener(name, function () {
        caret = { start: comment.selectionStart, end: comment.selectionEnd };
      });
    });
  }

  var actions = {
    "ticket.editor.insert": function (text) {
      var before = comment.value.slice(0, caret.start), after = comment.value.slice(caret.end);
      comment.value = before + text + after;
      caret = { start: before.length + text.length, end: before.length + text.length };
    },
    "ticket.tags.add": function (tag) { note("tag added: " + tag); },
    "macro": function (id) { note("macro applied: " + id); },
    "resize": function (size) { frame.style.height = size.height; },
    "app.reload": function () { window.setTimeout(load, 0); }
  };
  if (!host.app_reload) { delete actions["app.reload"]; }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var data = typeof event.data === "string" ? JSON.parse(event.data) : event.data;
    window.cvHost.messages.push(data);
    if (data.key === "iframe.handshake") {
      send({ key: "zaf.app.registered", message: {
        context: { product: "support", location: host.location, instanceGuid: guid,
                   account: { subdomain: "demo" } },
        metadata: { appId: 0, installationId: 0, name: "Customer Value", version: "demo" } } });
      return;
    }
    if (data.key && data.key.indexOf("iframe.on:") === 0) {
      subscribed[data.key.slice("iframe.on:".length)] = data.message.subscriberCount;
      return;
    }
    if (data.request === "get") {
      var result = {};
      data.params.forEach(function (path) { result[path] = host.data[path]; });
      send({ id: data.id, result: result });
      return;
    }
    if (data.request === "invoke") {
      var name = Object.keys(data.params)[0], args = data.params[name];
      if (!actions[name]) {
        send({ id: data.id, error: { name: "InvalidAction", message: name + " is not an action" } });
        return;
      }
      actions[name].apply(null, args);
      if (name !== "resize") { note(name + ": " + JSON.stringify(args.length === 1 ? args[0] : args)); }
      send({ id: data.id, result: {} });
    }
  });

  load();
}());
