// The query page: YASGUI on our own /sparql, the saved queries as tabs, and permalinks.
// A link ?query=… (or #query=…) opens a tab with that query and runs it at once, so a query can be
// shared as a URL. Nothing is loaded from other sites (the CSP forbids it anyway).
(function () {
  "use strict";

  function savedQueries() {
    var el = document.getElementById("saved-queries");
    try { return JSON.parse(el ? el.textContent : "[]"); } catch (e) { return []; }
  }

  function permalinkQuery() {
    var q = new URLSearchParams(window.location.search).get("query");
    if (q) return q;
    var hash = window.location.hash.replace(/^#/, "");
    return hash ? new URLSearchParams(hash).get("query") : null;
  }

  function start() {
    var root = document.getElementById("yasgui");
    var endpoint = document.getElementById("endpoint").getAttribute("data-endpoint");
    // Absolute URL: YASGUI resolves the endpoint itself and wants a full one.
    endpoint = new URL(endpoint, window.location.href).href;
    var yasgui = new Yasgui(root, {
      requestConfig: { endpoint: endpoint, method: "POST" },
      copyEndpointOnNewTab: true,
      populateFromUrl: false,   // we read ?query= ourselves, so that opening a permalink runs it
      autoAddOnInit: false,
      persistenceId: null,      // always start from the saved queries, not a stale browser copy
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
      yasqe: { autocompleters: ["variables"], resizeable: true, showQueryButton: true },
      yasr: { prefixes: {} }
    });
    window.apscoYasgui = yasgui;  // for people debugging in the console, and for the browser test

    var queries = savedQueries();
    var linked = permalinkQuery();
    queries.forEach(function (q, i) {
      // The first saved query is the open tab, unless a permalink brings its own.
      yasgui.addTab(!linked && i === 0, { name: q.name, yasqe: { value: q.query }, requestConfig: { endpoint: endpoint } });
    });

    if (linked) {
      var match = null;
      queries.forEach(function (q) { if (!match && q.query === linked) match = q; });
      var tab = yasgui.addTab(true, {
        name: match ? match.name : "link", yasqe: { value: linked }, requestConfig: { endpoint: endpoint }
      });
      tab.show && tab.show();
      yasgui.selectTabId(tab.getId());
      tab.setQuery(linked);
      tab.query();
    } else if (!queries.length) {
      yasgui.addTab(true, { name: "query", requestConfig: { endpoint: endpoint } });
    }
    document.body.setAttribute("data-yasgui-ready", "true");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
