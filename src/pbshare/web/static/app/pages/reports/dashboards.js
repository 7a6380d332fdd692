// Dashboards and reports one may open, a new dashboard, and the office's built-in dashboards (live
// figures: cases, requests by unit, deliveries and quality, channel traffic). The report viewer's home page
// shows the built-in dashboards.
import { ref, reactive, onMounted, onBeforeUnmount } from "vue";
import { useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { guardComponents } from "../../guard.js";
import { pickerComponents } from "../../pickers.js";
import { tableComponents } from "../../tables.js";
import { can, session } from "../../session.js";
import { ROLES, download } from "./labels.js";
import ReportChart from "./chart.js";

export const BuiltinDashboards = {
  name: "BuiltinDashboards",
  components: { ReportChart, ...pickerComponents },
  props: { compact: { type: Boolean, default: false } },
  setup() {
    const boards = ref([]);
    const active = ref("cases");
    const g = reactive({ range: null, unit: "" });
    const charts = {};
    let timer = null;
    const globals = () => ({ date_from: g.range?.[0] || null, date_to: g.range?.[1] || null, unit: g.unit || null });
    async function load() {
      const q = new URLSearchParams(Object.entries(globals()).filter(([, v]) => v));
      boards.value = await api(`/reports/builtin?${q}`);
    }
    onMounted(() => { load(); timer = setInterval(load, 60000); });
    onBeforeUnmount(() => clearInterval(timer));
    const setChart = (key) => (c) => { charts[key] = c; };
    function exportAs(fmt) {
      const board = boards.value.find((b) => b.key === active.value);
      const images = {};
      (board?.tiles || []).forEach((tile, i) => { const c = charts[tile.key]; const img = c && c.image && c.image(); if (img) images[i] = img; });
      return download(`/reports/builtin/export?format=${fmt}`, { key: active.value, globals: globals(), images: fmt === "pdf" ? images : {} }, `dashboard.${fmt}`);
    }
    return { t, boards, active, g, load, setChart, exportAs };
  },
  template: `
  <div class="rp-builtin" data-test="builtin">
    <div class="rp-globals">
      <el-date-picker v-model="g.range" type="daterange" value-format="YYYY-MM-DD" :start-placeholder="t('rp.low')" :end-placeholder="t('rp.high')" style="width:260px" />
      <entity-picker kind="unit" v-model="g.unit" :placeholder="t('rp.unit')" style="width:200px" data-test="builtin-unit" />
      <el-button type="primary" @click="load">{{ t('rp.apply') }}</el-button>
      <el-button @click="exportAs('pdf')" data-test="builtin-pdf">{{ t('rp.pdf') }}</el-button>
      <el-button @click="exportAs('xlsx')" data-test="builtin-xlsx">{{ t('rp.excel') }}</el-button>
    </div>
    <el-tabs v-model="active">
      <el-tab-pane v-for="b in boards" :key="b.key" :name="b.key" :label="b.title">
        <div class="cards">
          <el-card v-for="tile in b.tiles.filter(x => x.chart === 'kpi')" :key="tile.key" shadow="never" class="stat" :data-test="'kpi-' + tile.key">
            <div class="lbl">{{ tile.title }}</div><div class="num">{{ tile.rows[0]?.value ?? '—' }}</div></el-card>
        </div>
        <div class="rp-two">
          <el-card v-for="tile in b.tiles.filter(x => x.chart !== 'kpi')" :key="tile.key" shadow="never">
            <template #header>{{ tile.title }}</template>
            <div :style="{ height: tile.chart === 'table' ? 'auto' : '300px' }">
              <report-chart :ref="setChart(tile.key)" :chart="tile.chart" :columns="tile.columns" :rows="tile.rows" :options="{ x: tile.x, y: tile.y }" />
            </div>
          </el-card>
        </div>
      </el-tab-pane>
    </el-tabs>
  </div>`,
};

// On the home page: the viewer sees the built-in dashboards themselves, others a link to them.
export const BuiltinHome = {
  name: "BuiltinHome",
  components: { BuiltinDashboards },
  setup() {
    const viewer = () => (session.user?.roles || []).includes("report_viewer");
    return { t, viewer };
  },
  template: `
  <el-card v-if="viewer()" shadow="never" style="margin-bottom:16px"><template #header>{{ t('rp.builtin') }}</template><builtin-dashboards /></el-card>
  <div v-else style="margin-bottom:12px"><router-link to="/reports/dashboards">{{ t('rp.viewAll') }} →</router-link></div>`,
};

export default {
  name: "DashboardsPage",
  components: { BuiltinDashboards, ...guardComponents, ...tableComponents },
  setup() {
    const router = useRouter();
    const dashboards = ref([]);
    const reports = ref([]);
    const tab = ref("builtin");
    const dlg = reactive({ open: false, title: "", roles: ["report_viewer"], filters: ["date", "unit", "district"], refresh_seconds: 0 });
    async function load() {
      [dashboards.value, reports.value] = await Promise.all([api("/reports/dashboards"), api("/reports")]);
      if (dashboards.value.length && tab.value === "builtin" && !can("reports:write")) tab.value = "builtin";
    }
    onMounted(load);
    async function create() {
      const d = await api("/reports/dashboards", { method: "POST", body: { title: dlg.title, roles: dlg.roles, filters: dlg.filters, refresh_seconds: dlg.refresh_seconds, tiles: [] } });
      dlg.open = false;
      router.push(`/reports/dashboards/${d.id}`);
    }
    async function removeReport(r) {
      await api(`/reports/${r.id}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: r.title }));
      load();
    }
    async function removeDashboard(d) {
      await api(`/reports/dashboards/${d.id}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: d.title }));
      load();
    }
    return { t, can, dashboards, reports, tab, dlg, create, ROLES, removeReport, removeDashboard };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('rp.dashboards') }}</h2>
    <el-tabs v-model="tab">
      <el-tab-pane name="builtin" :label="t('rp.builtin')"><builtin-dashboards /></el-tab-pane>
      <el-tab-pane name="mine" :label="t('rp.dashboards')" data-test="tab-dashboards">
        <div class="toolbar" v-if="can('reports:write')"><el-button type="primary" @click="dlg.open = true" data-test="new-dashboard">{{ t('rp.newDashboard') }}</el-button></div>
        <div v-if="!dashboards.length" class="muted">{{ t('rp.noDashboards') }}</div>
        <list-table v-else :data="dashboards" :name="t('rp.dashboards')" size="small" data-test="dashboards-table">
          <el-table-column prop="title" sortable="custom" :label="t('rp.title')"><template #default="{ row }"><router-link :to="'/reports/dashboards/' + row.id" :data-test="'open-' + row.title">{{ row.title }}</router-link></template></el-table-column>
          <el-table-column :label="t('rp.share')" class-name="hide-mobile"><template #default="{ row }">{{ row.roles.join(', ') }}</template></el-table-column>
          <el-table-column v-if="can('reports:write')" width="90" fixed="right"><template #default="{ row }"><guarded-button link type="danger" @click="removeDashboard(row)" :confirm="t('guard.deleteAsk', { n: row.title })" :confirm-text="t('guard.delete')" :data-test="'dashboard-delete-' + row.id">{{ t('rp.delete') }}</guarded-button></template></el-table-column>
        </list-table>
      </el-tab-pane>
      <el-tab-pane name="reports" :label="t('rp.myReports')">
        <div class="toolbar" v-if="can('reports:write')"><router-link to="/reports/builder"><el-button type="primary">{{ t('rp.newReport') }}</el-button></router-link></div>
        <div v-if="!reports.length" class="muted">{{ t('rp.noReports') }}</div>
        <list-table v-else :data="reports" :name="t('rp.myReports')" size="small" data-test="reports-table">
          <el-table-column prop="title" sortable="custom" :label="t('rp.title')"><template #default="{ row }"><router-link :to="'/reports/builder/' + row.id">{{ row.title }}</router-link></template></el-table-column>
          <el-table-column :label="t('rp.chart')" width="110"><template #default="{ row }">{{ t('rp.chart.' + row.chart) }}</template></el-table-column>
          <el-table-column v-if="can('reports:write')" width="90" fixed="right"><template #default="{ row }"><guarded-button link type="danger" @click="removeReport(row)" :confirm="t('guard.deleteAsk', { n: row.title })" :confirm-text="t('guard.delete')" :data-test="'report-delete-' + row.id">{{ t('rp.delete') }}</guarded-button></template></el-table-column>
        </list-table>
      </el-tab-pane>
    </el-tabs>
    <el-dialog v-model="dlg.open" :title="t('rp.newDashboard')" width="min(520px, 95%)">
      <el-form label-position="top">
        <el-form-item :label="t('rp.title')"><el-input v-model="dlg.title" data-test="dashboard-name" /></el-form-item>
        <el-form-item :label="t('rp.filtersShown')"><el-checkbox-group v-model="dlg.filters">
          <el-checkbox value="date">{{ t('rp.dateRange') }}</el-checkbox><el-checkbox value="unit">{{ t('rp.unit') }}</el-checkbox><el-checkbox value="district">{{ t('rp.district') }}</el-checkbox></el-checkbox-group></el-form-item>
        <el-form-item :label="t('rp.share')"><el-select v-model="dlg.roles" multiple style="width:100%"><el-option v-for="r in ROLES" :key="r" :label="r" :value="r" /></el-select></el-form-item>
        <el-form-item :label="t('rp.refresh')"><el-select v-model="dlg.refresh_seconds"><el-option :value="0" :label="t('rp.refreshOff')" /><el-option v-for="s in [30, 60, 300]" :key="s" :value="s" :label="t('rp.seconds', { n: s })" /></el-select></el-form-item>
      </el-form>
      <template #footer><el-button type="primary" :disabled="!dlg.title.trim()" @click="create" data-test="create-dashboard">{{ t('rp.save') }}</el-button></template>
    </el-dialog>
  </div>`,
};
