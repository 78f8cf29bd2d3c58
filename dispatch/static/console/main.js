/* The operator console: screen pop, address search, complaint intake, dispatch, live board.
 *
 * Native ES modules, no build step (loaded by templates/callcenter/console.html after the
 * classic vendor scripts that set the globals L and io). Every word shown comes from the page
 * (#console-config, translated on the server; state.js). State that the server owns (jobs,
 * patrols) is loaded from GET /api/v1/board and then kept current by the /console socket's
 * events (board.js, connection.js). The draft complaint lives in localStorage until it is
 * logged, so a reload or a crash loses nothing (draft.js, intake.js).
 *
 *   state.js       configuration and shared state     format.js   texts, times, phones
 *   api.js         JSON API calls, the notice line    draft.js    the draft in localStorage
 *   call.js        the screen pop, N                  search.js   the address combobox
 *   object.js      the object view, neighbours        intake.js   the complaint form
 *   dispatch.js    recommended cars, sending one      board.js    open jobs and patrols
 *   alarms.js      the server's alarms on the board   map.js      the Leaflet map
 *   connection.js  the /console socket                keyboard.js the shortcuts
 *   jobview.js     an opened job: history, re-dispatch, back to the queue, cancel
 *   safety.js      the cars' alarms (issue 19), above everything, acknowledged with K
 */

import { $ } from "../common/dom.js";
import { updateAlarms } from "./alarms.js";
import { loadBoard } from "./board.js";
import { renderCall } from "./call.js";
import { connect } from "./connection.js";
import { clockText, elapsed } from "./format.js";
import { initIntake, restoreDraft } from "./intake.js";
import { initKeyboard } from "./keyboard.js";
import { initMap } from "./map.js";
import { initSafety } from "./safety.js";
import { initSearch } from "./search.js";

/** Every second: the clock, the running timers, the alarms. */
function tick() {
  $("clock").textContent = clockText();
  document.querySelectorAll("[data-since]").forEach(function (node) {
    var value = node.querySelector(".timer-value");
    if (value) value.textContent = elapsed(node.dataset.since);
  });
  updateAlarms();
}

initIntake();
initSearch();
initKeyboard();
restoreDraft();
renderCall();
initMap();
initSafety();
loadBoard();
connect();
tick();
setInterval(tick, 1000);
