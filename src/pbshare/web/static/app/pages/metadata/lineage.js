// Lineage as an ECharts graph: which table was produced from which sources by which job or import.
import { ref, onMounted, onBeforeUnmount, nextTick } from "vue";
import * as echarts from "echarts";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { fmtTime } from "../catalog/labels.js";
import "./labels.js";

const COLORS = { table: "#3a7bd5", source: "#67c23a", file: "#e6a23c", resource: "#909399" };

export default {
  name: "LineagePage",
  setup() {
    const node = ref(new URLSearchParams(location.hash.split("?")[1] || "").get("node") || "");
    const depth = ref(3);
    const graph = ref({ nodes: [], edges: [] });
    const el = ref(null);
    let chart = null;
    function draw() {
      if (!el.value) return;
      chart = chart || echarts.init(el.value);
      const cats = Object.keys(COLORS);
      const names = Object.fromEntries(cats.map((c) => [c, t("md.kind." + c)]));
      chart.setOption({
        tooltip: { formatter: (p) => (p.dataType === "edge" ? `${p.data.source} → ${p.data.target}<br>${p.data.via}` : p.data.name) },
        legend: { data: cats.map((c) => names[c]), bottom: 0 },
        series: [{
          type: "graph", layout: "force", roam: true, draggable: true, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 9,
          force: { repulsion: 320, edgeLength: 140 },
          categories: cats.map((c) => ({ name: names[c], itemStyle: { color: COLORS[c] } })),
          label: { show: true, position: "right", fontSize: 12 },
          data: graph.value.nodes.map((n) => ({ name: n.name, category: cats.indexOf(cats.includes(n.kind) ? n.kind : "table"), symbolSize: n.name === node.value ? 26 : 16 })),
          links: graph.value.edges.map((e) => ({ source: e.source, target: e.target, via: `${e.via_kind}${e.via_id ? " " + e.via_id : ""}` })),
          lineStyle: { color: "#999", curveness: 0.1 },
        }],
      }, true);
    }
    async function load() {
      const params = new URLSearchParams({ depth: depth.value });
      if (node.value) params.set("node", node.value);
      graph.value = await api(`/metadata/lineage?${params}`);
      await nextTick();
      draw();
    }
    function onClick(p) { if (p.dataType === "node") { node.value = p.data.name; load(); } }
    const onResize = () => chart && chart.resize();
    onMounted(async () => { await load(); chart && chart.on("click", onClick); window.addEventListener("resize", onResize); });
    onBeforeUnmount(() => { window.removeEventListener("resize", onResize); chart && chart.dispose(); });
    return { t, node, depth, graph, el, load, fmtTime };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('md.lineage') }}</h2>
    <div class="toolbar">
      <el-input v-model="node" :placeholder="t('md.node')" clearable @keyup.enter="load" data-test="lin-node" style="width:320px" />
      <span>{{ t('md.depth') }}</span><el-input-number v-model="depth" :min="1" :max="10" size="small" />
      <el-button type="primary" @click="load" data-test="lin-draw">{{ t('md.draw') }}</el-button>
    </div>
    <p v-if="!graph.edges.length" class="muted">{{ t('md.noLineage') }}</p>
    <el-card shadow="never"><div ref="el" class="chart" style="height:460px" data-test="lin-chart"></div></el-card>
    <el-table :data="graph.edges" size="small" style="margin-top:12px" data-test="lin-edges">
      <el-table-column prop="source" :label="t('md.source')" min-width="180" />
      <el-table-column prop="target" :label="t('md.target')" min-width="160" />
      <el-table-column :label="t('md.via')" width="200"><template #default="{ row }">{{ row.via_kind }} {{ row.via_id || '' }}</template></el-table-column>
      <el-table-column :label="t('md.recordedAt')" width="160" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ fmtTime(row.last_recorded_at) }}</template></el-table-column>
    </el-table>
  </div>`,
};
