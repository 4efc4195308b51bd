// Stacked bars of final grades per category, from the JSON in #grade-chart-data.
// Tooltips are drawn on the canvas (richText): HTML tooltips carry style="" markup,
// which the Content-Security-Policy refuses.
(function () {
  var node = document.getElementById("grade-chart");
  var source = document.getElementById("grade-chart-data");
  if (!node || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colors = ["#2e7d32", "#7cb342", "#90a4ae", "#c62828", "#f9a825"];
  var chart = echarts.init(node);
  chart.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
    legend: { top: 0 },
    grid: { left: 8, right: 16, bottom: 8, top: 32, containLabel: true },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: data.categories, inverse: true },
    series: data.labels.map(function (label, i) {
      return { name: label, type: "bar", stack: "total", data: data.series[label],
               itemStyle: { color: colors[i] } };
    })
  });
  var charts = [chart];
  var calNode = document.getElementById("calibration-chart");
  if (calNode && data.calibration) {
    var cal = echarts.init(calNode);
    cal.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 32, containLabel: true },
      xAxis: { type: "category", data: data.calibration.categories },
      yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      series: [
        { name: data.calibration_labels[0], type: "bar", data: data.calibration.own,
          itemStyle: { color: "#8f1d1d" } },
        { name: data.calibration_labels[1], type: "bar", data: data.calibration.others,
          itemStyle: { color: "#90a4ae" } }
      ]
    });
    charts.push(cal);
  }
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
