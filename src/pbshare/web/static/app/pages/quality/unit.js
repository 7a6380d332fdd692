// A unit's quality page: reports by verdict, average score, its score trend (ECharts line), each resource's
// latest verdict, the rules failing most often, and the newest reports.
import { ref, onMounted, onBeforeUnmount, nextTick, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import * as echarts from "echarts";
import { t, lang } from "../../i18n.js";
import { api } from "../../api.js";
import { VERDICT_TAG, fmtTime, fmtScore, drawTrend } from "./reports.js";

export default {
  name: "QualityUnitPage",
  setup() {
    const route = useRoute();
    const router = useRouter();
    const page = ref(null);
    const chartEl = ref(null);
    let chart = null;
    function draw() {
      if (!page.value || !chartEl.value) return;
      chart = chart || echarts.init(chartEl.value);
      drawTrend(chart, page.value.trend);
    }
    async function load() {
      page.value = await api(`/quality/units/${encodeURIComponent(route.params.code)}`);
      await nextTick();
      draw();
    }
    const onResize = () => chart && chart.resize();
    onMounted(() => { load(); window.addEventListener("resize", onResize); });
    onBeforeUnmount(() => { window.removeEventListener("resize", onResize); chart && chart.dispose(); });
    watch(lang, draw);
    watch(() => route.params.code, (c) => { if (c) load(); });
    const open = (id) => router.push(`/quality/reports/${id}`);
    return { t, page, chartEl, open, VERDICT_TAG, fmtTime, fmtScore };
  },
  template: `
  <div v-if="page">
    <h2 class="page-title" data-test="qu-title">{{ page.unit.name }} · {{ t('qr.unitPage') }}</h2>
    <div class="cards" style="display:flex;flex-wrap:wrap;gap:12px;margin-bottom:12px">
      <el-card shadow="never" class="stat"><div class="lbl">{{ t('qr.reportsCount') }}</div><div class="num" data-test="qu-reports">{{ page.reports }}</div></el-card>
      <el-card shadow="never" class="stat"><div class="lbl">{{ t('qr.average') }}</div><div class="num" data-test="qu-average">{{ fmtScore(page.average_score) }}</div></el-card>
      <el-card v-for="(n, v) in page.by_verdict" :key="v" shadow="never" class="stat"><div class="lbl"><el-tag :type="VERDICT_TAG[v]" size="small">{{ t('qr.verdict.' + v) }}</el-tag></div><div class="num" :data-test="'qu-' + v">{{ n }}</div></el-card>
    </div>
    <el-card shadow="never" style="margin-bottom:12px"><template #header>{{ t('qr.trend') }}</template><div ref="chartEl" style="height:260px" data-test="qu-trend"></div></el-card>
    <div style="display:flex;flex-wrap:wrap;gap:12px;margin-bottom:12px">
      <el-card shadow="never" style="flex:1 1 320px"><template #header>{{ t('qr.byResource') }}</template>
        <el-table :data="page.resources" size="small" @row-click="(r) => open(r.report_id)">
          <el-table-column prop="resource_code" :label="t('qr.resource')" />
          <el-table-column :label="t('qr.score')" width="80"><template #default="{ row }">{{ fmtScore(row.score) }}</template></el-table-column>
          <el-table-column :label="t('qr.verdict')" min-width="120"><template #default="{ row }"><el-tag :type="VERDICT_TAG[row.verdict]" size="small">{{ t('qr.verdict.' + row.verdict) }}</el-tag></template></el-table-column>
        </el-table>
      </el-card>
      <el-card shadow="never" style="flex:1 1 320px"><template #header>{{ t('qr.failingRules') }}</template>
        <el-table :data="page.failing_rules" size="small" data-test="qu-failing">
          <el-table-column prop="name" :label="t('qr.rule')" min-width="180" show-overflow-tooltip />
          <el-table-column :label="t('qr.dimension')" width="90"><template #default="{ row }">{{ t('qr.dim.' + row.dimension) }}</template></el-table-column>
          <el-table-column prop="reports" :label="t('qr.inReports')" width="90" />
          <el-table-column prop="failed" :label="t('qr.failed')" width="80" />
        </el-table>
      </el-card>
    </div>
    <h3>{{ t('qr.latest') }}</h3>
    <el-table :data="page.latest" border size="small" @row-click="(r) => open(r.id)" data-test="qu-latest">
      <el-table-column :label="t('qr.created')" min-width="150"><template #default="{ row }">{{ fmtTime(row.created_at) }}</template></el-table-column>
      <el-table-column prop="resource_code" :label="t('qr.resource')" min-width="110" />
      <el-table-column prop="target" :label="t('qr.target')" min-width="140" show-overflow-tooltip />
      <el-table-column prop="rows" :label="t('qr.rows')" width="80" />
      <el-table-column :label="t('qr.score')" width="80"><template #default="{ row }">{{ fmtScore(row.score) }}</template></el-table-column>
      <el-table-column :label="t('qr.verdict')" min-width="120"><template #default="{ row }"><el-tag :type="VERDICT_TAG[row.verdict]" size="small">{{ t('qr.verdict.' + row.verdict) }}</el-tag></template></el-table-column>
    </el-table>
  </div>`,
};
