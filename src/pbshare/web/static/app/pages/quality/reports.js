// Quality reports: the list (filters by resource, unit, verdict and date), the score trend of the chosen
// resource or unit (ECharts line), and the words and helpers the report and unit pages share.
import { ref, reactive, onMounted, onBeforeUnmount, nextTick, watch } from "vue";
import { useRouter, useRoute } from "vue-router";
import * as echarts from "echarts";
import { t, lang, register } from "../../i18n.js";
import { api } from "../../api.js";
import { pickerComponents } from "../../pickers.js";
import { can } from "../../session.js";
import { ElMessage } from "element-plus";
import { fmtDateTime } from "../../format.js";

register({
  "nav.qualityGroup": ["数据质量", "Data quality"],
  "nav.qualityReports": ["质量报告", "Quality reports"],
  "qr.title": ["数据质量报告", "Data quality reports"],
  "qr.resource": ["目录资源编码", "Resource code"],
  "qr.unit": ["数源单位", "Unit"],
  "qr.verdict": ["结论", "Verdict"],
  "qr.dates": ["日期", "Dates"],
  "qr.from": ["开始", "From"],
  "qr.to": ["结束", "To"],
  "qr.search": ["查询", "Search"],
  "qr.reset": ["重置", "Reset"],
  "qr.created": ["时间", "When"],
  "qr.subject": ["对象", "Subject"],
  "qr.subject.import_run": ["导入", "Import run"],
  "qr.subject.delivery": ["交换报送", "Delivery"],
  "qr.target": ["目标表", "Table"],
  "qr.rows": ["行数", "Rows"],
  "qr.errorRows": ["隔离行", "Rows kept out"],
  "qr.warningRows": ["警告行", "Rows with warnings"],
  "qr.score": ["总分", "Score"],
  "qr.open": ["查看", "Open"],
  "qr.none": ["没有符合条件的质量报告；每次导入和每次收到报送都会生成一份", "No quality reports match; every import and every received delivery gets one"],
  "qr.trend": ["质量趋势", "Quality trend"],
  "qr.trendHint": ["选择目录资源或数源单位后显示其质量趋势", "Choose a resource or a unit to see its trend"],
  "qr.unitPage": ["单位质量页", "Unit quality page"],
  "qr.verdict.accepted": ["通过", "Accepted"],
  "qr.verdict.accepted_with_warnings": ["通过（有警告）", "Accepted with warnings"],
  "qr.verdict.rejected": ["不通过", "Rejected"],
  "qr.dim.completeness": ["完整性", "Completeness"],
  "qr.dim.validity": ["有效性", "Validity"],
  "qr.dim.consistency": ["一致性", "Consistency"],
  "qr.dim.uniqueness": ["唯一性", "Uniqueness"],
  "qr.dim.timeliness": ["及时性", "Timeliness"],
  "qr.overridden": ["人工更改", "Overridden"],
  "qr.report": ["质量报告", "Quality report"],
  "qr.summary": ["概况", "Summary"],
  "qr.dimensions": ["各维度得分", "Scores by dimension"],
  "qr.weight": ["权重", "Weight"],
  "qr.checked": ["检查数", "Checked"],
  "qr.failed": ["未通过", "Failed"],
  "qr.share": ["未通过比例", "Share failed"],
  "qr.rules": ["逐条规则", "Rule by rule"],
  "qr.rule": ["规则", "Rule"],
  "qr.kind": ["类型", "Kind"],
  "qr.kind.import_check": ["导入检查", "Import check"],
  "qr.severity": ["级别", "Severity"],
  "qr.severity.error": ["错误", "Error"],
  "qr.severity.warning": ["警告", "Warning"],
  "qr.dimension": ["维度", "Dimension"],
  "qr.skipped": ["未执行：{r}", "Not run: {r}"],
  "qr.sample": ["样例（证件号码已遮蔽）", "Sample (identifiers masked)"],
  "qr.line": ["行号", "Line"],
  "qr.key": ["业务主键", "Business key"],
  "qr.value": ["值", "Value"],
  "qr.why": ["结论依据", "Why"],
  "qr.computed": ["规则给出的结论", "Verdict the rules gave"],
  "qr.overriddenBy": ["由 {u} 于 {w} 更改，理由：{r}", "Changed by {u} on {w}: {r}"],
  "qr.override": ["更改结论", "Override verdict"],
  "qr.overrideTitle": ["更改质量结论", "Override the verdict"],
  "qr.newVerdict": ["新结论", "New verdict"],
  "qr.reason": ["理由（必填，记入审计日志）", "Reason (required, audited)"],
  "qr.reasonRequired": ["请填写更改结论的理由", "Give the reason for the change"],
  "qr.save": ["确定", "Save"],
  "qr.cancel": ["取消", "Cancel"],
  "qr.saved": ["结论已更改", "Verdict changed"],
  "qr.excel": ["导出 Excel", "Export Excel"],
  "qr.pdf": ["导出 PDF", "Export PDF"],
  "qr.weightsNote": ["总分 = 各维度得分按权重加权平均（未检查的维度不计入）", "Score = weighted mean of the dimension scores (dimensions not checked are left out)"],
  "qr.noRun": ["这次导入还没有质量报告（可能仍在运行或已失败）", "This import run has no quality report yet (it may still be running, or it failed)"],
  "qr.failingRules": ["最常未通过的规则（最近 50 份报告）", "Rules failing most often (last 50 reports)"],
  "qr.reportsCount": ["报告数", "Reports"],
  "qr.average": ["平均分", "Average score"],
  "qr.byResource": ["各资源最新结论", "Latest verdict per resource"],
  "qr.latest": ["最新报告", "Latest reports"],
  "qr.inReports": ["涉及报告数", "In reports"],
  "qr.back": ["返回列表", "Back to the list"],
  "qr.skip.no_previous_delivery": ["首次报送，没有可比较的上一批", "first delivery: nothing to compare with"],
  "qr.skip.no_frequency": ["资源没有更新频率", "the resource has no update frequency"],
  "qr.skip.no_lookup": ["无法读取引用的表", "the referenced table cannot be read"],
  "qr.skip.no_sql": ["无法执行自定义 SQL", "custom SQL cannot run here"],
  "qr.skip.no_table": ["无法读取对方单位的数据", "the other unit's data cannot be read"],
  "qr.skip.no_key": ["没有业务主键", "no business key"],
  "qr.skip.no_columns": ["比较的列不在本批数据中", "the compared columns are not in this delivery"],
  "qr.skip.columns_not_delivered": ["规则涉及的列本批未提供", "this delivery does not fill the rule's columns"],
  "qr.skip.no_delivery_time": ["没有报送时间", "no delivery time"],
  "qr.skip.not_applicable": ["不适用", "not applicable"],
  "qr.scoring": ["评分权重", "Score weights"],
  "qr.weightsSaved": ["评分权重已保存", "Score weights saved"],
  "qr.rejectShare": ["隔离行超过该比例即不通过（%）", "Rejected when rows kept out exceed (%)"],
  "qr.scoringHint": ["新权重用于此后生成的报告；已有报告保留其当时的权重", "New weights apply to reports made from now on; existing reports keep theirs"],
});

export const VERDICT_TAG = { accepted: "success", accepted_with_warnings: "warning", rejected: "danger" };
export const DIMENSIONS = ["completeness", "validity", "consistency", "uniqueness", "timeliness"];
export const fmtTime = (ts) => fmtDateTime(ts);
export const skipText = (code) => { const k = `qr.skip.${code}`; const x = t(k); return x === k ? code : x; };
export const fmtScore = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(2).replace(/\.?0+$/, ""));

// The score trend as an ECharts line: the overall score bold, each dimension thin.
export function drawTrend(chart, points) {
  const x = points.map((p) => fmtTime(p.created_at));
  const series = [{ name: t("qr.score"), type: "line", data: points.map((p) => p.score), lineStyle: { width: 3 }, connectNulls: true }]
    .concat(DIMENSIONS.map((d) => ({ name: t(`qr.dim.${d}`), type: "line", data: points.map((p) => p.scores[d] ?? null), lineStyle: { width: 1 }, symbolSize: 3, connectNulls: true })));
  chart.setOption({
    tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 },
    grid: { left: 40, right: 16, top: 36, bottom: 40 },
    xAxis: { type: "category", data: x, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", min: 0, max: 100 }, series,
  }, true);
}

export default {
  name: "QualityReportsPage",
  components: { ...pickerComponents },
  setup() {
    const router = useRouter();
    const route = useRoute();
    const rows = ref([]);
    const total = ref(0);
    const loading = ref(false);
    const units = ref([]);
    const q = reactive({ resource_code: route.query.resource_code || "", unit_code: route.query.unit_code || "", verdict: "", dates: null, page: 1, size: 20 });
    const chartEl = ref(null);
    const trendShown = ref(false);
    const weights = reactive({ open: false, busy: false, values: {}, share: 5 });
    async function openWeights() {
      const cur = await api("/quality/scoring");
      weights.values = { ...cur.weights }; weights.share = Math.round(cur.reject_share * 10000) / 100; weights.open = true;
    }
    async function saveWeights() {
      weights.busy = true;
      try {
        await api("/quality/scoring", { method: "PUT", body: { weights: weights.values, reject_share: weights.share / 100 } });
        weights.open = false; ElMessage.success(t("qr.weightsSaved"));
      } finally { weights.busy = false; }
    }
    let chart = null;
    async function load() {
      loading.value = true;
      try {
        const params = new URLSearchParams({ page: q.page, size: q.size });
        for (const k of ["resource_code", "unit_code", "verdict"]) if (q[k]) params.set(k, q[k].trim());
        if (q.dates && q.dates.length === 2) { params.set("date_from", q.dates[0]); params.set("date_to", q.dates[1]); }
        const data = await api(`/quality/reports?${params}`);
        rows.value = data.items; total.value = data.total;
      } finally { loading.value = false; }
      loadTrend();
    }
    async function loadTrend() {
      const params = new URLSearchParams();
      if (q.resource_code) params.set("resource_code", q.resource_code.trim());
      if (q.unit_code) params.set("unit_code", q.unit_code);
      trendShown.value = [...params.keys()].length > 0;
      if (!trendShown.value) { if (chart) { chart.dispose(); chart = null; } return; }
      const data = await api(`/quality/trends?${params}`);
      await nextTick();
      if (!chartEl.value) return;
      chart = chart || echarts.init(chartEl.value);
      drawTrend(chart, data.points);
    }
    function search() { q.page = 1; load(); }
    function reset() { Object.assign(q, { resource_code: "", unit_code: "", verdict: "", dates: null, page: 1 }); load(); }
    function open(row) { router.push(`/quality/reports/${row.id}`); }
    const onResize = () => chart && chart.resize();
    onMounted(async () => {
      window.addEventListener("resize", onResize);
      units.value = await api("/catalog/units", { quiet: true }).catch(() => []);
      load();
    });
    onBeforeUnmount(() => { window.removeEventListener("resize", onResize); chart && chart.dispose(); });
    watch(lang, () => loadTrend());
    return { t, rows, total, loading, units, q, load, search, reset, open, chartEl, trendShown, VERDICT_TAG, fmtTime, fmtScore, can, weights, openWeights, saveWeights, DIMENSIONS };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('qr.title') }}</h2>
    <div class="toolbar" style="display:flex;flex-wrap:wrap;gap:8px;margin-bottom:12px">
      <entity-picker kind="resource" v-model="q.resource_code" :placeholder="t('qr.resource')" style="width:220px" data-test="qr-filter-resource" @change="search" />
      <el-select v-model="q.unit_code" :placeholder="t('qr.unit')" clearable filterable style="width:200px" data-test="qr-filter-unit">
        <el-option v-for="u in units" :key="u.code" :label="u.name" :value="u.code" />
      </el-select>
      <el-select v-model="q.verdict" :placeholder="t('qr.verdict')" clearable style="width:170px" data-test="qr-filter-verdict">
        <el-option v-for="v in ['accepted','accepted_with_warnings','rejected']" :key="v" :label="t('qr.verdict.' + v)" :value="v" />
      </el-select>
      <el-date-picker v-model="q.dates" type="daterange" value-format="YYYY-MM-DD" :start-placeholder="t('qr.from')" :end-placeholder="t('qr.to')" style="width:260px" />
      <el-button type="primary" @click="search" data-test="qr-search">{{ t('qr.search') }}</el-button>
      <el-button @click="reset">{{ t('qr.reset') }}</el-button>
      <router-link v-if="q.unit_code" :to="'/quality/units/' + q.unit_code"><el-button link type="primary">{{ t('qr.unitPage') }}</el-button></router-link>
      <el-button v-if="can('quality:manage')" @click="openWeights" data-test="qr-weights">{{ t('qr.scoring') }}</el-button>
    </div>
    <el-dialog v-model="weights.open" :title="t('qr.scoring')" width="min(460px, 95vw)">
      <el-form label-width="150px" size="small">
        <el-form-item v-for="d in DIMENSIONS" :key="d" :label="t('qr.dim.' + d)"><el-input-number v-model="weights.values[d]" :min="0" :max="1000" :data-test="'qr-weight-' + d" /></el-form-item>
        <el-form-item :label="t('qr.rejectShare')"><el-input-number v-model="weights.share" :min="0" :max="100" :step="1" :precision="2" /></el-form-item>
      </el-form>
      <div style="color:#909399;font-size:12px">{{ t('qr.weightsNote') }}。{{ t('qr.scoringHint') }}</div>
      <template #footer>
        <el-button @click="weights.open = false">{{ t('qr.cancel') }}</el-button>
        <el-button type="primary" :loading="weights.busy" @click="saveWeights" data-test="qr-weights-save">{{ t('qr.save') }}</el-button>
      </template>
    </el-dialog>
    <el-card v-show="trendShown" shadow="never" style="margin-bottom:12px"><template #header>{{ t('qr.trend') }}</template>
      <div ref="chartEl" class="chart" style="height:260px" data-test="qr-trend"></div>
    </el-card>
    <el-table :data="rows" v-loading="loading" border size="small" :empty-text="t('qr.none')" data-test="qr-table" @row-dblclick="open">
      <el-table-column :label="t('qr.created')" min-width="150"><template #default="{ row }">{{ fmtTime(row.created_at) }}</template></el-table-column>
      <el-table-column :label="t('qr.subject')" min-width="110"><template #default="{ row }">{{ t('qr.subject.' + row.subject_kind) }}</template></el-table-column>
      <el-table-column prop="resource_code" :label="t('qr.resource')" min-width="110" />
      <el-table-column prop="unit_code" :label="t('qr.unit')" min-width="90" />
      <el-table-column prop="target" :label="t('qr.target')" min-width="140" show-overflow-tooltip />
      <el-table-column prop="rows" :label="t('qr.rows')" width="80" />
      <el-table-column prop="error_rows" :label="t('qr.errorRows')" width="90" />
      <el-table-column :label="t('qr.score')" width="80"><template #default="{ row }"><b>{{ fmtScore(row.score) }}</b></template></el-table-column>
      <el-table-column :label="t('qr.verdict')" min-width="140"><template #default="{ row }">
        <el-tag :type="VERDICT_TAG[row.verdict]" data-test="qr-verdict">{{ t('qr.verdict.' + row.verdict) }}</el-tag>
        <el-tag v-if="row.overridden" type="info" size="small" style="margin-left:4px">{{ t('qr.overridden') }}</el-tag>
      </template></el-table-column>
      <el-table-column width="80" fixed="right"><template #default="{ row }"><el-button link type="primary" @click="open(row)" data-test="qr-open">{{ t('qr.open') }}</el-button></template></el-table-column>
    </el-table>
    <el-pagination style="margin-top:8px" small layout="prev, pager, next, total" :total="total" v-model:current-page="q.page" :page-size="q.size" @current-change="load" />
  </div>`,
};
