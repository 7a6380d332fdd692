// The drag-and-drop query: pick a source, drag fields to rows, columns, values and filters (a pivot), run,
// page through the result with totals, export to Excel or CSV. No SQL anywhere: the page sends a JSON spec to
// POST /api/v1/query. The builder is shared with the report designer (report.js).
import { ref, reactive, computed, onMounted, watch } from "vue";
import { useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { OPS, FNS, NUMERIC, download } from "./labels.js";
import { fmtValue } from "../../format.js";
import ReportChart from "./chart.js";

export function emptyState() {
  return reactive({ source: null, fields: [], rows: [], cols: [], values: [], filters: [], match: "and" });
}

function conditionOf(f) {
  const c = { column: f.column, op: f.op };
  if (f.op === "between") c.value = [f.value || null, f.value2 || null];
  else if (f.op === "in") c.value = String(f.value || "").split(/[,，]/).map((s) => s.trim()).filter(Boolean);
  else if (!["is_empty", "not_empty"].includes(f.op)) c.value = f.value;
  return c;
}

// The JSON query spec of a builder state.
export function specOf(state, extra = {}) {
  const groups = [...state.rows, ...state.cols].map((g) => (g.bucket ? { column: g.column, bucket: g.bucket } : g.column));
  const spec = { source: state.source, filters: state.filters.length ? { op: state.match, items: state.filters.map(conditionOf) } : null };
  if (groups.length || state.values.length) {
    spec.group_by = groups;
    spec.aggregates = state.values.map((v) => ({ fn: v.fn, column: v.fn === "count" ? null : v.column, as: v.fn === "count" && !v.column ? "count" : `${v.fn}_${v.column || "all"}` }));
    if (!spec.aggregates.length) spec.aggregates = [{ fn: "count", as: "count" }];
  }
  return { ...spec, ...extra };
}

// Back from a saved spec to a builder state (the report designer opens a saved report).
export function stateFromSpec(state, spec) {
  state.source = spec.source;
  const groups = (spec.group_by || []).map((g) => (typeof g === "string" ? { column: g, bucket: null } : { column: g.column, bucket: g.bucket || null }));
  state.rows = groups.slice(0, 1);
  state.cols = groups.slice(1);
  state.values = (spec.aggregates || []).map((a) => ({ column: a.column || null, fn: a.fn }));
  state.match = spec.filters?.op || "and";
  state.filters = (spec.filters?.items || []).filter((i) => i.column).map((i) => ({ column: i.column, op: i.op,
    value: Array.isArray(i.value) ? (i.op === "in" ? i.value.join(",") : i.value[0]) : i.value, value2: Array.isArray(i.value) && i.op === "between" ? i.value[1] : null }));
}

export const QueryBuilder = {
  name: "QueryBuilder",
  props: { state: Object },
  setup(props) {
    const sources = ref([]);
    const rest = reactive({ url: "", path: "" });
    const over = ref("");
    const keyOf = (s) => JSON.stringify({ kind: s.kind, ...s.key });
    const chosen = computed({
      get: () => (props.state.source ? JSON.stringify(props.state.source) : ""),
      set: (v) => { props.state.source = v ? JSON.parse(v) : null; },
    });
    const kinds = computed(() => ["table", "dataset", "upload"].map((k) => ({ kind: k, items: sources.value.filter((s) => s.kind === k) })).filter((g) => g.items.length));
    async function loadSources() { sources.value = await api("/reports/sources"); }
    async function loadFields() {
      const src = props.state.source;
      props.state.fields = src ? await api("/reports/sources/fields", { method: "POST", body: src }) : [];
      const names = new Set(props.state.fields.map((f) => f.name));
      for (const zone of ["rows", "cols", "values", "filters"]) props.state[zone] = props.state[zone].filter((x) => !x.column || names.has(x.column));
    }
    watch(() => props.state.source, loadFields);
    onMounted(async () => { await loadSources(); if (props.state.source) loadFields(); });
    const field = (name) => props.state.fields.find((f) => f.name === name) || { name, title: name, type: "string" };
    function dragStart(e, name) { e.dataTransfer.setData("text/plain", name); e.dataTransfer.effectAllowed = "copy"; }
    function drop(e, zone) {
      over.value = "";
      const name = e.dataTransfer.getData("text/plain");
      if (!name) return;
      addTo(zone, name);
    }
    function addTo(zone, name) {
      const f = field(name);
      if (zone === "values") props.state.values.push({ column: name, fn: f.pii ? "count_distinct" : (NUMERIC.has(f.type) ? "sum" : "count") });
      else if (zone === "filters") props.state.filters.push({ column: name, op: f.pii ? "eq" : (NUMERIC.has(f.type) || ["date", "datetime"].includes(f.type) ? "between" : "contains"), value: "", value2: "" });
      else if (!props.state[zone].some((g) => g.column === name)) props.state[zone].push({ column: name, bucket: null });
    }
    async function upload(file) {
      if (!file) return;
      const form = new FormData();
      form.append("file", file);
      const up = await api("/reports/uploads", { method: "POST", form });
      await loadSources();
      props.state.source = { kind: "upload", id: up.id };
    }
    function useRest() { props.state.source = { kind: "rest", url: rest.url, path: rest.path || null }; }
    const isDate = (name) => ["date", "datetime"].includes(field(name).type);
    const inputType = (name) => (isDate(name) ? "date" : "text");
    return { t, can, sources, kinds, chosen, keyOf, rest, over, field, dragStart, drop, upload, useRest, OPS, FNS, isDate, inputType, addTo };
  },
  template: `
  <div>
    <div class="toolbar">
      <span>{{ t('rp.source') }}</span>
      <el-select v-model="chosen" filterable :placeholder="t('rp.pickSource')" style="width:340px;max-width:100%" data-test="source">
        <el-option-group v-for="g in kinds" :key="g.kind" :label="t('rp.kind.' + g.kind)">
          <el-option v-for="s in g.items" :key="keyOf(s)" :label="s.title" :value="keyOf(s)" />
        </el-option-group>
      </el-select>
      <file-pick v-if="can('reports:write')" accept=".csv,.xlsx,.xls" :label="t('rp.upload')" :show-name="false" @pick="upload" data-test="upload" />
      <template v-if="can('reports:write')">
        <el-input v-model="rest.url" :placeholder="t('rp.restUrl')" style="width:240px" />
        <el-input v-model="rest.path" :placeholder="t('rp.restPath')" style="width:200px" data-raw />
        <el-button @click="useRest" :disabled="!rest.url">{{ t('rp.useRest') }}</el-button>
      </template>
    </div>
    <div class="rp-builder">
      <div class="rp-fields">
        <div class="muted">{{ t('rp.fields') }}</div>
        <div v-for="f in state.fields" :key="f.name" class="rp-field" :class="{ pii: f.pii }" draggable="true" @dragstart="dragStart($event, f.name)"
             :title="f.pii ? t('rp.pii') : f.type" :data-test="'field-' + f.name" @dblclick="addTo('rows', f.name)">{{ f.title }}<span class="muted"> {{ f.name }}</span></div>
      </div>
      <div class="rp-zones">
        <div v-for="zone in ['rows', 'cols']" :key="zone" class="rp-zone" :class="{ over: over === zone }" @dragover.prevent="over = zone" @dragleave="over = ''" @drop.prevent="drop($event, zone)" :data-test="'zone-' + zone">
          <h4>{{ t(zone === 'rows' ? 'rp.rows' : 'rp.columns') }}</h4>
          <div v-if="!state[zone].length" class="muted">{{ t('rp.dropHere') }}</div>
          <div v-for="(g, i) in state[zone]" :key="g.column" class="rp-chip">{{ field(g.column).title }}
            <el-select v-if="isDate(g.column)" v-model="g.bucket" size="small" :placeholder="t('rp.bucket.none')" clearable>
              <el-option v-for="b in ['day', 'month', 'year']" :key="b" :label="t('rp.bucket.' + b)" :value="b" />
            </el-select>
            <span class="x" @click="state[zone].splice(i, 1)">✕</span></div>
        </div>
        <div class="rp-zone" :class="{ over: over === 'values' }" @dragover.prevent="over = 'values'" @dragleave="over = ''" @drop.prevent="drop($event, 'values')" data-test="zone-values">
          <h4>{{ t('rp.values') }}</h4>
          <div v-if="!state.values.length" class="muted">{{ t('rp.dropHere') }}</div>
          <div v-for="(v, i) in state.values" :key="i" class="rp-chip">
            <el-select v-model="v.fn" size="small" :data-test="'fn-' + v.column"><el-option v-for="f in FNS" :key="f" :label="t('rp.fn.' + f)" :value="f" /></el-select>
            {{ field(v.column).title }}<span class="x" @click="state.values.splice(i, 1)">✕</span></div>
        </div>
        <div class="rp-zone" :class="{ over: over === 'filters' }" @dragover.prevent="over = 'filters'" @dragleave="over = ''" @drop.prevent="drop($event, 'filters')" data-test="zone-filters">
          <h4>{{ t('rp.filters') }}
            <el-select v-if="state.filters.length > 1" v-model="state.match" size="small" style="width:150px">
              <el-option value="and" :label="t('rp.all')" /><el-option value="or" :label="t('rp.any')" /></el-select></h4>
          <div v-if="!state.filters.length" class="muted">{{ t('rp.dropHere') }}</div>
          <div v-for="(f, i) in state.filters" :key="i" class="rp-chip" :data-test="'filter-' + f.column">{{ field(f.column).title }}
            <el-select v-model="f.op" size="small" :data-test="'op-' + f.column"><el-option v-for="o in OPS" :key="o" :label="t('rp.op.' + o)" :value="o" /></el-select>
            <template v-if="!['is_empty', 'not_empty'].includes(f.op)">
              <el-input v-model="f.value" size="small" :type="inputType(f.column)" :placeholder="f.op === 'between' ? t('rp.low') : t('rp.value')" :data-test="'value-' + f.column" />
              <el-input v-if="f.op === 'between'" v-model="f.value2" size="small" :type="inputType(f.column)" :placeholder="t('rp.high')" :data-test="'value2-' + f.column" />
            </template>
            <span class="x" @click="state.filters.splice(i, 1)">✕</span></div>
        </div>
      </div>
    </div>
  </div>`,
};

export default {
  name: "QueryPage",
  components: { QueryBuilder, ReportChart },
  setup() {
    const router = useRouter();
    const state = emptyState();
    const result = ref(null);
    const page = ref(1);
    const size = ref(20);
    const busy = ref(false);
    const pivoted = computed(() => state.cols.length > 0);
    async function run(p = 1) {
      if (!state.source) { ElMessage.warning(t("rp.noSource")); return; }
      page.value = p;
      busy.value = true;
      try {
        result.value = await api("/query", { method: "POST", body: specOf(state, { page: pivoted.value ? 1 : p, size: pivoted.value ? 500 : size.value, totals: true }) });
      } finally { busy.value = false; }
    }
    const exportAs = (fmt) => download(`/query/export?format=${fmt}`, specOf(state, { totals: true }), `query.${fmt}`);
    function saveAsReport() {
      sessionStorage.setItem("reports.draft", JSON.stringify(specOf(state)));
      router.push("/reports/builder");
    }
    const narrow = window.innerWidth < 600;
    return { t, can, state, result, page, size, run, busy, exportAs, saveAsReport, pivoted, narrow, fmtValue };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.reportQuery') }}</h2>
    <query-builder :state="state" />
    <div class="toolbar" style="margin-top:10px">
      <el-button type="primary" :loading="busy" @click="run(1)" data-test="run">{{ t('rp.run') }}</el-button>
      <el-button @click="exportAs('xlsx')" :disabled="!result" data-test="export-xlsx">{{ t('rp.excel') }}</el-button>
      <el-button @click="exportAs('csv')" :disabled="!result" data-test="export-csv">{{ t('rp.csv') }}</el-button>
      <el-button v-if="can('reports:write')" @click="saveAsReport" :disabled="!state.source" data-test="save-as-report">{{ t('rp.saveAsReport') }}</el-button>
    </div>
    <el-card v-if="result" shadow="never" data-test="result">
      <div class="muted" style="margin-bottom:6px">{{ t(result.columns.some(c => !c.pii) && (state.rows.length || state.values.length) ? 'rp.groupsCount' : 'rp.rowsCount', { n: result.total }) }}</div>
      <div v-if="!result.rows.length" class="muted">{{ t('rp.empty') }}</div>
      <report-chart v-else-if="pivoted" chart="pivot" :columns="result.columns" :rows="result.rows" :options="{}" />
      <template v-else>
        <el-table :data="result.rows" size="small" border style="width:100%" :show-summary="!!result.totals" :summary-method="() => result.totals ? result.columns.map((c, i) => i === 0 && !(c.name in result.totals) ? t('rp.total') : (c.name in result.totals ? fmtValue(result.totals[c.name], c.type) : '')) : []">
          <el-table-column v-for="c in result.columns" :key="c.name" :prop="c.name" :label="c.title" min-width="110"><template #default="{ row }">{{ fmtValue(row[c.name], c.type) }}</template></el-table-column>
        </el-table>
        <el-pagination style="margin-top:8px" :layout="narrow ? 'prev, pager, next' : 'total, sizes, prev, pager, next'" :small="narrow" :total="result.total" :page-size="size" :current-page="page"
          :page-sizes="[20, 50, 100, 500]" @current-change="run" @size-change="(s) => { size = s; run(1); }" />
      </template>
    </el-card>
  </div>`,
};
