// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function number(input) {
    var v = parseFloat(String(input.value).replace(",", "."));
    return isFinite(v) ? v : null;
  }

  // Multiple choice: keep a running total of the option percentages. The page sends
  // the total line hidden (without this script no one would update it) and says
  // how far from 100 the form accepts in data-total-tolerance.
  function runningTotal(form) {
    var inputs = form.querySelectorAll("fieldset.options input[type=number]");
    var output = form.querySelector("#total");
    var line = form.querySelector("#total-line");
    if (!inputs.length || !output || !line) return;
    var tolerance = parseFloat(form.getAttribute("data-total-tolerance"));
    if (!isFinite(tolerance)) tolerance = 0;
    function update() {
      var sum = 0, missing = false;
      inputs.forEach(function (input) {
        var v = number(input);
        if (v === null) missing = true; else sum += v;
      });
      sum = Math.round(sum * 10) / 10;
      var close = Math.abs(sum - 100) <= tolerance + 1e-9;
      output.value = sum + "%";
      line.classList.toggle("ok", !missing && close);
      line.classList.toggle("off", !missing && !close);
    }
    inputs.forEach(function (input) { input.addEventListener("input", update); });
    update();
    line.hidden = false;
  }

  // Binary: a slider beside the number box, both showing the same value. Until a
  // value is typed (or the track is clicked) the slider is "unset": no thumb shows,
  // so it does not suggest 50%.
  function slider(form) {
    var box = form.querySelector("#probability");
    if (!box) return;
    var range = document.createElement("input");
    range.type = "range";
    range.min = "0.1";
    range.max = "99.9";
    range.step = "0.1";
    range.className = "slider";
    range.setAttribute("aria-hidden", "true");
    range.tabIndex = -1;
    function show(v) {
      range.classList.toggle("unset", v === null);
      range.setAttribute("aria-valuetext", v === null ? "not set" : v + "%");
      if (v !== null) range.value = String(v);
    }
    function take() {
      box.value = range.value;
      show(number(box));
    }
    range.addEventListener("input", take);
    // A click on the track where the hidden thumb sits fires no input event.
    range.addEventListener("pointerup", function () {
      if (range.classList.contains("unset")) take();
    });
    box.addEventListener("input", function () { show(number(box)); });
    show(number(box));
    box.closest(".field").insertBefore(range, box.closest(".percent-input").nextSibling);
  }

  // Copy a freshly created API token with one click.
  function copyButton() {
    var token = document.querySelector("input.token");
    if (!token || !navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(token.value).then(function () { button.textContent = "Copied"; });
    });
    token.insertAdjacentElement("afterend", button);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.forecast-form").forEach(function (form) {
      runningTotal(form);
      slider(form);
    });
    copyButton();
  });
})();
