/* Package burn-down chart (ECharts): cumulative shots per month against the quota and the
   projection to the contract year's end. Data from the page's json_script #burn-down-data;
   no inline script, so a Content-Security-Policy without 'unsafe-inline' keeps it working. */
(function () {
  "use strict";
  var el = document.getElementById("chart-burn-down");
  var source = document.getElementById("burn-down-data");
  if (!el || !source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var series = [
    {name: "累计已用", type: "line", data: data.cumulative, areaStyle: {opacity: 0.15}},
    {name: "预计", type: "line", data: data.projected, lineStyle: {type: "dashed"}, symbol: "none"}
  ];
  if (data.quota !== null) {
    series.push({name: "年度限量", type: "line", data: data.months.map(function () { return data.quota; }),
                 symbol: "none", lineStyle: {color: "#dc3545"}});
  }
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: {trigger: "axis"},
    legend: {data: series.map(function (s) { return s.name; })},
    grid: {containLabel: true, left: 10, right: 10, top: 30, bottom: 10},
    xAxis: {type: "category", data: data.months},
    yAxis: {type: "value", name: "拍摄量"},
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
