/* Cockpit charts (ECharts): revenue and shot trends, grade and consumption pies. Data from
   the page's json_script #cockpit-data; no inline script, so the strict CSP holds. Loaded by
   reports/_cockpit.html after the vendored echarts.min.js. */
(function () {
  "use strict";
  var source = document.getElementById("cockpit-data");
  if (!window.echarts || !source) { return; }
  var data = JSON.parse(source.textContent);
  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var money = function (v) {
    return "¥" + Number(v).toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  };
  draw("chart-revenue", {
    tooltip: {trigger: "axis", valueFormatter: money}, legend: {data: ["应收", "实收"]},
    grid: {containLabel: true, left: 10, right: 10, top: 30, bottom: 10},
    xAxis: {type: "category", data: data.months}, yAxis: {type: "value"},
    series: [{name: "应收", type: "bar", data: data.billed}, {name: "实收", type: "bar", data: data.received}]
  });
  draw("chart-shots", {
    tooltip: {trigger: "axis"}, grid: {containLabel: true, left: 10, right: 10, top: 20, bottom: 10},
    xAxis: {type: "category", data: data.months}, yAxis: {type: "value"},
    series: [{name: "拍摄量", type: "line", areaStyle: {}, data: data.shots}]
  });
  var pie = function (rows) { return rows.map(function (r) { return {name: r[0], value: r[1]}; }); };
  draw("chart-grades", {tooltip: {trigger: "item"}, series: [{type: "pie", radius: ["40%", "70%"], data: pie(data.grades)}]});
  draw("chart-consumption", {tooltip: {trigger: "item"}, series: [{type: "pie", radius: ["40%", "70%"], data: pie(data.consumption)}]});
})();
