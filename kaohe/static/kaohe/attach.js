// After an evidence upload finishes (kaohe:uploaded from upload.js), or a link is entered,
// send the whole report form to the attach URL: the server saves the texts typed so far,
// then attaches the evidence, so nothing typed is lost when the page reloads.
(function () {
  var form = document.getElementById("report-form");
  if (!form) { return; }
  function submitTo(url, fields) {
    Object.keys(fields).forEach(function (name) {
      // A field the holder does not name (a provincial report has no indicator) is left to
      // the form's own inputs.
      if (fields[name] === undefined) { return; }
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name] == null ? "" : fields[name];
      form.appendChild(input);
    });
    form.action = url;
    // The prototype's submit: a button named "submit" in the form shadows form.submit.
    HTMLFormElement.prototype.submit.call(form);
  }
  document.addEventListener("kaohe:uploaded", function (event) {
    var holder = event.target.closest(".kh-upload");
    if (!holder) { return; }
    submitTo(holder.dataset.attachUrl, {
      evidence: event.detail.evidenceId, indicator: holder.dataset.indicator,
      requirement: holder.dataset.requirement, county: holder.dataset.county,
      item: holder.dataset.item
    });
  });
  document.querySelectorAll(".kh-link-form button").forEach(function (button) {
    button.addEventListener("click", function () {
      var box = button.closest(".kh-link-form");
      submitTo(box.dataset.url, {
        indicator: box.dataset.indicator, requirement: box.dataset.requirement,
        county: box.dataset.county,
        link_title: box.querySelector("input[data-name=title]").value,
        link_url: box.querySelector("input[data-name=url]").value
      });
    });
  });
})();

// Buttons that lock something ask first (a double click still submits only once).
document.querySelectorAll("button[data-confirm]").forEach(function (button) {
  button.addEventListener("click", function (event) {
    if (!window.confirm(button.dataset.confirm)) { event.preventDefault(); }
  });
});
