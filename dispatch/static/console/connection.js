/* The /console socket (the global io from vendor/socket.io.min.js): the connection's state in
 * the bar, the board reloaded on every (re)connection, and the live events. */

import { $ } from "../common/dom.js";
import { notice } from "./api.js";
import { apply, loadBoard } from "./board.js";
import { callTaken, onCall } from "./call.js";
import { fmt, street } from "./format.js";
import { redrawAreas } from "./map.js";
import { loadAlarms, show as showAlarm } from "./safety.js";
import { patrolName, state, T } from "./state.js";

/** What the server's timer or another operator did to a job, said on the notice line. */
function said(ev, texts) {
  var job = state.jobs.get(ev.job_id);
  var text = texts[ev.kind || ev.action];
  if (!text) return;
  notice(fmt(text, {job: ev.job_id, address: job ? street(job.address) : "",
                    patrol: ev.patrol_id ? patrolName(ev.patrol_id) : "–",
                    from: ev.from_patrol_id ? patrolName(ev.from_patrol_id) : "–",
                    user: ev.user || ""}),
         ev.kind ? "error" : "ok");
}

function setConnection(kind) {
  var node = $("conn");
  node.className = "conn conn-" + kind;
  node.textContent = T[kind];
}

export function connect() {
  if (!window.io) { setConnection("disconnected"); return; }
  var socket = io("/console", {transports: ["websocket", "polling"]});
  socket.on("connect", function () {
    setConnection("connected");
    loadBoard(); // whatever happened while we were away
    loadAlarms();
  });
  socket.on("disconnect", function () { setConnection("disconnected"); });
  socket.on("connect_error", function () {
    setConnection("disconnected");
    // A refused handshake is not retried by the client itself; try again shortly.
    if (!socket.active) setTimeout(function () { socket.connect(); }, 5000);
  });
  socket.on("call.incoming", onCall);
  socket.on("call.taken", function (ev) { callTaken(ev.call_id); });
  socket.on("job.alarm", function (ev) { said(ev, T.timer_notices); });
  socket.on("job.action", function (ev) { said(ev, T.action_notices); });
  socket.on("job.updated", function (job) { apply("job", job); });
  socket.on("patrol.updated", function (patrol) { apply("patrol", patrol); });
  socket.on("areas.updated", redrawAreas);
  socket.on("patrol.alarm", showAlarm);
}
