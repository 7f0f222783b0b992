// The distribution editor of numeric and date questions: progressive enhancement of the
// quantile inputs (templates/questions/_numeric_form.html), which stay the form that is
// posted. Each quantile is a handle that can be dragged along the range, or moved with
// the arrow keys once focused (Shift: ten times further; Home/End: the ends). The editor
// writes the inputs and redraws the implied density and CDF as they change.
//
// What is drawn: the piecewise-LINEAR CDF through the quantile points, from 0 at the
// range's minimum to 1 at its maximum, and its density (the slope of each piece). The
// server converts the same quantiles with forecasts/cdf.py (logit-linear between them,
// logistic tails on open sides), and that conversion is the truth: this drawing is a
// close sketch of it, not the stored forecast.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var W = 320, H = 170, LEFT = 10, RIGHT = 10, TOP = 10, BOTTOM = 28;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function editor(fieldset) {
    var kind = fieldset.getAttribute("data-kind");
    var lo = parseFloat(fieldset.getAttribute("data-min"));
    var hi = parseFloat(fieldset.getAttribute("data-max"));
    var step = parseFloat(fieldset.getAttribute("data-step")) || (hi - lo) / 1000;
    if (!(hi > lo)) return;
    var openLower = fieldset.getAttribute("data-open-lower") === "1";
    var openUpper = fieldset.getAttribute("data-open-upper") === "1";
    var inputs = Array.prototype.slice.call(fieldset.querySelectorAll("input[data-probability]"));
    var decimals = Math.max(0, Math.min(10, Math.round(-Math.log10(step))));

    function read(input) {
      var text = String(input.value).trim();
      if (!text) return null;
      var v = kind === "date" ? Date.parse(text.slice(0, 10) + "T00:00:00Z") / 1000
        : parseFloat(text.replace(",", ""));
      return isFinite(v) ? v : null;
    }
    function write(input, v) {
      input.value = kind === "date" ? new Date(v * 1000).toISOString().slice(0, 10)
        : v.toFixed(decimals);
    }
    function label(v) {
      return kind === "date" ? new Date(v * 1000).toISOString().slice(0, 10) : v.toFixed(decimals);
    }

    // Handles of the required quantiles start at a spread of the range until set.
    var handles = inputs.map(function (input) {
      var p = parseFloat(input.getAttribute("data-probability"));
      return { input: input, p: p, required: input.required,
               fallback: lo + (0.2 + 0.6 * (p - 0.1) / 0.8) * (hi - lo) };
    });
    function value(h) {
      var v = read(h.input);
      return v === null ? (h.required ? h.fallback : null) : v;
    }
    function active() {
      return handles.filter(function (h) { return value(h) !== null; });
    }

    var box = document.createElement("div");
    box.className = "numeric-editor";
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "group",
                          "aria-label": "Distribution editor: drag a handle or use the arrow keys" });
    box.appendChild(svg);
    var note = document.createElement("p");
    note.className = "hint";
    note.textContent = "Drag the handles, or focus one and use the arrow keys. Shaded: the " +
      "density your percentiles imply; line: the chance the outcome is below each value.";
    box.appendChild(note);
    var hint = fieldset.querySelector(".hint");
    fieldset.insertBefore(box, hint ? hint.nextSibling : fieldset.firstChild);

    function fx(v) { return LEFT + (v - lo) / (hi - lo) * (W - LEFT - RIGHT); }
    function fy(f) { return H - BOTTOM - f * (H - TOP - BOTTOM); }
    function toValue(clientX) {
      var m = svg.getScreenCTM();
      var x = (clientX - m.e) / m.a;
      return lo + (x - LEFT) / (W - LEFT - RIGHT) * (hi - lo);
    }

    el("line", { x1: LEFT, y1: fy(0), x2: W - RIGHT, y2: fy(0), stroke: "#9aa5b1" }, svg);
    el("text", { x: LEFT, y: H - 8, fill: "#52606d", "font-size": 11 }, svg).textContent = label(lo);
    el("text", { x: W - RIGHT, y: H - 8, fill: "#52606d", "font-size": 11, "text-anchor": "end" },
       svg).textContent = label(hi);
    var area = el("polygon", { fill: "#0b6e99", "fill-opacity": 0.25, stroke: "#0b6e99",
                               "stroke-width": 1, "class": "editor-density" }, svg);
    var curve = el("polyline", { fill: "none", stroke: "#323f4b", "stroke-width": 1.5,
                                 "class": "editor-cdf" }, svg);
    handles.forEach(function (h) {
      h.node = el("circle", { r: 7, fill: "#d55e00", stroke: "#ffffff", "stroke-width": 2,
                              tabindex: 0, role: "slider", "class": "handle",
                              "aria-label": h.input.labels && h.input.labels[0]
                                ? h.input.labels[0].textContent.trim() : "quantile " + h.p,
                              "aria-valuemin": lo, "aria-valuemax": hi }, svg);
      h.node.addEventListener("pointerdown", function (e) {
        h.node.setPointerCapture(e.pointerId);
        h.dragging = true;
        e.preventDefault();
      });
      h.node.addEventListener("pointermove", function (e) {
        if (h.dragging) move(h, toValue(e.clientX));
      });
      ["pointerup", "pointercancel"].forEach(function (type) {
        h.node.addEventListener(type, function () { h.dragging = false; });
      });
      h.node.addEventListener("keydown", function (e) {
        var by = (e.shiftKey ? 0.1 : 0.01) * (hi - lo), v = value(h);
        if (e.key === "ArrowRight" || e.key === "ArrowUp") move(h, v + by);
        else if (e.key === "ArrowLeft" || e.key === "ArrowDown") move(h, v - by);
        else if (e.key === "Home") move(h, lo);
        else if (e.key === "End") move(h, hi);
        else return;
        e.preventDefault();
      });
    });

    // A handle stays strictly between its neighbours (and inside a closed side).
    function move(h, v) {
      var shown = active(), i = shown.indexOf(h), gap = Math.max(step, (hi - lo) / 400);
      var min = i > 0 ? value(shown[i - 1]) + gap : (openLower ? lo : lo + gap);
      var max = i < shown.length - 1 ? value(shown[i + 1]) - gap : (openUpper ? hi : hi - gap);
      v = Math.min(Math.max(Math.round(v / step) * step, min), max);
      shown.forEach(function (other) {  // the first move sets every required input
        if (other !== h && other.required && read(other.input) === null) {
          write(other.input, other.fallback);
        }
      });
      write(h.input, v);
      draw();
    }

    function draw() {
      var shown = active();
      var pts = [[lo, 0]].concat(shown.map(function (h) { return [value(h), h.p]; }), [[hi, 1]]);
      var ok = pts.every(function (pt, i) { return i === 0 || pt[0] > pts[i - 1][0]; });
      curve.setAttribute("points", ok ? pts.map(function (pt) {
        return fx(pt[0]).toFixed(1) + "," + fy(pt[1]).toFixed(1);
      }).join(" ") : "");
      var dens = [], top = 0;
      for (var i = 1; ok && i < pts.length; i++) {
        var d = (pts[i][1] - pts[i - 1][1]) / (pts[i][0] - pts[i - 1][0]);
        dens.push(d);
        top = Math.max(top, d);
      }
      var poly = [fx(lo).toFixed(1) + "," + fy(0)];
      dens.forEach(function (d, k) {
        var y = fy(0.9 * d / top).toFixed(1);
        poly.push(fx(pts[k][0]).toFixed(1) + "," + y, fx(pts[k + 1][0]).toFixed(1) + "," + y);
      });
      poly.push(fx(hi).toFixed(1) + "," + fy(0));
      area.setAttribute("points", ok ? poly.join(" ") : "");
      handles.forEach(function (h) {
        var v = value(h);
        h.node.setAttribute("visibility", v === null ? "hidden" : "visible");
        if (v === null) return;
        h.node.setAttribute("cx", fx(Math.min(Math.max(v, lo), hi)).toFixed(1));
        h.node.setAttribute("cy", fy(h.p).toFixed(1));
        h.node.setAttribute("aria-valuenow", v);
        h.node.setAttribute("aria-valuetext", label(v));
      });
    }

    inputs.forEach(function (input) { input.addEventListener("input", draw); });
    draw();
  }

  function start() {
    document.querySelectorAll("fieldset[data-numeric-editor]").forEach(editor);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
