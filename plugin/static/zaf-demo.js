// Demo only: a stand-in for Zendesk's ZAF SDK, for pages shown outside Zendesk. It reads the
// ticket from the page's query string and reports every action to the harness page around
// it, which shows what Zendesk would have done.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  function tell(name, payload) {
    if (window.parent !== window) {
      window.parent.postMessage({ source: "cv-demo", name: name, payload: payload },
                                window.location.origin);
    }
  }
  window.ZAFClient = {
    init: function () {
      return {
        get: function (paths) {
          var values = { "ticket.id": Number(params.get("ticket_id")) || null,
                         "ticket.requester.id": Number(params.get("requester_id")) || null };
          var answer = {};
          [].concat(paths).forEach(function (path) { answer[path] = values[path]; });
          return Promise.resolve(answer);
        },
        invoke: function (name, payload) {
          tell(name, payload);
          return Promise.resolve({});
        }
      };
    }
  };
}());
