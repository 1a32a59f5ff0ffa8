// Hand-over page: "Läs från kortläsaren" fills the card number from the card in the reader, and the
// newest verification (also one posted by the desk agent) is shown without a reload.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-reader-url]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-reader-hook"));
    var note = document.getElementById(button.getAttribute("aria-describedby"));
    button.addEventListener("click", function () {
      button.disabled = true;
      note.classList.remove("reader-status-error");
      note.textContent = "Läser kortet …";
      fetch(button.getAttribute("data-reader-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          return response.json().then(function (body) { return {ok: response.ok, body: body}; });
        })
        .then(function (answer) {
          if (answer.ok && answer.body.card_number) {
            target.value = answer.body.card_number;
            note.textContent = "Kortnumret är hämtat från kortet i " + answer.body.reader + ".";
            target.focus();
          } else {
            note.classList.add("reader-status-error");
            note.textContent = (answer.body.error && answer.body.error.message) || "Kortet kunde inte läsas.";
          }
        })
        .catch(function () {
          note.classList.add("reader-status-error");
          note.textContent = "Kortet kunde inte läsas. Försök igen.";
        })
        .finally(function () { button.disabled = false; });
    });
  });

  // A card the desk agent verifies while this page is open has proved its number: offer it in the hand-over
  // form if that is empty. Not on page load: an old verification must not stand in for reading the card.
  function offerVerifiedNumber() {
    var verified = document.querySelector("[data-verified-card-number]");
    var field = document.getElementById("card_number");
    if (verified && field && !field.value) { field.value = verified.getAttribute("data-verified-card-number"); }
  }

  document.querySelectorAll("[data-verification-poll]").forEach(function (box) {
    var url = box.getAttribute("data-verification-poll");
    function current() {
      var shown = box.querySelector("[data-verification-id]");
      return shown ? shown.getAttribute("data-verification-id") : null;
    }
    function poll() {
      if (document.hidden) { return; }
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (body && body.id !== null && String(body.id) !== current()) {
            box.innerHTML = body.html;
            offerVerifiedNumber();
          }
        })
        .catch(function () { /* the next poll tries again */ });
    }
    window.setInterval(poll, 2000);
  });
});
