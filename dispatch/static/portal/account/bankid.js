// BankID in the browser (issue 15): the animated QR code is asked for every second, the order
// is collected through our server every two seconds; on completion go where the server says.
(function () {
  "use strict";
  const box = document.getElementById("bankid");
  if (!box) return;
  const img = document.getElementById("bankid-qr");
  const message = document.getElementById("bankid-message");
  const retry = document.getElementById("bankid-retry");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let done = false;

  async function refreshQr() {
    if (done) return;
    try {
      const answer = await fetch(box.dataset.qrUrl, {headers: {Accept: "application/json"},
                                                      credentials: "same-origin"});
      if (answer.ok) {
        const qr = await answer.json();
        img.src = qr.image;
        img.dataset.qr = qr.text;
      }
    } catch (err) { /* the next second tries again */ }
    if (!done) setTimeout(refreshQr, 1000);
  }

  async function collect() {
    if (done) return;
    let result = null;
    try {
      const answer = await fetch(box.dataset.collectUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": csrf, Accept: "application/json"}});
      result = await answer.json();
    } catch (err) {
      setTimeout(collect, 2000);
      return;
    }
    if (result.message) message.textContent = result.message;
    box.dataset.status = result.status;
    if (result.hint) box.dataset.hint = result.hint;
    if (result.status === "complete") {
      done = true;
      window.location.assign(result.next);
    } else if (result.status === "failed") {
      done = true;
      // The order is over: its instructions (QR code, same-device link, Cancel) go with it.
      document.getElementById("bankid-pending").hidden = true;
      message.setAttribute("role", "alert");
      retry.hidden = false;
    } else {
      setTimeout(collect, 2000);
    }
  }

  setTimeout(refreshQr, 1000);
  setTimeout(collect, 2000);
})();
