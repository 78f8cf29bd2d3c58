/* The tablet app's service worker: keeps the app shell and its files so that the app starts
 * with no network. Served from /field/sw.js (scope /field/); the server fills in VERSION (a
 * digest of the files) and ASSETS (the shell first, then the files with their ?v= digests).
 * The socket and the API always go to the network: their data is kept by the app itself. */
"use strict";

var VERSION = "__VERSION__";
var ASSETS = ["__ASSETS__"];
var SHELL = ASSETS[0];
var CACHE = "field-" + VERSION;
var NAVIGATION_TIMEOUT_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("field-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// The shell: the network first (a new version, a new language), the cached one when the
// network fails or takes longer than a tunnel allows.
function shell(request) {
  return caches.open(CACHE).then(function (cache) {
    var fromNetwork = fetch(request).then(function (response) {
      if (response.ok) cache.put(SHELL, response.clone());
      return response;
    });
    var timeout = new Promise(function (resolve) {
      setTimeout(function () { resolve(null); }, NAVIGATION_TIMEOUT_MS);
    });
    return Promise.race([fromNetwork.catch(function () { return null; }), timeout]).then(function (response) {
      return response || cache.match(SHELL).then(function (cached) { return cached || fromNetwork; });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === new URL(SHELL, self.location).pathname) {
    event.respondWith(shell(request));
    return;
  }
  if (ASSETS.indexOf(url.pathname + url.search) > 0) {
    event.respondWith(caches.match(request).then(function (cached) { return cached || fetch(request); }));
  }
});
