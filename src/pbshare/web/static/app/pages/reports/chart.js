// One chart of a report's result: table, pivot, bar, line, pie, KPI card or the map of Shenzhen's districts.
// Clicking a bar, point, slice or district emits "drill" with { <x column>: value }.
import { ref, computed, watch, onMounted, onBeforeUnmount, nextTick } from "vue";
import * as echarts from "echarts";
import { t } from "../../i18n.js";
import { NUMERIC } from "./labels.js";
import { fmtValue } from "../../format.js";

let mapReady = null;
function loadMap() {
  if (!mapReady) {
    mapReady = fetch(new URL("./shenzhen.json", import.meta.url).href).then((r) => r.json()).then((geo) => {
      echarts.registerMap("shenzhen", geo);
    });
  }
  return mapReady;
}

export function axes(columns, options) {
  const cols = columns || [];
  const valueCols = (options?.y && options.y.length ? options.y : cols.filter((c) => NUMERIC.has(c.type) && c.name !== options?.x).map((c) => c.name));
  const dims = cols.filter((c) => !valueCols.includes(c.name)).map((c) => c.name);
  const x = options?.x || dims[0] || cols[0]?.name;
  return { x, y: valueCols.length ? valueCols : cols.filter((c) => c.name !== x).map((c) => c.name).slice(0, 1), dims };
}

export default {
  name: "ReportChart",
  props: { chart: { type: String, default: "table" }, columns: Array, rows: Array, totals: Object, options: Object, height: { type: String, default: "100%" } },
  emits: ["drill"],
  setup(props, { emit, expose }) {
    const el = ref(null);
    let inst = null;
    const titleOf = (name) => (props.columns || []).find((c) => c.name === name)?.title || name;
    const ax = computed(() => axes(props.columns, props.options));
    const kpi = computed(() => {
      const row = (props.rows || [])[0] || {};
      const name = ax.value.y[0];
      return { value: row[name] === null || row[name] === undefined ? "—" : fmtValue(row[name], typeOf(name)), label: titleOf(name) };
    });
    const pivot = computed(() => {
      const { dims, y } = ax.value;
      const [r, c] = [dims[0], dims[1]];
      const v = y[0];
      if (!c) return { cols: [], rows: (props.rows || []).map((row) => ({ key: row[r], cells: {}, value: row[v] })), r, v };
      const colKeys = [...new Set((props.rows || []).map((row) => String(row[c] ?? "")))];
      const byRow = new Map();
      for (const row of props.rows || []) {
        const k = String(row[r] ?? "");
        if (!byRow.has(k)) byRow.set(k, { key: k, cells: {}, total: 0 });
        const entry = byRow.get(k);
        entry.cells[String(row[c] ?? "")] = row[v];
        entry.total += Number(row[v]) || 0;
      }
      return { cols: colKeys, rows: [...byRow.values()], r, c, v };
    });
    async function draw() {
      if (!["bar", "line", "pie", "map"].includes(props.chart) || !el.value) { dispose(); return; }
      if (props.chart === "map") await loadMap();
      inst = inst || echarts.init(el.value);
      const { x, y } = ax.value;
      const rows = props.rows || [];
      const cats = rows.map((r) => (r[x] ?? "—"));
      let option;
      if (props.chart === "pie") {
        option = { tooltip: { trigger: "item" }, legend: { type: "scroll", bottom: 0 },
          series: [{ type: "pie", radius: "60%", data: rows.map((r) => ({ name: String(r[x] ?? "—"), value: r[y[0]] })) }] };
      } else if (props.chart === "map") {
        const values = rows.map((r) => Number(r[y[0]]) || 0);
        option = { tooltip: { trigger: "item" }, visualMap: { min: 0, max: Math.max(1, ...values), left: 0, bottom: 0, calculable: true, inRange: { color: ["#e0ecff", "#1f4e8c"] } },
          series: [{ type: "map", map: "shenzhen", roam: false, label: { show: true, fontSize: 10 }, data: rows.map((r) => ({ name: String(r[x] ?? ""), value: r[y[0]] })) }] };
      } else {
        const narrow = el.value.clientWidth < 420;
        option = { tooltip: { trigger: "axis" }, legend: { show: y.length > 1, top: 0 },
          grid: { left: 48, right: 12, top: y.length > 1 ? 28 : 12, bottom: narrow ? 56 : 36 },
          xAxis: { type: "category", data: cats, axisLabel: { interval: 0, rotate: narrow || cats.length > 6 ? 30 : 0 } },
          yAxis: { type: "value" },
          series: y.map((name) => ({ name: titleOf(name), type: props.chart, data: rows.map((r) => r[name]), smooth: props.chart === "line" })) };
      }
      inst.setOption(option, true);
      inst.off("click");
      inst.on("click", (p) => { if (x) emit("drill", { [x]: props.chart === "bar" || props.chart === "line" ? rows[p.dataIndex]?.[x] : p.name }); });
      inst.resize();
    }
    function dispose() { if (inst) { inst.dispose(); inst = null; } }
    const onResize = () => inst && inst.resize();
    let ro = null;
    onMounted(() => {
      nextTick(draw);
      window.addEventListener("resize", onResize);
      if (window.ResizeObserver) { ro = new ResizeObserver(onResize); el.value && ro.observe(el.value); }
    });
    onBeforeUnmount(() => { window.removeEventListener("resize", onResize); ro && ro.disconnect(); dispose(); });
    watch(() => [props.chart, props.rows, props.columns, props.options], () => nextTick(() => {
      if (ro && el.value) { ro.disconnect(); ro.observe(el.value); }
      draw();
    }), { deep: true });
    expose({ image: () => (inst ? inst.getDataURL({ type: "png", pixelRatio: 1, backgroundColor: "#fff" }) : null) });
    // money and numbers by the column's type: 15125.0000000000 → 15,125.00
    const typeOf = (name) => (props.columns || []).find((c) => c.name === name)?.type;
    const cell = (row, name) => { const v = row[name]; return v === null || v === undefined ? "" : fmtValue(v, typeOf(name)); };
    return { el, kpi, pivot, t, titleOf, cell };
  },
  template: `
  <div style="width:100%;height:100%">
    <div v-if="chart === 'kpi'" class="rp-kpi" data-test="kpi"><div class="num">{{ kpi.value }}</div><div class="lbl">{{ kpi.label }}</div></div>
    <el-table v-else-if="chart === 'table'" :data="rows || []" size="small" border height="100%" style="width:100%">
      <el-table-column v-for="c in columns" :key="c.name" :prop="c.name" :label="c.title || c.name" min-width="100">
        <template #default="{ row }">{{ cell(row, c.name) }}</template>
      </el-table-column>
    </el-table>
    <div v-else-if="chart === 'pivot'" style="overflow:auto;height:100%">
      <table class="el-table" style="border-collapse:collapse;font-size:13px" data-test="pivot">
        <thead><tr><th style="padding:4px 8px;border:1px solid #ebeef5">{{ titleOf(pivot.r) }} \\ {{ pivot.c ? titleOf(pivot.c) : titleOf(pivot.v) }}</th>
          <th v-for="k in pivot.cols" :key="k" style="padding:4px 8px;border:1px solid #ebeef5">{{ k }}</th>
          <th v-if="pivot.cols.length" style="padding:4px 8px;border:1px solid #ebeef5">{{ t('rp.total') }}</th></tr></thead>
        <tbody><tr v-for="r in pivot.rows" :key="r.key"><td style="padding:4px 8px;border:1px solid #ebeef5">{{ r.key }}</td>
          <td v-if="!pivot.cols.length" style="padding:4px 8px;border:1px solid #ebeef5;text-align:right">{{ r.value }}</td>
          <td v-for="k in pivot.cols" :key="k" style="padding:4px 8px;border:1px solid #ebeef5;text-align:right">{{ r.cells[k] ?? '' }}</td>
          <td v-if="pivot.cols.length" style="padding:4px 8px;border:1px solid #ebeef5;text-align:right;font-weight:600">{{ r.total }}</td></tr></tbody>
      </table>
    </div>
    <div v-else ref="el" class="rp-chart" :style="{ height }" :data-test="'chart-' + chart"></div>
  </div>`,
};
