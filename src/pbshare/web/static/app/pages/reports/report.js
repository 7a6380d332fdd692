// The report designer: a source and a query built by drag and drop, a chart (table, pivot, bar, line, pie,
// KPI card, Shenzhen map), the columns the dashboards' global filters act on, the roles it is shared with.
// Clicking a point of the preview drills to the rows behind it.
import { ref, reactive, onMounted, computed, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { CHARTS, ROLES } from "./labels.js";
import { fmtValue } from "../../format.js";
import { QueryBuilder, emptyState, specOf, stateFromSpec } from "./query.js";
import ReportChart, { axes } from "./chart.js";

export default {
  name: "ReportBuilderPage",
  components: { QueryBuilder, ReportChart },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const state = emptyState();
    const form = reactive({ id: null, title: "", description: "", chart: "bar", roles: ["report_viewer"], x: "", y: [], globals: { date: "", unit: "", district: "" } });
    const result = ref(null);
    const drill = reactive({ open: false, rows: [], columns: [], total: 0, label: "" });
    const roleNames = ref([]);
    const busy = ref(false);
    let loadedId = null;
    async function open() {
      if (route.params.id && route.params.id === loadedId) return;  // just saved: the page already shows it
      loadedId = route.params.id || null;
      Object.assign(form, { id: null, title: "", description: "", chart: "bar", roles: ["report_viewer"], x: "", y: [], globals: { date: "", unit: "", district: "" } });
      Object.assign(state, { source: null, fields: [], rows: [], cols: [], values: [], filters: [], match: "and" });
      result.value = null;
      if (route.params.id) {
        const r = await api(`/reports/${route.params.id}`);
        Object.assign(form, { id: r.id, title: r.title, description: r.description || "", chart: r.chart, roles: r.roles,
          x: r.options?.x || "", y: r.options?.y || [], globals: { date: "", unit: "", district: "", ...(r.options?.globals || {}) } });
        stateFromSpec(state, r.spec);
        preview();
      } else {
        const draft = sessionStorage.getItem("reports.draft");
        if (draft) { stateFromSpec(state, JSON.parse(draft)); sessionStorage.removeItem("reports.draft"); }
      }
    }
    onMounted(() => {
      api("/auth/roles", { quiet: true }).then((r) => { roleNames.value = r; }).catch(() => {});
      open();
    });
    watch(() => route.fullPath, () => { if (route.path.startsWith("/reports/builder")) open(); });
    const outputs = computed(() => result.value?.columns || []);
    const options = computed(() => {
      const globals = Object.fromEntries(Object.entries(form.globals).filter(([, v]) => v));
      return { x: form.x || undefined, y: form.y.length ? form.y : undefined, globals };
    });
    async function preview() {
      if (!state.source) { ElMessage.warning(t("rp.noSource")); return; }
      busy.value = true;
      try { result.value = await api("/query", { method: "POST", body: specOf(state, { size: 500, totals: form.chart === "table" }) }); }
      finally { busy.value = false; }
    }
    async function onDrill(point) {
      const [[col, value]] = Object.entries(point);
      let res;
      if (form.id) res = await api(`/reports/${form.id}/run`, { method: "POST", body: { drill: point, size: 100 } });
      else {
        const spec = specOf(state, { size: 100 });
        const items = [{ column: col, op: value === null || value === undefined ? "is_empty" : "eq", value }];
        if (spec.filters) items.push(spec.filters);
        res = await api("/query", { method: "POST", body: { source: spec.source, filters: { op: "and", items }, size: 100 } });
      }
      Object.assign(drill, { open: true, rows: res.rows, columns: res.columns, total: res.total, label: `${col} = ${value ?? "—"}` });
    }
    async function save() {
      if (!form.title.trim()) { ElMessage.warning(t("rp.needTitle")); return; }
      if (!state.source) { ElMessage.warning(t("rp.noSource")); return; }
      const body = { title: form.title, description: form.description || null, chart: form.chart, roles: form.roles,
        spec: specOf(state), options: options.value };
      const r = form.id ? await api(`/reports/${form.id}`, { method: "PUT", body }) : await api("/reports", { method: "POST", body });
      form.id = r.id;
      loadedId = r.id;
      ElMessage.success(t("rp.saved"));
      router.replace(`/reports/builder/${r.id}`);
    }
    const roleLabel = (code) => { const r = roleNames.value.find((x) => x.code === code); return r ? r.zh + " / " + r.en : code; };
    return { t, state, form, result, preview, save, busy, CHARTS, ROLES, outputs, options, onDrill, drill, roleLabel, axes, fmtValue };
  },
  template: `
  <div>
    <h2 class="page-title">{{ form.id ? form.title : t('rp.newReport') }}</h2>
    <div class="toolbar">
      <el-input v-model="form.title" :placeholder="t('rp.title')" style="width:280px" data-test="report-title" />
      <el-radio-group v-model="form.chart" size="small" data-test="chart-type">
        <el-radio-button v-for="c in CHARTS" :key="c" :value="c" :data-test="'type-' + c">{{ t('rp.chart.' + c) }}</el-radio-button>
      </el-radio-group>
    </div>
    <query-builder :state="state" />
    <el-collapse style="margin-top:8px">
      <el-collapse-item :title="t('rp.globals') + ' · ' + t('rp.share')">
        <div class="toolbar">
          <span>{{ t('rp.g.date') }}</span><el-select v-model="form.globals.date" clearable style="width:160px"><el-option v-for="f in state.fields" :key="f.name" :label="f.title" :value="f.name" /></el-select>
          <span>{{ t('rp.g.unit') }}</span><el-select v-model="form.globals.unit" clearable style="width:160px"><el-option v-for="f in state.fields" :key="f.name" :label="f.title" :value="f.name" /></el-select>
          <span>{{ t('rp.g.district') }}</span><el-select v-model="form.globals.district" clearable style="width:160px"><el-option v-for="f in state.fields" :key="f.name" :label="f.title" :value="f.name" /></el-select>
        </div>
        <div class="toolbar">
          <span>{{ t('rp.share') }}</span>
          <el-select v-model="form.roles" multiple style="width:360px"><el-option v-for="r in ROLES" :key="r" :label="roleLabel(r)" :value="r" /></el-select>
        </div>
        <div class="toolbar" v-if="outputs.length">
          <span>X</span><el-select v-model="form.x" clearable style="width:160px"><el-option v-for="c in outputs" :key="c.name" :label="c.title" :value="c.name" /></el-select>
          <span>Y</span><el-select v-model="form.y" multiple clearable style="width:260px"><el-option v-for="c in outputs" :key="c.name" :label="c.title" :value="c.name" /></el-select>
        </div>
      </el-collapse-item>
    </el-collapse>
    <div class="toolbar" style="margin-top:10px">
      <el-button :loading="busy" @click="preview" data-test="preview">{{ t('rp.preview') }}</el-button>
      <el-button type="primary" @click="save" data-test="save-report">{{ t('rp.save') }}</el-button>
    </div>
    <el-card v-if="result" shadow="never" data-test="report-preview">
      <div v-if="!result.rows.length" class="muted">{{ t('rp.empty') }}</div>
      <div v-else :style="{ height: form.chart === 'kpi' ? '140px' : '360px' }">
        <report-chart :chart="form.chart" :columns="result.columns" :rows="result.rows" :totals="result.totals" :options="options" @drill="onDrill" />
      </div>
    </el-card>
    <el-dialog v-model="drill.open" :title="t('rp.drill') + ' · ' + drill.label" width="90%" data-test="drill">
      <div class="muted">{{ t('rp.rowsCount', { n: drill.total }) }}</div>
      <el-table :data="drill.rows" size="small" border max-height="400">
        <el-table-column v-for="c in drill.columns" :key="c.name" :prop="c.name" :label="c.title" min-width="110"><template #default="{ row }">{{ fmtValue(row[c.name], c.type) }}</template></el-table-column>
      </el-table>
    </el-dialog>
  </div>`,
};
