// Vroegsignaal pages: a little progressive enhancement. Every page works without this script.
(function () {
  "use strict";

  // After a refused form, move focus to the list of problems so it is read out first.
  function focusErrorSummary() {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) {
      summary.focus();
    }
  }

  // On the decision form, say right away when the chosen first contact departs from the advice,
  // so the caseworker knows a reason is needed before sending the form.
  function watchDeparture() {
    var note = document.getElementById("departure-note");
    if (!note) {
      return;
    }
    var suggested = note.getAttribute("data-suggested");
    var radios = document.querySelectorAll('input[name="chosen_intensity"]');
    function update() {
      var chosen = document.querySelector('input[name="chosen_intensity"]:checked');
      note.textContent = chosen && chosen.value !== suggested ? note.getAttribute("data-message") : "";
    }
    for (var i = 0; i < radios.length; i += 1) {
      radios[i].addEventListener("change", update);
    }
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    watchDeparture();
  });
})();
