/* What several parts of the console share: the page's configuration (#console-config, every
 * word translated on the server) and the console's state. The board's jobs and patrols are
 * the server's, loaded by board.js and kept current by the socket's events; the rest is this
 * operator's (the call, the complaint being written, the dispatch waiting for a car). */

export var cfg = JSON.parse(document.getElementById("console-config").textContent);
export var T = cfg.text;

export var state = {
  calls: [],            // screen pops waiting, oldest first (N takes the first)
  jobs: new Map(),      // job_id → job (open jobs only)
  patrols: new Map(),   // patrol_id → patrol
  ackAfterS: 60,
  skewMs: 0,            // server clock minus ours, when they differ by more than the Date header's second
  chosen: null,         // {kind: "object"|"entrance", id, label, landlord, lat, lon}
  callId: null,
  suspectedObjectId: null,
  object: null,         // the object view of the chosen object
  objectKeptFor: null,  // job_id: the object view is the just logged complaint's, until it is sent
  result: null,         // {job_id, recommended, address} after logging, until dispatched
  submitting: false,
};

export var landlordById = new Map(cfg.landlords.map(function (l) { return [l.id, l]; }));

export function patrolName(id) {
  var p = state.patrols.get(id);
  return p ? p.name : "#" + id;
}
