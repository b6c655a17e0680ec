// Vroegsignaal pages: a little progressive enhancement. Every page works without this script.
(function () {
  "use strict";

  // After a form, move focus to what the page says about it (the list of problems, or "saved"), so a screen
  // reader reads that out first: a page that arrives with a message does not announce it by itself.
  function focusMessage() {
    var message = document.querySelector("[data-focus-on-load]");
    if (message) {
      message.focus();
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
    focusMessage();
    watchDeparture();
  });
})();
