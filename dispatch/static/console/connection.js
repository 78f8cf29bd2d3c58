/* The /console socket (the global io from vendor/socket.io.min.js): the connection's state in
 * the bar, the board reloaded on every (re)connection, and the live events. */

import { $ } from "../common/dom.js";
import { apply, loadBoard } from "./board.js";
import { onCall } from "./call.js";
import { T } from "./state.js";

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
  });
  socket.on("disconnect", function () { setConnection("disconnected"); });
  socket.on("connect_error", function () {
    setConnection("disconnected");
    // A refused handshake is not retried by the client itself; try again shortly.
    if (!socket.active) setTimeout(function () { socket.connect(); }, 5000);
  });
  socket.on("call.incoming", onCall);
  socket.on("job.updated", function (job) { apply("job", job); });
  socket.on("patrol.updated", function (patrol) { apply("patrol", patrol); });
}
