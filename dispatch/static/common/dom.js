/* DOM helpers shared by the operator console (static/console/) and the patrol tablet
 * (static/field/app.js). Plain ES module, no build step. The tablet's service worker keeps
 * this file too (dispatch/field/routes.py, ASSETS), so that the tablet starts offline. */

export function $(id) { return document.getElementById(id); }

/** Build an element: el("li", {class: "x", dataset: {id: 1}}, ["text", child]). */
export function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (key) {
    var value = attrs[key];
    if (value == null || value === false) return;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    // Through the CSSOM: a style attribute would be an inline style the CSP refuses.
    else if (key === "style") node.style.cssText = value;
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

export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
