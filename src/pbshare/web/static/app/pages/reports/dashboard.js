// One dashboard: reports on a 12-column grid (drag a title bar to move, the corner to resize), global
// filters (date range, unit, district), auto-refresh, PDF and Excel export, a share link. On a phone
// (under 768 px) the tiles stack in reading order.
import { ref, reactive, computed, onMounted, onBeforeUnmount, watch } from "vue";
import { useRoute } from "vue-router";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { DISTRICTS, download } from "./labels.js";
import ReportChart from "./chart.js";
import { fmtTime } from "../../format.js";

const ROW_PX = 90;

export default {
  name: "DashboardPage",
  components: { ReportChart },
  setup() {
    const route = useRoute();
    const dash = ref(null);
    const tiles = ref([]);
    const reports = ref([]);
    const editing = ref(false);
    const adding = ref("");
    const g = reactive({ range: null, unit: "", district: "" });
    const charts = ref({});
    const gridEl = ref(null);
    const updated = ref("");
    let timer = null;
    const globals = () => ({ date_from: g.range?.[0] || null, date_to: g.range?.[1] || null, unit: g.unit || null, district: g.district || null });
    async function load() {
      dash.value = await api(`/reports/dashboards/${route.params.id}`);
      await refresh();
      schedule();
    }
    async function refresh() {
      tiles.value = await api(`/reports/dashboards/${route.params.id}/data`, { method: "POST", body: globals() });
      updated.value = fmtTime(new Date());
    }
    function schedule() {
      if (timer) clearInterval(timer);
      const s = dash.value?.refresh_seconds || 0;
      if (s >= 10) timer = setInterval(() => { if (!editing.value) refresh(); }, s * 1000);
    }
    onMounted(load);
    watch(() => route.params.id, (id) => { if (id) { editing.value = false; load(); } });
    onBeforeUnmount(() => timer && clearInterval(timer));
    const ordered = computed(() => [...tiles.value].map((tile, i) => ({ tile, i })).sort((a, b) => a.tile.y - b.tile.y || a.tile.x - b.tile.x));
    const style = (tile) => ({ gridColumn: `${tile.x + 1} / span ${tile.w}`, gridRow: `${tile.y + 1} / span ${tile.h}` });
    // moving and resizing in grid cells
    function cellOf(e) {
      const r = gridEl.value.getBoundingClientRect();
      const colW = r.width / 12;
      return { x: Math.max(0, Math.floor((e.clientX - r.left) / colW)), y: Math.max(0, Math.floor((e.clientY - r.top) / (ROW_PX + 10))), colW };
    }
    function dragStart(e, i) { e.dataTransfer.setData("text/plain", String(i)); e.dataTransfer.effectAllowed = "move"; }
    function drop(e) {
      const i = Number(e.dataTransfer.getData("text/plain"));
      const tile = tiles.value[i];
      if (!tile) return;
      const c = cellOf(e);
      tile.x = Math.min(c.x, 12 - tile.w);
      tile.y = c.y;
    }
    function resizeStart(e, tile) {
      e.preventDefault();
      const start = { x: e.clientX, y: e.clientY, w: tile.w, h: tile.h };
      const colW = gridEl.value.getBoundingClientRect().width / 12;
      const move = (ev) => {
        tile.w = Math.max(1, Math.min(12 - tile.x, Math.round(start.w + (ev.clientX - start.x) / colW)));
        tile.h = Math.max(1, Math.min(20, Math.round(start.h + (ev.clientY - start.y) / (ROW_PX + 10))));
      };
      const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
    }
    async function startEdit() {
      reports.value = await api("/reports");
      editing.value = true;
    }
    function addTile() {
      if (!adding.value) return;
      const bottom = Math.max(0, ...tiles.value.map((x) => x.y + x.h));
      const r = reports.value.find((x) => x.id === adding.value);
      tiles.value.push({ report_id: adding.value, x: 0, y: bottom, w: r?.chart === "kpi" ? 3 : 6, h: r?.chart === "kpi" ? 2 : 4, title: null, chart: r?.chart, columns: [], rows: [], options: r?.options });
      adding.value = "";
    }
    async function saveLayout() {
      const d = dash.value;
      const body = { title: d.title, description: d.description, filters: d.filters, refresh_seconds: d.refresh_seconds, roles: d.roles,
        tiles: tiles.value.map((x) => ({ report_id: x.report_id, x: x.x, y: x.y, w: x.w, h: x.h, title: x.title || null })) };
      dash.value = await api(`/reports/dashboards/${d.id}`, { method: "PUT", body });
      editing.value = false;
      ElMessage.success(t("rp.saved"));
      await refresh();
      schedule();
    }
    function images() {
      const out = {};
      for (const [i, c] of Object.entries(charts.value)) { const img = c && c.image && c.image(); if (img) out[i] = img; }
      return out;
    }
    const exportAs = (fmt) => download(`/reports/dashboards/${route.params.id}/export?format=${fmt}`, { globals: globals(), images: fmt === "pdf" ? images() : {} }, `dashboard.${fmt}`);
    async function share() {
      const link = `${location.origin}${location.pathname}#/reports/dashboards/${route.params.id}`;
      try { await navigator.clipboard.writeText(link); } catch (e) { /* no clipboard: the link is shown */ }
      ElMessage.success({ message: `${t("rp.linkCopied")}: ${link}`, duration: 6000 });
    }
    const setChart = (i) => (c) => { charts.value[i] = c; };
    const shows = (name) => (dash.value?.filters || []).includes(name);
    return { t, can, dash, tiles, ordered, style, editing, startEdit, saveLayout, dragStart, drop, resizeStart, gridEl, reports, adding, addTile,
      g, refresh, exportAs, share, setChart, shows, DISTRICTS, updated, schedule };
  },
  template: `
  <div v-if="dash">
    <h2 class="page-title" data-test="dashboard-title">{{ dash.title }}</h2>
    <div class="rp-globals" data-test="globals">
      <el-date-picker v-if="shows('date')" v-model="g.range" type="daterange" value-format="YYYY-MM-DD" :start-placeholder="t('rp.low')" :end-placeholder="t('rp.high')" style="width:260px" />
      <el-input v-if="shows('unit')" v-model="g.unit" :placeholder="t('rp.unit')" style="width:160px" clearable />
      <el-select v-if="shows('district')" v-model="g.district" :placeholder="t('rp.district')" clearable style="width:140px">
        <el-option v-for="d in DISTRICTS" :key="d" :label="d" :value="d" /></el-select>
      <el-button v-if="dash.filters.length" type="primary" @click="refresh" data-test="apply">{{ t('rp.apply') }}</el-button>
      <el-select v-model="dash.refresh_seconds" style="width:120px" @change="schedule" :title="t('rp.refresh')">
        <el-option :value="0" :label="t('rp.refreshOff')" /><el-option v-for="s in [30, 60, 300]" :key="s" :value="s" :label="t('rp.refresh') + ' ' + t('rp.seconds', { n: s })" /></el-select>
      <el-button @click="exportAs('pdf')" data-test="export-pdf">{{ t('rp.pdf') }}</el-button>
      <el-button @click="exportAs('xlsx')" data-test="export-xlsx">{{ t('rp.excel') }}</el-button>
      <el-button @click="share" data-test="share">{{ t('rp.shareLink') }}</el-button>
      <template v-if="can('reports:write')">
        <el-button v-if="!editing" @click="startEdit" data-test="edit-layout" class="hide-mobile">{{ t('rp.editLayout') }}</el-button>
        <template v-else>
          <el-select v-model="adding" :placeholder="t('rp.addTile')" style="width:200px" data-test="add-tile"><el-option v-for="r in reports" :key="r.id" :label="r.title" :value="r.id" /></el-select>
          <el-button @click="addTile" :disabled="!adding" data-test="add-tile-btn">＋</el-button>
          <el-button type="primary" @click="saveLayout" data-test="save-layout">{{ t('rp.doneLayout') }}</el-button>
          <span class="muted">{{ t('rp.layoutHint') }}</span>
        </template>
      </template>
      <span class="muted">{{ t('rp.updated', { t: updated }) }}</span>
    </div>
    <div v-if="!tiles.length" class="muted">{{ t('rp.noReports') }}</div>
    <div class="rp-grid" ref="gridEl" @dragover.prevent @drop.prevent="drop" data-test="grid">
      <div v-for="{ tile, i } in ordered" :key="i" class="rp-tile" :class="{ editing, kpi: tile.chart === 'kpi' }" :style="style(tile)" :data-test="'tile-' + i">
        <div class="hd" :draggable="editing" @dragstart="dragStart($event, i)">{{ tile.title }}
          <span v-if="editing" class="muted" style="margin-left:auto;cursor:pointer" @click="tiles.splice(i, 1)">✕</span></div>
        <div class="bd">
          <div v-if="tile.error" class="muted">{{ t('rp.tileError', { e: tile.error }) }}</div>
          <report-chart v-else :ref="setChart(i)" :chart="tile.chart" :columns="tile.columns" :rows="tile.rows" :totals="tile.totals" :options="tile.options" />
        </div>
        <div v-if="editing" class="rs" @pointerdown="resizeStart($event, tile)"></div>
      </div>
    </div>
  </div>`,
};
