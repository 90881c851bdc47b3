/* Behaviour shared by every page, driven by data attributes so templates carry no inline
   script or on*= handler (the Content-Security-Policy allows scripts from our origin only).

   data-confirm="问题？"      on a <form>: asks once before it submits; on a button or link:
                              asks once before the click goes through.
   data-disable-on-submit     on a <form>: disables its submit buttons once it really submits,
                              so a double click cannot post twice.
   data-check-all=".sel"      on a checkbox: ticks or clears every checkbox matching .sel.
   data-percent="42"          on a progress bar: sets its width (style attributes are blocked).
   data-reload-when-job-finishes  anywhere on a page: reloads once a polled .job-progress ends. */
(function () {
  "use strict";

  // Capture phase, so a refusal stops the click before Bootstrap or htmx see it.
  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-confirm]:not(form)");
    if (el && !window.confirm(el.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // Bubble phase: runs only for submits nobody refused above.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || form.dataset.disableOnSubmit === undefined) { return; }
    // Disabled after the browser has collected the form data, so the clicked button's
    // name/value is still sent.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(function (b) {
        b.disabled = true;
      });
    }, 0);
  });

  document.addEventListener("change", function (e) {
    var selector = e.target.dataset ? e.target.dataset.checkAll : undefined;
    if (!selector) { return; }
    document.querySelectorAll(selector).forEach(function (c) { c.checked = e.target.checked; });
  });

  function setWidths(root) {
    root.querySelectorAll("[data-percent]").forEach(function (el) {
      el.style.width = el.dataset.percent + "%";
    });
  }
  setWidths(document);
  // htmx:load fires for every piece of content htmx puts on the page (polling, swaps).
  document.addEventListener("htmx:load", function (e) { setWidths(e.target.parentNode || document); });

  document.addEventListener("htmx:afterSwap", function () {
    if (!document.querySelector("[data-reload-when-job-finishes]")) { return; }
    var el = document.querySelector(".job-progress");
    if (el && (el.dataset.status === "succeeded" || el.dataset.status === "failed")) {
      window.location.reload();
    }
  });
})();
