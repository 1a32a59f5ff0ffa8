// cardadmin – small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // After a failed submission, put the keyboard focus on the first field with an error.
  var invalid = document.querySelector("[aria-invalid='true']");
  if (invalid) { invalid.focus(); }
  // "Select all" boxes (data-check-all="field name"), hidden until this script can make them work.
  document.querySelectorAll("input[data-check-all]").forEach(function (all) {
    var boxes = all.form.querySelectorAll("input[type=checkbox][name='" + all.getAttribute("data-check-all") + "']:not(:disabled)");
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
  });
  // Parts of a form that belong to one choice of a radio group (data-shown-with="group name",
  // data-shown-value="value") are shown only while that choice is made; without script all are shown.
  document.querySelectorAll("[data-shown-with]").forEach(function (part) {
    var radios = part.closest("form").querySelectorAll("input[type=radio][name='" + part.getAttribute("data-shown-with") + "']");
    function update() {
      var chosen = Array.prototype.find.call(radios, function (r) { return r.checked; });
      part.hidden = !chosen || chosen.value !== part.getAttribute("data-shown-value");
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  });
  // Print buttons (data-print), hidden until this script can make them work; they replace the Ctrl+P hint.
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-print-fallback]").forEach(function (hint) { hint.hidden = true; });
  // Forms that change many things at once ask first (data-confirm="Question?").
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
});
