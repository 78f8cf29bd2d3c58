/* The print view's Print button (templates/reports/print.html): a file, not an onclick
 * attribute, because the Content-Security-Policy runs only this site's script files. */
"use strict";

document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
