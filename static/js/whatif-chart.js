// The what-if distribution chart: customers per change-in-% bucket (data from json_script).
(function () {
  function draw() {
    var el = document.getElementById("whatif-chart");
    var data = document.getElementById("whatif-chart-data");
    if (!el || !data || !window.echarts) { return; }
    var buckets = JSON.parse(data.textContent);
    var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 10, top: 20, bottom: 40 },
      xAxis: { type: "category", data: buckets.map(function (b) { return b.label; }) },
      yAxis: { type: "value", minInterval: 1, name: "客户数" },
      series: [{ type: "bar", data: buckets.map(function (b) { return b.count; }) }]
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
