/* The page of a running register import (templates/admin/import_run.html): polls the run's
 * state and shows its progress, then goes to the import's page, or says it failed. A file of
 * its own, not inline: the Content-Security-Policy runs only this site's script files. */
"use strict";

(function () {
  var box = document.getElementById("run"), bar = document.getElementById("bar");
  var status = document.getElementById("status");
  function poll() {
    fetch(box.dataset.stateUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.state === "done") { window.location.assign(s.url); return; }
        if (s.state === "failed") { document.getElementById("failed").hidden = false; status.hidden = true; return; }
        if (s.total) { bar.value = Math.round(100 * s.done / s.total); status.textContent = bar.value + " %"; }
        setTimeout(poll, 400);
      }).catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
