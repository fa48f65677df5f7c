/* The KPI dashboard's charts: ECharts (vendored, bot/console/static/vendor) over the figures the page carries. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("kpi-data").textContent);
  var L = JSON.parse(document.getElementById("kpi-labels").textContent);
  var charts = [];
  var GREEN = "#07a35a", RED = "#f5222d", AMBER = "#faad14", BLUE = "#1677ff", GREY = "#bfbfbf";

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") { return; }
    var c = echarts.init(el, null, { renderer: "canvas" });
    option.grid = option.grid || { left: 8, right: 12, top: 28, bottom: 8, containLabel: true };
    option.tooltip = option.tooltip || { trigger: "axis", confine: true };
    option.animation = false;
    c.setOption(option);
    el.setAttribute("data-ready", "1");
    charts.push(c);
  }

  function histogram(id, buckets, limitIndex) {
    chart(id, {
      xAxis: { type: "category", data: buckets.map(function (b) { return b.label === "open" ? L.bucket_open : b.label; }),
               axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: L.count, data: buckets.map(function (b, i) {
        var late = b.label === "open" || i >= limitIndex;
        return { value: b.count, itemStyle: { color: b.label === "open" ? GREY : late ? RED : GREEN } };
      }), label: { show: true, position: "top" } }]
    });
  }

  var e = data.emergency;
  histogram("chart-respond", e.respond_histogram, 3);  // <=5, 5-10, 10-15 are within 15 minutes
  histogram("chart-resolve", e.resolve_histogram, 4);  // up to 24 h

  var areas = data.satisfaction;
  chart("chart-satisfaction", {
    xAxis: { type: "category", data: areas.map(function (a) { return L["area." + a.area]; }),
             axisLabel: { interval: 0, width: 90, overflow: "break" } },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    legend: { top: 0 },
    series: [
      { type: "bar", name: L.satisfied_share, data: areas.map(function (a) {
          return { value: a.share === null ? 0 : +(a.share * 100).toFixed(1),
                   itemStyle: { color: a.met === false ? RED : GREEN } }; }),
        label: { show: true, position: "top", formatter: "{c}%" } },
      { type: "line", name: L.target, step: "middle", symbol: "none", lineStyle: { type: "dashed", color: AMBER },
        data: areas.map(function (a) { return +(a.target * 100).toFixed(1); }) }
    ]
  });

  chart("chart-weeks", {
    legend: { top: 0 },
    xAxis: { type: "category", data: data.by_week.map(function (w) { return w.label.slice(5); }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { type: "bar", name: L.total, data: data.by_week.map(function (w) { return w.total; }), itemStyle: { color: BLUE } },
      { type: "line", name: L.emergencies, data: data.by_week.map(function (w) { return w.emergencies; }),
        itemStyle: { color: RED } }
    ]
  });

  var cats = data.categories;
  chart("chart-categories", {
    legend: { top: 0 },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", inverse: true, data: cats.map(function (c) { return c.name_zh; }) },
    series: ["respond", "resolve"].map(function (which, i) {
      return { type: "bar", name: L[which], itemStyle: { color: i ? BLUE : GREEN },
               data: cats.map(function (c) { var s = c[which].share; return s === null ? null : +(s * 100).toFixed(1); }) };
    })
  });

  chart("chart-by-category", {
    tooltip: { trigger: "item", confine: true },
    series: [{ type: "pie", radius: ["35%", "65%"], label: { formatter: "{b}\n{c}" },
               data: data.by_category.map(function (c) { return { name: c.label.split(" ")[0], value: c.total }; }) }]
  });

  chart("chart-by-building", {
    xAxis: { type: "category", data: data.by_building.map(function (b) { return b.label; }), axisLabel: { interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    legend: { top: 0 },
    series: [
      { type: "bar", name: L.total, stack: "t", data: data.by_building.map(function (b) { return b.total - b.emergencies; }),
        itemStyle: { color: BLUE } },
      { type: "bar", name: L.emergencies, stack: "t", data: data.by_building.map(function (b) { return b.emergencies; }),
        itemStyle: { color: RED } }
    ]
  });

  var staff = data.staff.slice(0, 15);
  chart("chart-staff", {
    legend: { top: 0 },
    xAxis: { type: "category", data: staff.map(function (s) { return s.name; }), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: [{ type: "value", minInterval: 1 }, { type: "value", name: "min", splitLine: { show: false } }],
    series: [
      { type: "bar", name: L.handled, data: staff.map(function (s) { return s.handled; }), itemStyle: { color: BLUE } },
      { type: "bar", name: L.open_now, data: staff.map(function (s) { return s.open_now; }), itemStyle: { color: AMBER } },
      { type: "line", name: L.avg_accept, yAxisIndex: 1, data: staff.map(function (s) { return s.avg_accept_minutes; }),
        itemStyle: { color: RED } }
    ]
  });

  // Due times in the reader's local time.
  Array.prototype.forEach.call(document.querySelectorAll("[data-utc]"), function (cell) {
    var when = new Date(cell.getAttribute("data-utc"));
    if (!isNaN(when)) { cell.textContent = when.toLocaleString([], { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }); }
  });

  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
  });
  document.getElementById("kpi").setAttribute("data-charts", String(charts.length));
}());
