// One quality report: summary and verdict (with the override dialog), dimension scores (ECharts radar),
// failed rows per rule (ECharts bar), the rule-by-rule table with masked samples, Excel and PDF export.
// Also ReportForRun: /quality/runs/:id opens the report of an import run (the run page links there).
import { ref, reactive, computed, onMounted, onBeforeUnmount, nextTick, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import * as echarts from "echarts";
import { t, lang, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { VERDICT_TAG, DIMENSIONS, fmtTime, fmtScore, skipText } from "./reports.js";

// Corrections (exchange/corrections): a rejected verdict offers to ask the unit to correct its data in one step.
register({ "qr.raiseCorrection": ["请单位纠错", "Ask the unit to correct it"],
  "qr.correctionSent": ["纠错单已发给单位", "The correction is sent to the unit"] });

export const ReportForRun = {
  name: "QualityReportForRun",
  setup() {
    const route = useRoute();
    const router = useRouter();
    const missing = ref(false);
    onMounted(async () => {
      const data = await api(`/quality/reports?subject_kind=import_run&subject_id=${encodeURIComponent(route.params.id)}&size=1`);
      if (data.items.length) router.replace(`/quality/reports/${data.items[0].id}`);
      else missing.value = true;
    });
    return { t, missing };
  },
  template: `<div><el-alert v-if="missing" type="info" :closable="false" :title="t('qr.noRun')" data-test="qr-no-report" /></div>`,
};

export default {
  name: "QualityReportPage",
  setup() {
    const route = useRoute();
    const report = ref(null);
    const dlg = reactive({ open: false, verdict: "", reason: "", busy: false });
    const radarEl = ref(null);
    const barEl = ref(null);
    let radar = null;
    let bar = null;
    const failedRules = computed(() => (report.value?.rules || []).filter((r) => r.failed > 0));
    function draw() {
      const r = report.value;
      if (!r) return;
      if (radarEl.value) {
        radar = radar || echarts.init(radarEl.value);
        radar.setOption({
          tooltip: {},
          // a dimension with no checks has no score: drawn as a gap ("-"), not as 0
          radar: { indicator: DIMENSIONS.map((d) => ({ name: t(`qr.dim.${d}`), max: 100 })), radius: "62%" },
          series: [{ type: "radar", areaStyle: { opacity: 0.2 }, data: [{ name: t("qr.score"), value: DIMENSIONS.map((d) => r.scores[d] ?? "-") }] }],
        }, true);
      }
      if (barEl.value) {
        bar = bar || echarts.init(barEl.value);
        const rules = failedRules.value;
        bar.setOption({
          tooltip: { trigger: "axis" }, grid: { left: 8, right: 24, top: 10, bottom: 10, containLabel: true },
          xAxis: { type: "value", minInterval: 1 },
          yAxis: { type: "category", data: rules.map((x) => (x.name.length > 18 ? x.name.slice(0, 18) + "…" : x.name)), inverse: true },
          series: [{ type: "bar", name: t("qr.failed"), data: rules.map((x) => ({ value: x.failed, itemStyle: { color: x.severity === "error" ? "#f56c6c" : "#e6a23c" } })) }],
        }, true);
      }
    }
    async function load() {
      report.value = await api(`/quality/reports/${route.params.id}`);
      await nextTick();
      draw();
    }
    function openOverride() {
      dlg.verdict = ["accepted", "accepted_with_warnings", "rejected"].find((v) => v !== report.value.verdict);
      dlg.reason = ""; dlg.open = true;
    }
    async function saveOverride() {
      if (!dlg.reason.trim()) { ElMessage.warning(t("qr.reasonRequired")); return; }
      dlg.busy = true;
      try {
        report.value = await api(`/quality/reports/${route.params.id}/override`, { method: "POST", body: { verdict: dlg.verdict, reason: dlg.reason.trim() } });
        dlg.open = false;
        ElMessage.success(t("qr.saved"));
      } finally { dlg.busy = false; }
    }
    const onResize = () => { radar && radar.resize(); bar && bar.resize(); };
    onMounted(() => { load(); window.addEventListener("resize", onResize); });
    onBeforeUnmount(() => { window.removeEventListener("resize", onResize); radar && radar.dispose(); bar && bar.dispose(); });
    watch(lang, draw);
    const sampleKey = (s) => Object.entries(s.key || {}).map(([k, v]) => `${k}=${v ?? ""}`).join(", ");
    const sampleValue = (s) => (s.value !== null && typeof s.value === "object" ? JSON.stringify(s.value) : s.value ?? "");
    const kindLabel = (k) => (k === "import_check" ? t("qr.kind.import_check") : k);
    const pct = (x) => (x === null || x === undefined ? "—" : `${(100 * x).toFixed(2).replace(/\.?0+$/, "")}%`);
    const exportUrl = (fmt) => `/api/v1/quality/reports/${route.params.id}/${fmt}`;
    const router = useRouter();
    async function raiseCorrection() {
      const c = await api(`/exchange/corrections/from-report/${route.params.id}`, { method: "POST", body: {} });
      ElMessage.success(t("qr.correctionSent")); router.push(`/corrections/${c.id}`);
    }
    return { t, skipText, report, dlg, radarEl, barEl, failedRules, openOverride, saveOverride, can, raiseCorrection, VERDICT_TAG, DIMENSIONS, fmtTime, fmtScore, sampleKey, sampleValue, kindLabel, pct, exportUrl };
  },
  template: `
  <div v-if="report">
    <h2 class="page-title">{{ t('qr.report') }} · {{ report.target || report.subject_id }}</h2>
    <div class="toolbar" style="display:flex;flex-wrap:wrap;gap:8px;margin-bottom:12px">
      <router-link to="/quality/reports"><el-button>{{ t('qr.back') }}</el-button></router-link>
      <a :href="exportUrl('excel')" download data-test="qr-excel"><el-button>{{ t('qr.excel') }}</el-button></a>
      <a :href="exportUrl('pdf')" download data-test="qr-pdf"><el-button>{{ t('qr.pdf') }}</el-button></a>
      <el-button v-if="can('quality:manage')" type="warning" @click="openOverride" data-test="qr-override">{{ t('qr.override') }}</el-button>
      <el-button v-if="report.verdict === 'rejected' && report.unit_code && (can('quality:manage') || can('requests:write'))" type="danger" @click="raiseCorrection" data-test="qr-correction">{{ t('qr.raiseCorrection') }}</el-button>
    </div>
    <el-descriptions :column="3" border size="small" style="margin-bottom:12px">
      <el-descriptions-item :label="t('qr.verdict')">
        <el-tag :type="VERDICT_TAG[report.verdict]" size="large" data-test="qr-report-verdict">{{ t('qr.verdict.' + report.verdict) }}</el-tag>
      </el-descriptions-item>
      <el-descriptions-item :label="t('qr.score')"><b style="font-size:18px" data-test="qr-report-score">{{ fmtScore(report.score) }}</b></el-descriptions-item>
      <el-descriptions-item :label="t('qr.created')">{{ fmtTime(report.created_at) }}</el-descriptions-item>
      <el-descriptions-item :label="t('qr.subject')">{{ t('qr.subject.' + report.subject_kind) }}
        <router-link v-if="report.subject_kind === 'import_run'" :to="'/collect/runs/' + report.subject_id">{{ report.subject_id.slice(0, 8) }}</router-link>
        <span v-else>{{ report.subject_id }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('qr.resource')">{{ report.resource_code || '—' }}</el-descriptions-item>
      <el-descriptions-item :label="t('qr.unit')"><router-link v-if="report.unit_code" :to="'/quality/units/' + report.unit_code">{{ report.unit_code }}</router-link><span v-else>—</span></el-descriptions-item>
      <el-descriptions-item :label="t('qr.rows')">{{ report.rows }}</el-descriptions-item>
      <el-descriptions-item :label="t('qr.errorRows')"><span data-test="qr-error-rows">{{ report.error_rows }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('qr.warningRows')"><span data-test="qr-warning-rows">{{ report.warning_rows }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('qr.why')" :span="3"><span style="white-space:pre-line">{{ report.verdict_reason }}</span></el-descriptions-item>
      <el-descriptions-item v-if="report.overridden_at" :label="t('qr.computed')" :span="3">
        <el-tag :type="VERDICT_TAG[report.computed_verdict]" size="small">{{ t('qr.verdict.' + report.computed_verdict) }}</el-tag>
        <span style="margin-left:8px" data-test="qr-override-note">{{ t('qr.overriddenBy', { u: report.overridden_by || '', w: fmtTime(report.overridden_at), r: report.override_reason }) }}</span>
      </el-descriptions-item>
    </el-descriptions>
    <div style="display:flex;flex-wrap:wrap;gap:12px;margin-bottom:12px">
      <el-card shadow="never" style="flex:1 1 320px"><template #header>{{ t('qr.dimensions') }}</template>
        <div ref="radarEl" style="height:240px" data-test="qr-radar"></div>
        <el-table :data="DIMENSIONS.map((d) => ({ d, s: report.scores[d], w: report.weights[d], c: report.checks[d] || {} }))" size="small" data-test="qr-dimensions">
          <el-table-column :label="t('qr.dimension')"><template #default="{ row }">{{ t('qr.dim.' + row.d) }}</template></el-table-column>
          <el-table-column :label="t('qr.score')" width="70"><template #default="{ row }">{{ fmtScore(row.s) }}</template></el-table-column>
          <el-table-column :label="t('qr.weight')" width="60"><template #default="{ row }">{{ fmtScore(row.w) }}</template></el-table-column>
          <el-table-column :label="t('qr.checked')" width="80"><template #default="{ row }">{{ row.c.checked || 0 }}</template></el-table-column>
          <el-table-column :label="t('qr.failed')" width="70"><template #default="{ row }">{{ row.c.failed || 0 }}</template></el-table-column>
        </el-table>
        <div style="color:#909399;font-size:12px;margin-top:6px">{{ t('qr.weightsNote') }}</div>
      </el-card>
      <el-card v-if="failedRules.length" shadow="never" style="flex:1 1 320px"><template #header>{{ t('qr.failed') }}</template>
        <div ref="barEl" :style="{ height: Math.max(160, 28 * failedRules.length + 40) + 'px' }" data-test="qr-bar"></div>
      </el-card>
    </div>
    <h3>{{ t('qr.rules') }}</h3>
    <el-table :data="report.rules" border size="small" row-key="position" data-test="qr-rules">
      <el-table-column type="expand"><template #default="{ row }">
        <div style="padding:4px 16px">
          <div v-if="row.skipped" style="color:#909399">{{ t('qr.skipped', { r: skipText(row.skipped) }) }}</div>
          <div v-if="Object.keys(row.detail || {}).length" style="color:#606266;margin-bottom:4px">{{ JSON.stringify(row.detail) }}</div>
          <el-table v-if="row.sample.length" :data="row.sample" size="small" :header-cell-style="{ background: '#fafafa' }">
            <el-table-column prop="line" :label="t('qr.line')" width="80" />
            <el-table-column :label="t('qr.key')" min-width="200"><template #default="s">{{ sampleKey(s.row) }}</template></el-table-column>
            <el-table-column :label="t('qr.value')" min-width="160"><template #default="s">{{ sampleValue(s.row) }}</template></el-table-column>
          </el-table>
        </div>
      </template></el-table-column>
      <el-table-column prop="name" :label="t('qr.rule')" min-width="220" show-overflow-tooltip />
      <el-table-column :label="t('qr.kind')" width="110"><template #default="{ row }">{{ kindLabel(row.kind) }}</template></el-table-column>
      <el-table-column :label="t('qr.dimension')" width="90"><template #default="{ row }">{{ t('qr.dim.' + row.dimension) }}</template></el-table-column>
      <el-table-column :label="t('qr.severity')" width="80"><template #default="{ row }"><el-tag size="small" :type="row.severity === 'error' ? 'danger' : 'warning'">{{ t('qr.severity.' + row.severity) }}</el-tag></template></el-table-column>
      <el-table-column prop="checked" :label="t('qr.checked')" width="90" />
      <el-table-column :label="t('qr.failed')" width="80"><template #default="{ row }"><span :data-test="'qr-failed-' + row.position">{{ row.failed }}</span></template></el-table-column>
      <el-table-column :label="t('qr.share')" width="100"><template #default="{ row }">{{ row.skipped ? '—' : pct(row.share_failed) }}</template></el-table-column>
    </el-table>
    <el-dialog v-model="dlg.open" :title="t('qr.overrideTitle')" width="min(520px, 95vw)" data-test="qr-override-dialog">
      <el-form label-position="top">
        <el-form-item :label="t('qr.newVerdict')">
          <el-radio-group v-model="dlg.verdict">
            <el-radio v-for="v in ['accepted','accepted_with_warnings','rejected']" :key="v" :value="v" :disabled="v === report.verdict" :data-test="'qr-new-' + v">{{ t('qr.verdict.' + v) }}</el-radio>
          </el-radio-group>
        </el-form-item>
        <el-form-item :label="t('qr.reason')"><el-input v-model="dlg.reason" type="textarea" :rows="3" maxlength="2000" show-word-limit data-test="qr-reason" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dlg.open = false">{{ t('qr.cancel') }}</el-button>
        <el-button type="primary" :loading="dlg.busy" @click="saveOverride" data-test="qr-override-save">{{ t('qr.save') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
