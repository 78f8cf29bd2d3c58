/* The operator console: screen pop, address search, complaint intake, dispatch, live board.
 *
 * Plain JS, no build step. Every word shown comes from the page (#console-config, translated
 * on the server). State that the server owns (jobs, patrols) is loaded from GET /api/v1/board
 * and then kept current by the /console socket's events; every console applies the same
 * events, so two consoles show the same board. The draft complaint lives in localStorage
 * until it is logged, so a reload or a crash loses nothing.
 */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("console-config").textContent);
  var T = cfg.text;
  var csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  var DRAFT_KEY = "dispatch.console.draft." + cfg.user_id;
  var OPEN_STATUSES = ["queued", "assigned", "accepted", "en_route", "on_site"];
  var SEARCH_DELAY_MS = 120;

  function $(id) { return document.getElementById(id); }

  /** "%(name)s" placeholders, as in the server's catalogs. */
  function fmt(text, params) {
    return String(text).replace(/%\((\w+)\)s/g, function (_m, key) {
      return params && params[key] != null ? params[key] : "";
    });
  }

  /** Build an element: el("li", {class: "x", dataset: {id: 1}}, ["text", child]). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value == null || value === false) return;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child == null || child === false) return;
      node.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  /** A JSON API call; resolves to {ok, status, data, date}, rejects only when the network fails. */
  function api(method, path, body) {
    var options = {method: method, credentials: "same-origin",
                   headers: {Accept: "application/json"}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken;
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return {ok: response.ok, status: response.status, data: data,
                date: response.headers.get("Date")};
      });
    });
  }

  function errorText(result) {
    var error = result && result.data && result.data.error;
    if (!error) return T.request_failed;
    return T.errors[error.code] || error.message || T.request_failed;
  }

  // -- time -------------------------------------------------------------------------------

  var skewMs = 0; // server clock minus ours, when they differ by more than the Date header's second

  function now() { return Date.now() + skewMs; }

  function elapsed(iso) {
    if (!iso) return "";
    var s = Math.max(0, Math.floor((now() - Date.parse(iso)) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  var LANG = document.documentElement.lang || "sv";

  /** Times in the service's time zone (DISPATCH_TZ), whatever the PC is set to. */
  function clockText(iso) {
    var d = iso ? new Date(iso) : new Date(now());
    return d.toLocaleTimeString(LANG, {hour: "2-digit", minute: "2-digit", second: "2-digit",
                                       timeZone: cfg.tz});
  }

  function dateTimeText(iso) {
    return new Date(iso).toLocaleString(LANG, {dateStyle: "short", timeStyle: "short",
                                               timeZone: cfg.tz});
  }

  /** A running timer: its text is refreshed every second by tick(). */
  function timer(iso, label, cls) {
    return el("span", {class: "timer " + (cls || ""), dataset: {since: iso}},
              [label ? el("span", {class: "timer-label", text: label}) : null,
               el("span", {class: "timer-value", text: elapsed(iso)})]);
  }

  // -- phone numbers ------------------------------------------------------------------------

  /** E.164 to what Swedes read: +46701740605 → 070-174 06 05, +4681234567 → 08-123 45 67. */
  function displayPhone(e164) {
    if (!e164) return "";
    var m = /^\+467(\d)(\d{3})(\d{2})(\d{2})$/.exec(e164);
    if (m) return "07" + m[1] + "-" + m[2] + " " + m[3] + " " + m[4];
    m = /^\+468(\d+)$/.exec(e164);
    if (m) {
      var rest = m[1];
      var groups = rest.length === 8 ? [rest.slice(0, 3), rest.slice(3, 6), rest.slice(6)]
        : rest.length === 7 ? [rest.slice(0, 3), rest.slice(3, 5), rest.slice(5)] : [rest];
      return "08-" + groups.join(" ");
    }
    if (/^\+46\d+$/.test(e164)) return "0" + e164.slice(3);
    return e164;
  }

  function telLink(e164) {
    return e164 ? el("a", {href: "tel:" + e164, class: "tel", text: displayPhone(e164)}) : null;
  }

  // -- notices --------------------------------------------------------------------------------

  var noticeTimer = null;

  function notice(text, kind) {
    var node = $("notice");
    node.textContent = text;
    node.className = "notice" + (kind ? " notice-" + kind : "");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { node.textContent = ""; }, 15000);
  }

  // -- state ----------------------------------------------------------------------------------

  var state = {
    calls: [],            // screen pops waiting, newest first
    jobs: new Map(),      // job_id → job (open jobs only)
    patrols: new Map(),   // patrol_id → patrol
    ackAfterS: 60,
    chosen: null,         // {kind: "object"|"entrance", id, label, landlord, lat, lon}
    callId: null,
    suspectedObjectId: null,
    object: null,         // the object view of the chosen object
    result: null,         // {job_id, recommended, address} after logging, until dispatched
    submitting: false,
  };
  var landlordById = new Map(cfg.landlords.map(function (l) { return [l.id, l]; }));

  // -- screen pop -----------------------------------------------------------------------------

  function onCall(pop) {
    state.calls.unshift(pop);
    state.calls = state.calls.slice(0, 5);
    renderCall();
    var panel = $("call");
    panel.classList.remove("ringing");
    void panel.offsetWidth; // restart the animation
    panel.classList.add("ringing");
  }

  function renderCall() {
    var body = $("call-body");
    clear(body);
    var call = state.calls[0];
    $("call").dataset.empty = call ? "false" : "true";
    if (!call) {
      body.appendChild(el("p", {class: "muted", text: T.no_call || ""}));
      return;
    }
    var landlord = call.landlord ? call.landlord.name + " (" + call.landlord.code + ")"
      : T.unknown_landlord;
    body.appendChild(el("div", {class: "call-head"}, [
      el("span", {class: "call-number"}, [call.caller_number ? telLink(call.caller_number)
                                                             : T.unknown_caller]),
      el("span", {class: "call-landlord", text: landlord}),
      timer(call.received_at, "", "call-timer"),
    ]));
    if (call.tenants.length) {
      body.appendChild(el("ul", {class: "call-tenants"}, call.tenants.map(function (t) {
        return el("li", {}, [el("strong", {text: t.name}), " · " + t.address +
          (t.lagenhetsnummer ? " · " + T.flat + " " + t.lagenhetsnummer : "")]);
      })));
    } else {
      body.appendChild(el("p", {class: "muted", text: T.no_tenant_match}));
    }
    body.appendChild(el("p", {class: "call-hint"}, [el("kbd", {text: "N"}), " " + T.press_n]));
    if (state.calls.length > 1) {
      body.appendChild(el("p", {class: "muted small", text: "+" + (state.calls.length - 1)}));
    }
  }

  /** N: a new complaint, prefilled from the newest waiting call if there is one. */
  function newComplaint() {
    var call = state.calls.shift();
    resetForm();
    renderCall();
    if (call) {
      state.callId = call.call_id;
      if (call.landlord) $("f-landlord").value = call.landlord.code;
      if (call.caller_number) $("f-caller-phone").value = displayPhone(call.caller_number);
      $("draft-call").textContent = "· " + clockText(call.received_at);
      var objects = Array.from(new Set(call.tenants.map(function (t) { return t.object_id; })));
      if (call.tenants.length === 1) {
        $("f-caller-name").value = call.tenants[0].name;
      }
      if (objects.length === 1) {
        var t = call.tenants[0];
        $("f-disturbed").value = call.tenants.map(function (x) { return x.name; }).join(", ") +
          (t.lagenhetsnummer ? ", " + T.flat + " " + t.lagenhetsnummer : "");
        choose({kind: "object", id: t.object_id,
                label: street(t.address) +
                  (t.lagenhetsnummer ? ", " + T.flat + " " + t.lagenhetsnummer : ""),
                landlord: call.landlord && call.landlord.code});
        saveDraft();
        $("f-category").focus();
        return;
      }
    }
    saveDraft();
    $("f-search").focus();
  }

  // -- address search -------------------------------------------------------------------------

  var search = {seq: 0, timer: null, items: [], active: -1, mode: "hits", entrance: null};

  function listOpen() { return !$("search-list").hidden; }

  function closeList() {
    $("search-list").hidden = true;
    $("f-search").setAttribute("aria-expanded", "false");
    $("f-search").removeAttribute("aria-activedescendant");
    $("search-hint").textContent = "";
  }

  /** Whether an answer is on its way: the list on screen may be about to change. */
  function setBusy(on) {
    $("search-list").setAttribute("aria-busy", on ? "true" : "false");
  }

  function scheduleSearch() {
    clearTimeout(search.timer);
    var q = $("f-search").value.trim();
    search.seq++;
    setBusy(q.length >= 2);
    if (q.length < 2) { closeList(); return; }
    search.timer = setTimeout(function () { runSearch(q); }, SEARCH_DELAY_MS);
  }

  function runSearch(q) {
    var seq = ++search.seq;
    var landlord = $("f-landlord").value;
    var url = "/api/v1/addresses/search?limit=8&q=" + encodeURIComponent(q) +
      (landlord ? "&landlord=" + encodeURIComponent(landlord) : "");
    $("search-hint").textContent = T.searching;
    api("GET", url).then(function (result) {
      if (seq !== search.seq) return; // the operator typed on: a newer search is coming
      setBusy(false);
      if (!result.ok) { $("search-hint").textContent = errorText(result); return; }
      search.mode = "hits";
      showItems(result.data.map(function (hit) { return {hit: hit}; }));
    }).catch(function () {
      if (seq !== search.seq) return;
      setBusy(false);
      $("search-hint").textContent = T.request_failed;
    });
  }

  /** Show candidates; none is active until the operator moves to it: never auto-pick. */
  function showItems(items) {
    search.items = items;
    search.active = -1;
    renderList();
  }

  function itemLabel(item) {
    if (item.hit) {
      var h = item.hit;
      return h.address + (h.lagenhetsnummer ? ", " + T.flat + " " + h.lagenhetsnummer : "");
    }
    if (item.whole) return search.entrance.address;
    return search.entrance.address + ", " + T.flat + " " + (item.object.lagenhetsnummer ||
                                                             item.object.objektsnummer);
  }

  function renderList() {
    var list = $("search-list"), input = $("f-search");
    clear(list);
    if (!search.items.length) {
      list.appendChild(el("li", {class: "empty", role: "presentation", text: T.no_results}));
    }
    search.items.forEach(function (item, i) {
      var main, sub, side;
      if (item.hit) {
        var h = item.hit;
        main = itemLabel(item);
        sub = [h.postnummer, h.ort].filter(Boolean).join(" ") + " · " + h.landlord;
        side = el("span", {class: "score", title: T.score},
                  [el("span", {class: "score-bar",
                               style: "width:" + Math.round(h.score * 100) + "%"}),
                   el("span", {class: "score-num", text: h.score.toFixed(2)})]);
      } else if (item.whole) {
        main = T.whole_entrance;
        sub = search.entrance.full_address;
      } else {
        var o = item.object;
        main = T.flat + " " + (o.lagenhetsnummer || o.objektsnummer) +
          (o.floor != null ? " · " + T.floor + " " + o.floor : "");
        sub = o.tenants.length ? o.tenants.join(", ") : T.no_tenants;
      }
      list.appendChild(el("li", {
        id: "opt-" + i, role: "option", class: "option" + (i === search.active ? " active" : ""),
        "aria-selected": i === search.active ? "true" : "false",
        onmousedown: function (e) { e.preventDefault(); search.active = i; pickActive(); },
      }, [el("span", {class: "opt-main"}, [el("span", {class: "opt-title", text: main}),
                                         el("span", {class: "opt-sub", text: sub})]), side]));
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    if (search.active >= 0) {
      input.setAttribute("aria-activedescendant", "opt-" + search.active);
      var node = $("opt-" + search.active);
      if (node) node.scrollIntoView({block: "nearest"});
    } else {
      input.removeAttribute("aria-activedescendant");
    }
    $("search-hint").textContent = search.mode === "flats"
      ? fmt(T.choose_flat, {address: search.entrance.address}) + " — " + T.pick_hint
      : (search.items.length ? T.pick_hint : "");
  }

  function moveActive(step) {
    if (!search.items.length) return;
    var n = search.items.length;
    search.active = search.active < 0 ? (step > 0 ? 0 : n - 1) : (search.active + step + n) % n;
    renderList();
  }

  function pickActive() {
    var item = search.items[search.active];
    if (!item) return;
    if (item.hit && item.hit.object_id != null) {
      var h = item.hit;
      choose({kind: "object", id: h.object_id, label: itemLabel(item), landlord: h.landlord});
      afterPick();
    } else if (item.hit) {
      loadEntrance(item.hit);
    } else if (item.whole) {
      choose({kind: "entrance", id: search.entrance.entrance_id, label: search.entrance.address,
              landlord: search.landlord});
      afterPick();
    } else {
      choose({kind: "object", id: item.object.object_id, label: itemLabel(item),
              landlord: search.landlord});
      afterPick();
    }
  }

  function afterPick() {
    closeList();
    saveDraft();
    $("f-category").focus();
  }

  /** A hit without a flat: list the entrance's flats to choose from. */
  function loadEntrance(hit) {
    var seq = ++search.seq;
    setBusy(true);
    $("search-hint").textContent = T.searching;
    api("GET", "/api/v1/entrances/" + hit.entrance_id).then(function (result) {
      if (seq !== search.seq) return;
      setBusy(false);
      if (!result.ok) { $("search-hint").textContent = errorText(result); return; }
      search.mode = "flats";
      search.entrance = result.data;
      search.landlord = hit.landlord;
      showItems([{whole: true}].concat(result.data.objects.map(function (o) {
        return {object: o};
      })));
    }).catch(function () {
      if (seq !== search.seq) return;
      setBusy(false);
      $("search-hint").textContent = T.request_failed;
    });
  }

  /** The address of the complaint is chosen: show it, load the object view. */
  function choose(chosen) {
    state.chosen = chosen;
    state.suspectedObjectId = null;
    if (chosen.landlord) $("f-landlord").value = chosen.landlord;
    $("f-search").value = chosen.label;
    renderChosen();
    loadObject();
  }

  function renderChosen() {
    var node = $("chosen");
    clear(node);
    if (state.chosen) {
      node.appendChild(el("span", {class: "chosen-mark", text: "✓ "}));
      node.appendChild(document.createTextNode(state.chosen.label));
    }
  }

  // -- object view ----------------------------------------------------------------------------

  var objectSeq = 0;

  function loadObject() {
    var seq = ++objectSeq;
    state.object = null;
    var chosen = state.chosen;
    if (!chosen || chosen.kind !== "object") { renderObject(); return; }
    api("GET", "/api/v1/objects/" + chosen.id).then(function (result) {
      if (seq !== objectSeq) return;
      if (result.ok) state.object = result.data;
      else notice(errorText(result), "error");
      renderObject();
    }).catch(function () { notice(T.request_failed, "error"); });
  }

  function renderObject() {
    var body = $("object-body");
    clear(body);
    var o = state.object;
    if (!o) {
      if (state.chosen && state.chosen.kind === "entrance") {
        body.appendChild(el("p", {class: "object-address", text: state.chosen.label}));
      } else {
        body.appendChild(el("p", {class: "muted", text: T.object_placeholder || ""}));
      }
      return;
    }
    body.appendChild(el("p", {class: "object-address"}, [
      el("strong", {text: o.address}),
      o.lagenhetsnummer
        ? el("span", {class: "flat", text: T.flat + " " + o.lagenhetsnummer}) : null,
    ]));
    body.appendChild(el("dl", {class: "facts"}, [
      el("dt", {text: T.selected_address}), el("dd", {text: o.full_address}),
      el("dt", {text: T.floor}), el("dd", {text: o.floor != null ? String(o.floor) : "–"}),
      el("dt", {text: T.objektsnummer}), el("dd", {text: o.objektsnummer}),
      el("dt", {text: T.door_code}),
      el("dd", {class: "door-code", text: o.door_code || T.none}),
    ]));
    body.appendChild(el("h3", {text: T.tenants_title}));
    body.appendChild(o.tenants.length
      ? el("ul", {class: "tenants"}, o.tenants.map(function (t) {
        return el("li", {}, [el("span", {text: t.name}), " ", telLink(t.phone)]);
      }))
      : el("p", {class: "muted", text: T.no_tenants}));

    body.appendChild(el("h3", {text: T.neighbours_title}));
    if (!o.neighbours.length) {
      body.appendChild(el("p", {class: "muted", text: T.no_neighbours}));
    } else {
      var shown = o.neighbours.slice(0, 9);
      body.appendChild(el("ol", {class: "neighbours"}, shown.map(function (n, i) {
        var marked = state.suspectedObjectId === n.object_id;
        return el("li", {class: marked ? "marked" : ""}, [
          el("kbd", {class: "key", text: String(i + 1)}),
          el("span", {class: "rel rel-" + n.relation, text: T.neighbours[n.relation]}),
          el("span", {class: "flat", text: n.lagenhetsnummer}),
          el("span", {class: "names", text: n.tenants.join(", ") || T.no_tenants}),
          el("button", {type: "button", class: "link", text: T.mark,
                        onclick: function () { markNeighbour(i); }}),
        ]);
      })));
    }
    body.appendChild(el("h3", {text: T.history_title}));
    if (!o.history.length) {
      body.appendChild(el("p", {class: "muted", text: T.no_history}));
    } else {
      body.appendChild(el("ul", {class: "history"}, o.history.slice(0, 10).map(function (h) {
        return el("li", {}, [
          el("span", {class: "when", text: dateTimeText(h.at)}),
          " " + (T.categories[h.category] || h.category),
          " · " + (T.history_roles[h.role] || h.role),
          h.lagenhetsnummer ? " · " + T.flat + " " + h.lagenhetsnummer : "",
          h.status ? " · " + (T.job_status[h.status] || h.status) : "",
        ]);
      })));
    }
  }

  /** One key: this neighbour is the suspected source. */
  function markNeighbour(index) {
    var n = state.object && state.object.neighbours[index];
    if (!n) return false;
    state.suspectedObjectId = n.object_id;
    $("f-suspected").value = fmt(T.suspected, {relation: T.neighbours[n.relation],
                                               flat: n.lagenhetsnummer}) +
      (n.tenants.length ? " (" + n.tenants.join(", ") + ")" : "");
    saveDraft();
    renderObject();
    notice($("f-suspected").value);
    return true;
  }

  // -- the form and its draft -----------------------------------------------------------------

  var FIELDS = {landlord: "f-landlord", search: "f-search", category: "f-category",
                priority: "f-priority", description: "f-description",
                caller_name: "f-caller-name", caller_phone: "f-caller-phone",
                disturbed_party: "f-disturbed", suspected_source: "f-suspected"};

  function saveDraft() {
    var draft = {chosen: state.chosen, call_id: state.callId,
                 suspected_object_id: state.suspectedObjectId,
                 call_label: $("draft-call").textContent};
    Object.keys(FIELDS).forEach(function (key) { draft[key] = $(FIELDS[key]).value; });
    try { localStorage.setItem(DRAFT_KEY, JSON.stringify(draft)); } catch (e) { /* full or off */ }
  }

  function restoreDraft() {
    var draft;
    try {
      draft = JSON.parse(localStorage.getItem(DRAFT_KEY) || "null");
    } catch (e) {
      draft = null;
    }
    if (!draft) return;
    Object.keys(FIELDS).forEach(function (key) {
      if (draft[key] != null) $(FIELDS[key]).value = draft[key];
    });
    state.chosen = draft.chosen || null;
    state.callId = draft.call_id || null;
    state.suspectedObjectId = draft.suspected_object_id || null;
    $("draft-call").textContent = draft.call_label || "";
    renderChosen();
    updateAdvice();
    loadObject();
    var typed = Object.keys(FIELDS).some(function (key) {
      return key !== "priority" && draft[key];
    });
    if (typed) notice(T.draft_restored);
  }

  function resetForm() {
    $("intake").reset();
    state.chosen = null;
    state.callId = null;
    state.suspectedObjectId = null;
    state.object = null;
    objectSeq++;
    $("draft-call").textContent = "";
    closeList();
    renderChosen();
    renderObject();
    showFormError("");
    updateAdvice();
  }

  function updateAdvice() {
    $("advice-112").hidden = $("f-category").value !== "fight_threat";
  }

  function showFormError(text, fieldId) {
    $("form-error").textContent = text;
    document.querySelectorAll("#intake [aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
    });
    if (fieldId) {
      $(fieldId).setAttribute("aria-invalid", "true");
      $(fieldId).focus();
    }
  }

  var ERROR_FIELDS = {invalid_category: "f-category", invalid_priority: "f-priority",
                      address_required: "f-search", unknown_object: "f-search",
                      unknown_entrance: "f-search", unknown_landlord: "f-landlord",
                      invalid_phone: "f-caller-phone"};

  function submitComplaint() {
    if (state.submitting) return;
    var chosen = state.chosen;
    var body = {
      landlord: $("f-landlord").value,
      category: $("f-category").value,
      priority: parseInt($("f-priority").value, 10) || 2,
      description: $("f-description").value,
      caller: {name: $("f-caller-name").value, phone: $("f-caller-phone").value},
      disturbed_party: $("f-disturbed").value || null,
      suspected_source: $("f-suspected").value || null,
      suspected_object_id: state.suspectedObjectId,
      call_id: state.callId,
    };
    if (chosen && chosen.kind === "object") body.object_id = chosen.id;
    if (chosen && chosen.kind === "entrance") body.entrance_id = chosen.id;
    state.submitting = true;
    $("log").disabled = true;
    var address = chosen ? chosen.label : "";
    var category = T.categories[body.category] || body.category;
    api("POST", "/api/v1/complaints", body).then(function (result) {
      if (!result.ok) {
        var code = result.data && result.data.error && result.data.error.code;
        showFormError(errorText(result), ERROR_FIELDS[code]);
        return;
      }
      try { localStorage.removeItem(DRAFT_KEY); } catch (e) { /* ignore */ }
      resetForm();
      state.result = {job_id: result.data.job_id, recommended: result.data.recommended,
                      address: address, category: category, outcome: null};
      renderResult();
      $("result").focus();
    }).catch(function () {
      showFormError(T.request_failed);
    }).then(function () {
      state.submitting = false;
      $("log").disabled = false;
    });
  }

  // -- dispatch -------------------------------------------------------------------------------

  function renderResult() {
    var panel = $("result"), body = $("result-body"), r = state.result;
    clear(body);
    panel.hidden = !r;
    // While a logged job waits for its car, the digits choose cars, not neighbours.
    $("console").classList.toggle("dispatch-pending", !!r && !r.outcome);
    if (!r) return;
    body.appendChild(el("p", {class: "result-head"}, [
      el("strong", {text: fmt(T.logged, {job: r.job_id})}),
      " · " + r.category + " · " + r.address,
    ]));
    if (r.outcome) {
      body.appendChild(el("p", {class: "outcome " + (r.outcomeKind || ""), text: r.outcome}));
      return;
    }
    if (!r.recommended.length) {
      body.appendChild(el("p", {class: "warning", text: T.no_patrol}));
    } else {
      body.appendChild(el("ol", {class: "recommended"}, r.recommended.map(function (c, i) {
        return el("li", {class: i === 0 ? "first" : ""}, [
          el("kbd", {class: "key", text: String(i + 1)}),
          el("strong", {text: c.name}),
          el("span", {class: "num", text: c.distance_m + " m"}),
          el("span", {class: "num", text: fmt(T.eta, {min: c.eta_min})}),
          el("button", {type: "button", text: i === 0 ? T.dispatch_first : T.dispatch_this,
                        class: i === 0 ? "primary" : "",
                        onclick: function () { dispatchJob(r.job_id, c.patrol_id); }}),
        ]);
      })));
    }
    body.appendChild(el("p", {class: "hint muted small", text: T.dispatch_hint}));
  }

  function patrolName(id) {
    var p = state.patrols.get(id);
    return p ? p.name : "#" + id;
  }

  /** Send the job: to the given patrol, or (none given) to the nearest available one. */
  function dispatchJob(jobId, patrolId) {
    var body = patrolId ? {patrol_id: patrolId} : {};
    return api("POST", "/api/v1/jobs/" + jobId + "/dispatch", body).then(function (result) {
      var text, kind;
      if (result.ok && result.data.patrol_id) {
        text = fmt(T.dispatched, {job: jobId, patrol: patrolName(result.data.patrol_id)});
        kind = "ok";
      } else if (result.ok) {
        text = fmt(T.still_queued, {job: jobId});
        kind = "warning";
      } else {
        text = fmt(T.dispatch_failed, {message: errorText(result)});
        kind = "error";
      }
      if (state.result && state.result.job_id === jobId) {
        state.result.outcome = text;
        state.result.outcomeKind = kind;
        renderResult();
      }
      notice(text, kind);
    }).catch(function () { notice(T.request_failed, "error"); });
  }

  // -- the board ------------------------------------------------------------------------------

  var boardLoads = 0, buffered = [];

  function loadBoard() {
    boardLoads++;
    return api("GET", "/api/v1/board").then(function (result) {
      if (!result.ok) { notice(errorText(result), "error"); return; }
      if (result.date) {
        var skew = Date.parse(result.date) - Date.now();
        skewMs = Math.abs(skew) > 2000 ? skew : 0;
      }
      state.ackAfterS = result.data.ack_alarm_after_s;
      state.jobs = new Map(result.data.jobs.map(function (j) { return [j.job_id, j]; }));
      state.patrols = new Map(result.data.patrols.map(function (p) { return [p.patrol_id, p]; }));
    }).catch(function () {
      notice(T.request_failed, "error");
    }).then(function () {
      boardLoads--;
      if (boardLoads === 0) {
        // Events that came while the snapshot was on its way, in the order they came.
        var events = buffered;
        buffered = [];
        events.forEach(function (ev) { apply(ev[0], ev[1], false); });
        renderBoard();
        renderPatrols();
      }
    });
  }

  function apply(kind, data, render) {
    if (boardLoads > 0) { buffered.push([kind, data]); return; }
    if (kind === "job") {
      if (OPEN_STATUSES.indexOf(data.status) >= 0) state.jobs.set(data.job_id, data);
      else state.jobs.delete(data.job_id);
      if (render !== false) renderBoard();
    } else {
      state.patrols.set(data.patrol_id, data);
      if (render !== false) { renderPatrols(); renderBoard(); }
    }
  }

  function isAlarm(job) {
    return job.status === "assigned" && !job.acknowledged_at && job.dispatched_at &&
      now() - Date.parse(job.dispatched_at) > state.ackAfterS * 1000;
  }

  function renderBoard() {
    var board = $("board");
    var focused = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("#board .job");
    var focusedId = focused ? focused.dataset.jobId : null;
    clear(board);
    var jobs = Array.from(state.jobs.values());
    $("job-count").textContent = String(jobs.length);
    if (!jobs.length) board.appendChild(el("p", {class: "muted", text: T.no_jobs}));
    OPEN_STATUSES.forEach(function (status) {
      var group = jobs.filter(function (j) { return j.status === status; });
      if (!group.length) return;
      group.sort(function (a, b) {
        return a.priority - b.priority || Date.parse(a.created_at) - Date.parse(b.created_at);
      });
      var title = T.job_status[status] || status;
      board.appendChild(el("section", {class: "job-group status-" + status,
                                       "aria-label": title}, [
        el("h3", {}, [title, el("span", {class: "count", text: String(group.length)})]),
        el("ul", {class: "jobs"}, group.map(jobRow)),
      ]));
    });
    if (focusedId) {
      var again = board.querySelector('.job[data-job-id="' + focusedId + '"]');
      if (again) again.focus();
    }
    updateAlarms();
    renderMap();
  }

  /** "Götgatan 12B, 118 46 Stockholm" → "Götgatan 12B": the board is narrow. */
  function street(address) { return String(address || "").split(",")[0]; }

  function jobRow(job) {
    var landlord = landlordById.get(job.landlord_id);
    var patrol = job.patrol_id ? patrolName(job.patrol_id) : null;
    return el("li", {class: "job prio-" + job.priority, tabindex: "-1",
                     dataset: {jobId: job.job_id, status: job.status}}, [
      el("div", {class: "job-line"}, [
        el("span", {class: "job-id", text: "#" + job.job_id}),
        el("span", {class: "prio", title: T.priorities[job.priority], text: "P" + job.priority}),
        el("span", {class: "cat", text: T.categories[job.category] || job.category}),
        el("span", {class: "addr", title: job.address, text: street(job.address) +
          (job.lagenhetsnummer ? ", " + T.flat + " " + job.lagenhetsnummer : "")}),
        landlord ? el("span", {class: "ll", text: landlord.code}) : null,
      ]),
      el("div", {class: "job-line sub"}, [
        el("span", {class: "status-name", text: T.job_status[job.status] || job.status}),
        patrol ? el("span", {class: "patrol", text: patrol}) : null,
        timer(job.call_received_at, T.since_call),
        job.dispatched_at ? timer(job.dispatched_at, T.since_dispatch) : null,
        job.acknowledged_at ? timer(job.acknowledged_at, T.since_ack) : null,
      ]),
    ]);
  }

  var alarmKey = "";

  /** Unacknowledged assignments past the limit: marked on the board, announced once. */
  function updateAlarms() {
    var alarmed = [];
    document.querySelectorAll("#board .job").forEach(function (row) {
      var job = state.jobs.get(Number(row.dataset.jobId));
      var on = !!job && isAlarm(job);
      row.classList.toggle("alarm", on);
      if (on) alarmed.push(job);
    });
    var key = alarmed.map(function (j) { return j.job_id; }).join(",");
    if (key === alarmKey) return;
    alarmKey = key;
    var box = $("alarms");
    clear(box);
    alarmed.forEach(function (job) {
      box.appendChild(el("p", {class: "alarm-line", text: fmt(T.not_acknowledged, {
        job: job.job_id, address: street(job.address),
        patrol: job.patrol_id ? patrolName(job.patrol_id) : "–"})}));
    });
  }

  function renderPatrols() {
    var body = $("patrols");
    clear(body);
    var patrols = Array.from(state.patrols.values()).sort(function (a, b) {
      return (a.call_sign || a.name).localeCompare(b.call_sign || b.name, "sv");
    });
    $("patrol-count").textContent = String(patrols.filter(function (p) {
      return p.status === "available";
    }).length) + "/" + patrols.length;
    if (!patrols.length) {
      body.appendChild(el("tr", {}, [
        el("td", {colspan: "3", class: "muted", text: T.no_patrols})]));
    }
    patrols.forEach(function (p) {
      body.appendChild(el("tr", {class: "patrol-" + p.status, dataset: {patrolId: p.patrol_id}}, [
        el("td", {}, [el("strong", {text: p.name}),
                      p.call_sign && p.call_sign !== p.name
                        ? el("span", {class: "muted small", text: " " + p.call_sign}) : null]),
        el("td", {}, [el("span", {class: "dot"}),
                      T.patrol_status[p.status] || p.status]),
        el("td", {class: "pos"}, p.lat != null
          ? [p.lat.toFixed(4) + ", " + p.lon.toFixed(4) + " ",
             p.position_at ? el("span", {class: "age"}, ["(", timer(p.position_at), ")"]) : null]
          : [el("span", {class: "muted", text: T.no_position})]),
      ]));
    });
    renderMap();
  }

  /** Board keys: arrows move between jobs, D dispatches the focused one. */
  function focusBoard(step) {
    var rows = Array.from(document.querySelectorAll("#board .job"));
    if (!rows.length) return false;
    var at = rows.indexOf(document.activeElement);
    var next = at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step));
    rows[next].focus();
    return true;
  }

  // -- map ------------------------------------------------------------------------------------

  var map = null, layers = null, fitted = false;

  function initMap() {
    if (!window.L) { $("map").hidden = true; return; }
    map = L.map("map", {zoomControl: true, attributionControl: true, keyboard: true})
      .setView([59.3293, 18.0686], 12);
    map.attributionControl.setPrefix(false);
    if (cfg.tile_url) {
      var tiles = L.tileLayer(cfg.tile_url, {attribution: cfg.attribution, maxZoom: 19});
      var warned = false;
      tiles.on("tileerror", function () {
        if (warned) return;
        warned = true;
        $("map-note").textContent = T.tiles_failed;
        $("map").classList.add("no-tiles");
      });
      tiles.addTo(map);
    } else {
      $("map").classList.add("no-tiles");
    }
    layers = {jobs: L.layerGroup().addTo(map), patrols: L.layerGroup().addTo(map)};
    // The grid settles its sizes after Leaflet has measured the box; measure again then.
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        map.invalidateSize();
        if (fitted && !moved) fitMarkers();
      }).observe($("map"));
    }
    // Once the operator has moved the map, it stays where they put it.
    ["pointerdown", "wheel", "keydown"].forEach(function (name) {
      $("map").addEventListener(name, function () { moved = true; }, {passive: true});
    });
  }

  var moved = false, points = [];

  function fitMarkers() {
    if (points.length) map.fitBounds(points, {padding: [30, 30], maxZoom: 15, animate: false});
  }

  function renderMap() {
    if (!map) return;
    layers.patrols.clearLayers();
    layers.jobs.clearLayers();
    points = [];
    state.patrols.forEach(function (p) {
      if (p.lat == null || p.status === "off_duty") return;
      points.push([p.lat, p.lon]);
      L.circleMarker([p.lat, p.lon], {radius: 7, weight: 2, className: "m-patrol m-" + p.status})
        .bindTooltip(p.name, {permanent: true, direction: "right", className: "m-label"})
        .addTo(layers.patrols);
    });
    state.jobs.forEach(function (j) {
      if (j.lat == null) return;
      points.push([j.lat, j.lon]);
      L.circleMarker([j.lat, j.lon], {radius: 12, weight: 2,
                                      className: "m-job m-prio-" + j.priority})
        .bindTooltip("#" + j.job_id + " " + (T.categories[j.category] || j.category),
                     {direction: "top"})
        .addTo(layers.jobs);
    });
    if (!fitted && points.length) {
      fitted = true;
      fitMarkers();
    }
  }

  // -- the socket -----------------------------------------------------------------------------

  function setConnection(kind) {
    var node = $("conn");
    node.className = "conn conn-" + kind;
    node.textContent = T[kind];
  }

  function connect() {
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

  // -- keyboard -------------------------------------------------------------------------------

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function onSearchKey(e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!listOpen() && search.items.length) renderList();
      moveActive(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault(); // never submit the form from here
      if (listOpen() && search.active >= 0) pickActive();
    } else if (e.key === "Escape" && listOpen()) {
      e.preventDefault();
      e.stopPropagation();
      closeList();
    }
  }

  function onKey(e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submitComplaint();
      return;
    }
    var typing = isTyping(e.target);
    if (e.key === "Escape") {
      if (typing) {
        e.target.blur();
        $("console").focus();
      } else if (state.result) {
        state.result = null;
        renderResult();
        $("console").focus();
      } else if (document.activeElement && document.activeElement !== document.body) {
        document.activeElement.blur();
        $("console").focus();
      }
      return;
    }
    if (typing || e.ctrlKey || e.altKey || e.metaKey) return;
    var onBoard = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("#board .job");
    var key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (onBoard && (key === "ArrowDown" || key === "ArrowUp")) {
      e.preventDefault();
      focusBoard(key === "ArrowDown" ? 1 : -1);
      return;
    }
    var onControl = document.activeElement && /^(A|BUTTON)$/.test(document.activeElement.tagName);
    if (key === "/") {
      e.preventDefault();
      $("f-search").focus();
      $("f-search").select();
    } else if (key === "n" || (key === "Enter" && !onControl && !onBoard && state.calls.length)) {
      e.preventDefault();
      newComplaint();
    } else if (key === "d") {
      e.preventDefault();
      // From the board only a waiting job: D must never move one a car already has.
      if (onBoard) {
        if (onBoard.dataset.status === "queued") dispatchJob(Number(onBoard.dataset.jobId));
      } else if (state.result && !state.result.outcome) {
        dispatchJob(state.result.job_id);
      }
    } else if (key === "b") {
      e.preventDefault();
      focusBoard(0);
    } else if (/^[1-9]$/.test(key)) {
      var i = Number(key) - 1;
      if (state.result && !state.result.outcome) {
        var candidate = state.result.recommended[i];
        if (candidate) {
          e.preventDefault();
          dispatchJob(state.result.job_id, candidate.patrol_id);
        }
      } else if (markNeighbour(i)) {
        e.preventDefault();
      }
    }
  }

  // -- wiring ---------------------------------------------------------------------------------

  function tick() {
    $("clock").textContent = clockText();
    document.querySelectorAll("[data-since]").forEach(function (node) {
      var value = node.querySelector(".timer-value");
      if (value) value.textContent = elapsed(node.dataset.since);
    });
    updateAlarms();
  }

  function init() {
    var form = $("intake");
    form.addEventListener("submit", function (e) { e.preventDefault(); submitComplaint(); });
    form.addEventListener("input", function (e) {
      if (e.target.id === "f-suspected") state.suspectedObjectId = null;
      if (e.target.id === "f-search") scheduleSearch();
      saveDraft();
    });
    form.addEventListener("change", function (e) {
      if (e.target.id === "f-category") {
        updateAdvice();
        if (e.target.value === "fight_threat") $("f-priority").value = "1";
      }
      if (e.target.id === "f-landlord" && $("f-search").value.trim().length >= 2 &&
          !state.chosen) scheduleSearch();
      saveDraft();
    });
    $("f-search").addEventListener("keydown", onSearchKey);
    $("f-search").addEventListener("blur", function () { setTimeout(closeList, 150); });
    $("clear").addEventListener("click", function () {
      resetForm();
      try { localStorage.removeItem(DRAFT_KEY); } catch (e) { /* ignore */ }
      $("f-search").focus();
    });
    document.addEventListener("keydown", onKey);
    restoreDraft();
    renderCall();
    initMap();
    loadBoard();
    connect();
    tick();
    setInterval(tick, 1000);
  }

  init();
})();
