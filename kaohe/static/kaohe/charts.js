// Stacked bar chart of self-report progress per category, from the JSON in #chart-data.
// Tooltips are drawn on the canvas (richText): HTML tooltips carry style="" markup,
// which the Content-Security-Policy refuses.
(function () {
  var node = document.getElementById("category-chart");
  var source = document.getElementById("chart-data");
  if (!node || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(node);
  function series(name, values, color) {
    return { name: name, type: "bar", stack: "total", data: values, itemStyle: { color: color },
             label: { show: true, formatter: function (p) { return p.value || ""; } } };
  }
  chart.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
    legend: { top: 0 },
    grid: { left: 8, right: 16, bottom: 8, top: 32, containLabel: true },
    xAxis: { type: "value" },
    yAxis: { type: "category", data: data.categories, inverse: true },
    series: [
      series(data.labels.submitted, data.submitted, "#2e7d32"),
      series(data.labels.drafts, data.drafts, "#0288d1"),
      series(data.labels.not_started, data.not_started, "#bdbdbd")
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
