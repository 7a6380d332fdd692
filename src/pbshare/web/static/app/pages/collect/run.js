// One import run: its state and progress (polled while it runs), counts, and the quarantined rows.
import { ref, reactive, onMounted, onBeforeUnmount, computed } from "vue";
import { useRoute } from "vue-router";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { statusType, fmt, skippedText } from "./labels.js";

export default {
  name: "RunPage",
  setup() {
    const route = useRoute();
    const run = ref(null);
    const q = ref({ columns: [], items: [], total: 0 });
    const page = reactive({ page: 1, size: 50 });
    let timer = null;
    async function load() {
      clearTimeout(timer);
      run.value = await api(`/collect/runs/${route.params.id}`);
      if (run.value.status === "queued" || run.value.status === "running") timer = setTimeout(load, 700);
      else loadQuarantine();
    }
    async function loadQuarantine() {
      q.value = await api(`/collect/runs/${route.params.id}/quarantine?page=${page.page}&size=${page.size}`);
    }
    onMounted(load);
    onBeforeUnmount(() => clearTimeout(timer));
    const percent = computed(() => Math.round(100 * (run.value?.status === "succeeded" ? 1 : run.value?.progress || 0)));
    const download = computed(() => `/api/v1/collect/runs/${route.params.id}/quarantine.xlsx`);
    const reasons = computed(() => Object.entries((run.value?.counts && run.value.counts.quarantined) || {})
      .map(([reason, rows]) => ({ reason, rows })));
    return { t, run, q, page, percent, download, loadQuarantine, statusType, fmt, can, skippedText, reasons };
  },
  template: `
  <div v-if="run">
    <h2 class="page-title">{{ t('col.run') }} · {{ run.source_label }} → {{ run.target }}</h2>
    <el-progress :percentage="percent" :status="run.status === 'failed' ? 'exception' : run.status === 'succeeded' ? 'success' : ''" />
    <el-descriptions :column="3" border size="small" style="margin:12px 0">
      <el-descriptions-item :label="t('col.status')"><el-tag :type="statusType(run.status)" data-test="run-status">{{ t('col.status.' + run.status) }}</el-tag></el-descriptions-item>
      <el-descriptions-item :label="t('col.read')">{{ run.rows_read }}</el-descriptions-item>
      <el-descriptions-item :label="t('col.loaded')">{{ run.rows_loaded }}</el-descriptions-item>
      <el-descriptions-item :label="t('col.quarantined')"><span data-test="run-quarantined">{{ run.rows_quarantined }}</span></el-descriptions-item>
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
    <template v-if="q.total">
      <h3>{{ t('col.quarantine') }} ({{ q.total }})</h3>
      <div class="toolbar"><a v-if="can('quality:manage')" :href="download" download data-test="download-quarantine"><el-button type="primary">{{ t('col.downloadQuarantine') }}</el-button></a></div>
      <el-table :data="q.items" size="small" border max-height="480" data-test="quarantine-table">
        <el-table-column prop="line" :label="t('col.line')" width="70" fixed />
        <el-table-column prop="reason" :label="t('col.reason')" min-width="260" show-overflow-tooltip />
        <el-table-column v-for="c in q.columns" :key="c" :label="c" min-width="120" show-overflow-tooltip><template #default="{ row }">{{ row.row[c] }}</template></el-table-column>
      </el-table>
      <el-pagination style="margin-top:8px" small layout="prev, pager, next, total" :total="q.total" v-model:current-page="page.page" :page-size="page.size" @current-change="loadQuarantine" />
    </template>
  </div>`,
};
