/* Price plan form: show only the settings of the chosen pricing kind; the others stay in
   the form, unchanged. Loaded by billing/plan_form.html. */
(function () {
  "use strict";
  var kind = document.getElementById("id_kind");
  if (!kind) { return; }
  function sync() {
    document.querySelectorAll(".plan-field[data-kind]").forEach(function (el) {
      el.hidden = el.dataset.kind !== "" && el.dataset.kind !== kind.value;
    });
  }
  kind.addEventListener("change", sync);
  sync();
})();
