// One record per act: a form carrying a one-time token (name="once_token") is sent once.
// The first submit goes through; its buttons are disabled right after (the browser has
// already taken the clicked button's value), and further submits are ignored. The server
// refuses a repeated token anyway (kaohe.maintenance.once); this spares the user the message.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.querySelector("input[name=once_token]")) {
      return;
    }
    if (form.dataset.khSent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.khSent = "1";
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")
        .forEach(function (button) { button.disabled = true; });
    }, 0);
  });
  // Back to a page kept in the browser's cache: its forms may be sent again (with a new
  // token once reloaded; the server says so if the old one was spent).
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-kh-sent]").forEach(function (form) {
      delete form.dataset.khSent;
      form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
        button.disabled = false;
      });
    });
  });
})();
