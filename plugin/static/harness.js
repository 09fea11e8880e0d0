// Demo harness: plays Zendesk's part for the sidebar iframe. It applies what the sidebar asks
// (append a reply, add a tag, apply a macro), resizes the frame, and lists each action.
(function () {
  "use strict";
  var frame = document.getElementById("cv-frame");
  var comment = document.getElementById("cv-comment");
  var log = document.getElementById("cv-actions");
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || !event.data || event.data.source !== "cv-demo") {
      return;
    }
    var name = event.data.name, payload = event.data.payload;
    if (name === "resize") {
      frame.style.height = payload.height;
      return;
    }
    if (name === "ticket.comment.appendText") { comment.value += payload; }
    var item = document.createElement("li");
    item.textContent = name + ": " + (typeof payload === "string" ? payload : JSON.stringify(payload));
    log.appendChild(item);
  });
}());
