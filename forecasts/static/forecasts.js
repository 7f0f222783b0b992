// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function number(input) {
    var v = parseFloat(String(input.value).replace(",", "."));
    return isFinite(v) ? v : null;
  }

  // Multiple choice: keep a running total of the option percentages.
  function runningTotal(form) {
    var inputs = form.querySelectorAll("fieldset.options input[type=number]");
    var output = form.querySelector("#total");
    var line = form.querySelector("#total-line");
    if (!inputs.length || !output) return;
    function update() {
      var sum = 0, missing = false;
      inputs.forEach(function (input) {
        var v = number(input);
        if (v === null) missing = true; else sum += v;
      });
      sum = Math.round(sum * 10) / 10;
      output.value = sum + "%";
      line.classList.toggle("ok", !missing && sum === 100);
      line.classList.toggle("off", !missing && sum !== 100);
    }
    inputs.forEach(function (input) { input.addEventListener("input", update); });
    update();
  }

  // Binary: a slider beside the number box, both showing the same value.
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
    range.value = number(box) === null ? "50" : String(number(box));
    range.addEventListener("input", function () { box.value = range.value; });
    box.addEventListener("input", function () {
      var v = number(box);
      if (v !== null) range.value = String(v);
    });
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
