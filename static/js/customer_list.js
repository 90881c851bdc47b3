/* Customer list: select-all checkbox, keeping the saved-filter query and the filter form's
   sort in step with htmx swaps, and export links that carry the current filter (after swaps
   too) and the ticked ids. Loaded by customers/customer_list.html. */
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    if (e.target.id === "check-all") {
      document.querySelectorAll(".row-check").forEach(function (c) { c.checked = e.target.checked; });
    }
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    var q = document.getElementById("results-query");
    if (q) { document.querySelectorAll(".current-query").forEach(function (i) { i.value = q.value; }); }
    // Keep the filter form's sort in step with a header click, so the next filter keeps it.
    var sort = document.getElementById("id_sort");
    if (q && sort) { sort.value = new URLSearchParams(q.value).get("sort") || ""; }
  });
  document.addEventListener("click", function (e) {
    var link = e.target.closest(".export-link");
    if (!link) { return; }
    var q = document.getElementById("results-query");
    var params = new URLSearchParams(q ? q.value : "");
    params.set("scope", link.dataset.scope);
    if (link.dataset.scope === "selection") {
      var ids = Array.prototype.map.call(document.querySelectorAll(".row-check:checked"), function (c) { return c.value; });
      if (!ids.length) { e.preventDefault(); window.alert("请先在列表中勾选要导出的客户。"); return; }
      params.set("ids", ids.join(","));
    }
    link.href = link.dataset.exportBase + "?" + params.toString();
  });
})();
