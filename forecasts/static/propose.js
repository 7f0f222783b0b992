// The question form's live check: progressive enhancement only (the form posts and shows
// its errors without this file). On each change it asks /propose/preview, which answers
// with the field errors or the rule in words, and it shows only the fields that apply.
(function () {
  "use strict";

  var form = document.getElementById("question-form");
  if (!form) return;
  var url = form.getAttribute("data-preview");
  var touched = {};
  var timer = null;
  var pending = null;

  // Options only for multiple choice; each rule's own fields only for that rule.
  function toggle() {
    form.querySelectorAll("[data-show]").forEach(function (el) {
      var parts = el.getAttribute("data-show").split("=");
      var control = form.elements[parts[0]];
      el.hidden = !!control && control.value !== parts[1];
    });
  }

  function errorFor(name) {
    return document.getElementById(name + "-error");
  }

  function showErrors(errors) {
    Array.prototype.forEach.call(form.elements, function (input) {
      var name = input.name;
      if (!name || name === "csrf_token" || name === "action") return;
      var message = touched[name] ? errors[name] : null;
      var node = errorFor(name);
      if (message) {
        if (!node) {
          node = document.createElement("p");
          node.className = "field-error";
          node.id = name + "-error";
          var field = input.closest(".field") || input.parentNode;
          field.appendChild(node);
        }
        node.textContent = message;
        input.setAttribute("aria-invalid", "true");
      } else {
        if (node) node.parentNode.removeChild(node);
        input.removeAttribute("aria-invalid");
      }
    });
  }

  // An error in a field not yet filled in is named here rather than beside the field.
  function pendingText(errors) {
    var names = Object.keys(errors || {}).filter(function (n) { return !touched[n]; });
    if (!names.length) return "Fix the fields marked above to see the rule in words.";
    var label = form.querySelector("label[for='" + names[0] + "']");
    var what = label ? label.firstChild.textContent.trim() : names[0];
    return "To see the rule in words, complete the form: " + what + " " + errors[names[0]] + ".";
  }

  function showPreview(doc) {
    var text = document.getElementById("rule-text");
    if (text) text.textContent = doc.ok ? doc.rule_text : pendingText(doc.errors);
    var slug = document.getElementById("slug-hint");
    if (slug && doc.slug && form.elements.slug && !form.elements.slug.value) {
      slug.textContent = "3\u201380 of a\u2013z, 0\u20139 and \u201c-\u201d; left empty, it is made from the title: " + doc.slug + ".";
    }
    form.setAttribute("data-valid", doc.ok ? "yes" : "no");
  }

  function check() {
    if (!url) return;
    if (pending) pending.abort();
    pending = new AbortController();
    fetch(url, {method: "POST", body: new FormData(form), credentials: "same-origin",
                headers: {"Accept": "application/json"}, signal: pending.signal})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) {
        if (!doc) return;
        showErrors(doc.errors || {});
        showPreview(doc);
      })
      .catch(function () { /* offline or superseded: the server checks on submit anyway */ });
  }

  function changed(event) {
    if (event.target && event.target.name) touched[event.target.name] = true;
    toggle();
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // Fields the server already marked count as touched, so their errors stay in step.
  form.querySelectorAll("[aria-invalid=true]").forEach(function (el) { touched[el.name] = true; });
  toggle();
})();
