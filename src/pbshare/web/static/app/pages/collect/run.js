// One import run: its state and progress (polled while it runs), counts, and the quarantined rows, which a
// data admin fixes where they are: edit cells, re-check with the run's mapping, load the rows that pass.
import { ref, reactive, onMounted, onBeforeUnmount, computed } from "vue";
import { useRoute } from "vue-router";
import { ElMessage, ElMessageBox } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { statusType, fmt, skippedText } from "./labels.js";

export default {
  name: "RunPage",
  setup() {
    const route = useRoute();
    const run = ref(null);
    const q = ref({ columns: [], items: [], total: 0, masked: true });
    const page = reactive({ page: 1, size: 50 });
    const edits = reactive({});   // row id → { column: new text }
    const checks = reactive({});  // row id → { ok, reason } from the last re-check
    const purpose = ref("");      // stated when identifiers are shown in full
    const busy = ref(false);
    const tab = ref("fix");
    let timer = null;
    const base = () => `/collect/runs/${route.params.id}`;
    async function load() {
      clearTimeout(timer);
      run.value = await api(base());
      if (run.value.status === "queued" || run.value.status === "running") timer = setTimeout(load, 700);
      else loadQuarantine();
    }
    async function loadQuarantine() {
      const params = new URLSearchParams({ page: page.page, size: page.size });
      if (purpose.value) { params.set("unmask", "true"); params.set("purpose", purpose.value); }
      q.value = await api(`${base()}/quarantine?${params}`);
      for (const k of Object.keys(edits)) delete edits[k];
      for (const k of Object.keys(checks)) delete checks[k];
    }
    onMounted(load);
    onBeforeUnmount(() => clearTimeout(timer));
    const percent = computed(() => Math.round(100 * (run.value?.status === "succeeded" ? 1 : run.value?.progress || 0)));
    const download = computed(() => `/api/v1${base()}/quarantine.xlsx`);
    const reasons = computed(() => Object.entries((run.value?.counts && run.value.counts.quarantined) || {})
      .map(([reason, rows]) => ({ reason, rows })));
    const fixed = computed(() => (run.value?.counts && run.value.counts.fixed) || 0);
    const canFix = computed(() => can("quality:manage") && run.value?.status === "succeeded");
    const okCount = computed(() => Object.values(checks).filter((c) => c.ok).length);

    // A masked cell never shows its mask as a value: its input starts empty (the mask is the placeholder),
    // so the mask cannot be saved back; typing replaces the whole value.
    const isMasked = (row, c) => (row.masked || []).includes(c);
    function cellValue(row, c) {
      const e = edits[row.id];
      if (e && c in e) return e[c];
      if (isMasked(row, c)) return "";
      const v = row.row[c];
      return v === null || v === undefined ? "" : String(v);
    }
    function setCell(row, c, value) {
      const e = { ...(edits[row.id] || {}) };
      const original = row.row[c] === null || row.row[c] === undefined ? "" : String(row.row[c]);
      if ((isMasked(row, c) && value === "") || (!isMasked(row, c) && value === original)) delete e[c];
      else e[c] = value;
      if (Object.keys(e).length) edits[row.id] = e; else delete edits[row.id];
      delete checks[row.id];
    }
    const rows = (ids) => ids.map((id) => ({ id, values: edits[id] || {} }));
    function apply(result) {
      for (const item of result.items) checks[item.id] = { ok: item.ok, reason: item.reason };
    }
    async function recheck() {
      busy.value = true;
      try {
        const result = await api(`${base()}/quarantine/check`, { method: "POST", body: { rows: rows(q.value.items.map((r) => r.id)) } });
        apply(result);
        ElMessage({ type: result.bad ? "warning" : "success", message: t("col.q.checked", { ok: result.ok, bad: result.bad }) });
      } finally { busy.value = false; }
    }
    async function loadFixed() {
      // The rows that passed the last re-check, and edited rows still bad (their edits are kept).
      const ids = q.value.items.map((r) => r.id).filter((id) => checks[id]?.ok || edits[id]);
      busy.value = true;
      try {
        const result = await api(`${base()}/quarantine/load`, { method: "POST", body: { rows: rows(ids) } });
        ElMessage({ type: "success", message: t("col.q.loadedMsg", { n: result.loaded, ok: result.ok, left: result.remaining }), duration: 5000 });
        run.value = await api(base());
        await loadQuarantine();
        apply({ items: result.items.filter((i) => !i.ok) });
      } finally { busy.value = false; }
    }
    async function discard(row) {
      await ElMessageBox.confirm(t("col.q.discardConfirm", { line: row.line }), t("col.q.discard"), { type: "warning" });
      await api(`${base()}/quarantine/discard`, { method: "POST", body: { ids: [row.id] } });
      run.value = await api(base());
      await loadQuarantine();
    }
    async function askPurpose(title) {
      const { value } = await ElMessageBox.prompt(t("col.q.purpose"), title, {
        inputPattern: /\S.{2,}\S/, inputErrorMessage: t("col.q.purposeShort"), inputValue: purpose.value });
      return value.trim();
    }
    async function unmask() {
      purpose.value = await askPurpose(t("col.q.unmask"));
      await loadQuarantine();
    }
    async function remask() { purpose.value = ""; await loadQuarantine(); }
    async function downloadFull() {
      const why = await askPurpose(t("col.q.downloadFull"));
      const params = new URLSearchParams({ unmask: "true", purpose: why });
      const res = await api(`${base()}/quarantine.xlsx?${params}`, { raw: true });
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url; a.download = `quarantine-${route.params.id.slice(0, 8)}.xlsx`; a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }
    const rowClass = ({ row }) => (checks[row.id] ? (checks[row.id].ok ? "row-ok" : "row-bad") : "");
    return { t, run, q, page, percent, download, loadQuarantine, statusType, fmt, can, skippedText, reasons, fixed,
      canFix, okCount, edits, checks, purpose, busy, tab, isMasked, cellValue, setCell, recheck, loadFixed, discard,
      unmask, remask, downloadFull, rowClass };
  },
  template: `
  <div v-if="run">
    <h2 class="page-title">{{ t('col.run') }} · {{ run.source_label }} → {{ run.target }}</h2>
    <router-link v-if="run.status === 'succeeded'" :to="'/quality/runs/' + run.id" data-test="run-quality-report"><el-button link type="primary">{{ t('qr.report') }}</el-button></router-link>
    <el-progress :percentage="percent" :status="run.status === 'failed' ? 'exception' : run.status === 'succeeded' ? 'success' : ''" />
    <el-descriptions :column="3" border size="small" style="margin:12px 0">
      <el-descriptions-item :label="t('col.status')"><el-tag :type="statusType(run.status)" data-test="run-status">{{ t('col.status.' + run.status) }}</el-tag></el-descriptions-item>
      <el-descriptions-item :label="t('col.read')">{{ run.rows_read }}</el-descriptions-item>
      <el-descriptions-item :label="t('col.loaded')"><span data-test="run-loaded">{{ run.rows_loaded }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('col.quarantined')"><span data-test="run-quarantined">{{ run.rows_quarantined }}</span><span v-if="fixed" class="muted" data-test="run-fixed">（{{ t('col.q.fixedCount', { n: fixed }) }}）</span></el-descriptions-item>
      <el-descriptions-item :label="t('col.duplicates')"><span data-test="run-duplicates">{{ run.rows_duplicate }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('col.skipped')"><span data-test="run-skipped">{{ skippedText(run, t) }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('col.seconds')">{{ run.seconds ? run.seconds.toFixed(1) : '-' }}</el-descriptions-item>
      <el-descriptions-item :label="t('col.runBy')">{{ run.run_by }} · {{ fmt(run.started_at) }}</el-descriptions-item>
    </el-descriptions>
    <el-alert v-if="run.error" type="error" :closable="false" :title="run.error" style="white-space:pre-line;margin-bottom:12px" />
    <el-table v-if="reasons.length" :data="reasons" size="small" border style="margin-bottom:12px" data-test="run-reasons">
      <el-table-column prop="reason" :label="t('col.byReason')" min-width="260" />
      <el-table-column prop="rows" :label="t('col.quarantined')" width="90" />
    </el-table>
    <el-tabs v-if="q.total" v-model="tab">
      <el-tab-pane name="fix" :label="t('col.quarantine') + ' (' + q.total + ')'">
        <div class="toolbar">
          <template v-if="canFix">
            <el-button type="primary" :loading="busy" @click="recheck" data-test="q-recheck">{{ t('col.q.recheck') }}</el-button>
            <el-button type="success" :loading="busy" :disabled="!okCount" @click="loadFixed" data-test="q-load">{{ t('col.q.load') }}{{ okCount ? ' (' + okCount + ')' : '' }}</el-button>
          </template>
          <el-button v-if="can('pii:unmask') && q.masked" @click="unmask" data-test="q-unmask">{{ t('col.q.unmask') }}</el-button>
          <el-button v-if="!q.masked" @click="remask" data-test="q-remask">{{ t('col.q.remask') }}</el-button>
          <a v-if="can('quality:manage')" :href="download" download data-test="download-quarantine"><el-button>{{ t('col.downloadQuarantine') }}</el-button></a>
          <el-button v-if="can('quality:manage') && can('pii:unmask')" @click="downloadFull" data-test="download-quarantine-full">{{ t('col.q.downloadFull') }}</el-button>
        </div>
        <el-alert v-if="q.masked" type="info" :closable="false" show-icon :title="t('col.q.maskedHint')" style="margin-bottom:8px" data-test="q-masked-hint" />
        <el-alert v-else type="warning" :closable="false" show-icon :title="t('col.q.unmaskedHint', { purpose })" style="margin-bottom:8px" />
        <el-table :data="q.items" size="small" border max-height="520" :row-class-name="rowClass" row-key="id" data-test="quarantine-table">
          <el-table-column prop="line" :label="t('col.line')" width="70" fixed />
          <el-table-column :label="t('col.q.state')" width="110" fixed>
            <template #default="{ row }"><span :data-test="'q-state-' + row.line">
              <el-tag v-if="checks[row.id] && checks[row.id].ok" type="success" size="small" disable-transitions>{{ t('col.q.ok') }}</el-tag>
              <el-tag v-else-if="checks[row.id]" type="danger" size="small" disable-transitions>{{ t('col.q.stillBad') }}</el-tag>
              <el-tag v-else-if="edits[row.id]" type="warning" size="small" disable-transitions>{{ t('col.q.edited') }}</el-tag>
              <span v-else class="muted">{{ t('col.q.unchecked') }}</span>
            </span></template>
          </el-table-column>
          <el-table-column :label="t('col.reason')" min-width="260" show-overflow-tooltip>
            <template #default="{ row }"><span :data-test="'q-reason-' + row.line">{{ checks[row.id] && !checks[row.id].ok ? checks[row.id].reason : row.reason }}</span></template>
          </el-table-column>
          <el-table-column v-for="c in q.columns" :key="c" :label="c" min-width="150">
            <template #default="{ row }">
              <el-input v-if="canFix" size="small" :model-value="cellValue(row, c)" @update:model-value="(v) => setCell(row, c, v)"
                :placeholder="isMasked(row, c) ? row.row[c] : ''" :title="isMasked(row, c) ? t('col.q.maskedCell') : ''"
                :data-test="'q-cell-' + row.line + '-' + c" />
              <span v-else>{{ row.row[c] }}</span>
            </template>
          </el-table-column>
          <el-table-column v-if="canFix" :label="t('col.q.actions')" width="80" fixed="right">
            <template #default="{ row }"><el-button link type="danger" size="small" @click="discard(row)" :data-test="'q-discard-' + row.line">{{ t('col.q.discard') }}</el-button></template>
          </el-table-column>
        </el-table>
        <el-pagination style="margin-top:8px" small layout="prev, pager, next, total" :total="q.total" v-model:current-page="page.page" :page-size="page.size" @current-change="loadQuarantine" />
      </el-tab-pane>
      <el-tab-pane name="how" :label="t('col.q.howTab')">
        <ol class="muted" style="line-height:1.9" data-test="q-how">
          <li>{{ t('col.q.how1') }}</li>
          <li>{{ t('col.q.how2') }}</li>
          <li>{{ t('col.q.how3') }}</li>
        </ol>
      </el-tab-pane>
    </el-tabs>
  </div>`,
};
