// Runs: the history with filters, one run with live progress, per-step logs and cancel, and the home card of
// failed runs and open alerts for the data admin.
import { ref, reactive, computed, onMounted, onBeforeUnmount } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { STATE_TYPE, fmtTime, fmtSeconds, stepPercent } from "./labels.js";

export const RunsPage = {
  name: "JobRunsPage",
  setup() {
    const router = useRouter();
    const route = useRoute();
    const data = ref({ items: [], total: 0 });
    const pipelines = ref([]);
    const f = reactive({ pipeline_id: route.query.pipeline || "", state: route.query.state || "", trigger: "", page: 1 });
    async function load() {
      const q = new URLSearchParams();
      for (const k of ["pipeline_id", "state", "trigger"]) if (f[k]) q.set(k, f[k]);
      q.set("limit", "20"); q.set("offset", String((f.page - 1) * 20));
      data.value = await api("/jobs/runs?" + q.toString());
    }
    onMounted(async () => { pipelines.value = await api("/jobs/pipelines"); load(); });
    return { t, data, pipelines, f, load, router, STATE_TYPE, fmtTime, fmtSeconds };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.jobRuns') }}</h2>
    <div class="toolbar" style="display:flex;gap:8px;flex-wrap:wrap">
      <el-select v-model="f.pipeline_id" clearable :placeholder="t('jobs.pipeline')" style="width:200px" data-test="filter-pipeline" @change="f.page = 1; load()">
        <el-option v-for="p in pipelines" :key="p.id" :value="p.id" :label="p.name" />
      </el-select>
      <el-select v-model="f.state" clearable :placeholder="t('jobs.state')" style="width:140px" data-test="filter-state" @change="f.page = 1; load()">
        <el-option v-for="s in ['queued','running','succeeded','failed','cancelled']" :key="s" :value="s" :label="t('jobs.state.' + s)" />
      </el-select>
      <el-select v-model="f.trigger" clearable :placeholder="t('jobs.trigger')" style="width:140px" @change="f.page = 1; load()">
        <el-option v-for="s in ['schedule','manual','catch_up']" :key="s" :value="s" :label="t('jobs.trigger.' + s)" />
      </el-select>
    </div>
    <el-table :data="data.items" data-test="runs-table" :empty-text="t('jobs.noRuns')" @row-click="(r) => router.push('/jobs/runs/' + r.id)" style="cursor:pointer">
      <el-table-column :label="t('jobs.pipeline')" prop="pipeline_name" min-width="140" />
      <el-table-column :label="t('jobs.state')" width="100"><template #default="{ row }"><el-tag :type="STATE_TYPE[row.state]" size="small">{{ t('jobs.state.' + row.state) }}</el-tag></template></el-table-column>
      <el-table-column :label="t('jobs.trigger')" width="90"><template #default="{ row }">{{ t('jobs.trigger.' + row.trigger) }}</template></el-table-column>
      <el-table-column :label="t('jobs.progress')" width="90"><template #default="{ row }">{{ row.steps_done }}/{{ row.step_count }}</template></el-table-column>
      <el-table-column :label="t('jobs.rows')" prop="rows" width="90" />
      <el-table-column :label="t('jobs.created')" min-width="170"><template #default="{ row }">{{ fmtTime(row.fire_at || row.created_at) }}</template></el-table-column>
      <el-table-column :label="t('jobs.duration')" width="110"><template #default="{ row }">{{ fmtSeconds(row.seconds) }}</template></el-table-column>
    </el-table>
    <el-pagination v-if="data.total > 20" layout="prev, pager, next" :total="data.total" :page-size="20" v-model:current-page="f.page" @current-change="load" />
  </div>`,
};

export const RunPage = {
  name: "JobRunPage",
  setup() {
    const route = useRoute();
    const router = useRouter();
    const run = ref(null);
    const open = ref([]);
    let timer = null;
    const finished = computed(() => run.value && ["succeeded", "failed", "cancelled"].includes(run.value.state));
    // the run's bar: steps done, plus the running step's own share of the way (what the step reported)
    const percent = computed(() => {
      const r = run.value;
      if (!r || !r.step_count) return 0;
      const live = r.step_runs.find((s) => s.state === "running");
      const part = live && stepPercent(live) !== null ? stepPercent(live) / 100 : 0;
      return Math.min(100, Math.floor((100 * (r.steps_done + part)) / r.step_count));
    });
    function summaryItems(s) {
      return Object.entries(s.summary || {}).filter(([k, v]) => k !== "comparison_id" && v !== null && !(Array.isArray(v) && !v.length))
        .map(([k, v]) => ({ k, v: Array.isArray(v) ? v.join(", ") : v === true ? "" : v }));
    }
    async function load() {
      run.value = await api(`/jobs/runs/${route.params.id}`);
      if (!open.value.length) open.value = run.value.step_runs.filter((s) => s.log || s.error).map((s) => s.position);
      const live = run.value.step_runs.find((s) => s.state === "running");
      if (live && !open.value.includes(live.position)) open.value = [...open.value, live.position];
      if (!finished.value) timer = setTimeout(load, 1000);
    }
    async function cancel() {
      await api(`/jobs/runs/${route.params.id}/cancel`, { method: "POST" });
      ElMessage.info(t("jobs.cancelAsked"));
      clearTimeout(timer);
      load();
    }
    onMounted(load);
    onBeforeUnmount(() => clearTimeout(timer));
    return { t, can, run, open, finished, percent, cancel, router, STATE_TYPE, fmtTime, fmtSeconds, stepPercent, summaryItems };
  },
  template: `
  <div v-if="run">
    <h2 class="page-title"><el-button link @click="router.push('/jobs/runs')">← {{ t('jobs.back') }}</el-button> {{ run.pipeline_name }}
      <el-tag :type="STATE_TYPE[run.state]" data-test="run-state">{{ t('jobs.state.' + run.state) }}</el-tag></h2>
    <div style="display:flex;gap:16px;flex-wrap:wrap;align-items:center" class="muted">
      <span>{{ t('jobs.trigger') }}: {{ t('jobs.trigger.' + run.trigger) }}</span>
      <span v-if="run.fire_at">{{ fmtTime(run.fire_at) }}</span>
      <span>{{ t('jobs.executor') }}: {{ run.executor }}</span>
      <span v-if="run.attempt > 1">{{ t('jobs.attempt', { n: run.attempt }) }}</span>
      <span>{{ t('jobs.rows') }}: {{ run.rows }}</span>
      <span v-if="run.seconds !== null">{{ t('jobs.duration') }}: {{ fmtSeconds(run.seconds) }}</span>
      <el-button v-if="!finished && can('jobs:manage')" type="danger" size="small" data-test="cancel-run" :disabled="run.cancel_requested" @click="cancel">{{ t('jobs.cancelRun') }}</el-button>
    </div>
    <el-progress :percentage="percent" :status="run.state === 'succeeded' ? 'success' : run.state === 'failed' ? 'exception' : ''" style="margin:12px 0;max-width:600px" data-test="run-progress" />
    <el-alert v-if="run.error" type="error" :closable="false" :title="run.error" data-test="run-error" style="margin-bottom:10px" />
    <el-collapse v-model="open" data-test="run-steps">
      <el-collapse-item v-for="s in run.step_runs" :key="s.position" :name="s.position">
        <template #title>
          <span style="display:flex;gap:8px;align-items:center" :data-test="'run-step-' + s.position">
            <b>{{ s.position + 1 }}. {{ s.name }}</b>
            <el-tag :type="STATE_TYPE[s.state]" size="small" :data-test="'run-step-state-' + s.position">{{ t('jobs.state.' + s.state) }}</el-tag>
            <span class="muted" v-if="s.rows !== null">{{ s.rows }} {{ t('jobs.rows') }}</span>
            <span class="muted" v-if="s.seconds !== null">{{ fmtSeconds(s.seconds) }}</span>
            <span class="muted" v-if="s.attempts > 1">×{{ s.attempts }}</span>
            <template v-if="s.state === 'running' && s.progress_done !== null">
              <el-progress v-if="stepPercent(s) !== null" :percentage="stepPercent(s)" :stroke-width="10" style="width:160px" :data-test="'run-step-progress-' + s.position" />
              <span class="muted" :data-test="'run-step-count-' + s.position">{{ s.progress_done.toLocaleString() }}<template v-if="s.progress_total !== null"> / {{ s.progress_total.toLocaleString() }}</template> {{ t('jobs.unit.' + (s.progress_unit || 'rows')) }}</span>
            </template>
          </span>
        </template>
        <div v-if="s.output" class="muted">{{ t('jobs.output') }}: {{ s.output }}</div>
        <div v-if="s.summary" style="display:flex;gap:6px;flex-wrap:wrap;margin:4px 0" :data-test="'run-summary-' + s.position">
          <router-link v-if="s.summary.comparison_id" :to="'/compare/' + s.summary.comparison_id">{{ t('jobs.summary.comparison_id') }} {{ s.summary.comparison_id.slice(0, 8) }}</router-link>
          <el-tag v-for="it in summaryItems(s)" :key="it.k" size="small" type="info">{{ t('jobs.summary.' + it.k) }} {{ it.v }}</el-tag>
        </div>
        <div v-if="s.error" style="color:var(--el-color-danger)">{{ t('jobs.error') }}: {{ s.error }}</div>
        <pre style="white-space:pre-wrap;max-height:320px;overflow:auto;background:var(--el-fill-color-light);padding:8px;font-size:12px" :data-test="'run-log-' + s.position">{{ s.log || t('jobs.none') }}</pre>
      </el-collapse-item>
    </el-collapse>
  </div>`,
};

// Home page card: failed runs of the last seven days and open alerts (failures, runs far slower than usual).
export const JobsHome = {
  name: "JobsHome",
  setup() {
    const failed = ref(null);
    const alerts = ref([]);
    async function load() {
      const since = new Date(Date.now() - 7 * 86400e3).toISOString();
      const [f, a] = await Promise.all([
        api(`/jobs/runs?state=failed&limit=5&since=${encodeURIComponent(since)}`, { quiet: true }).catch(() => null),
        api("/jobs/alerts", { quiet: true }).catch(() => []),
      ]);
      failed.value = f; alerts.value = a || [];
    }
    async function done(a) { await api(`/jobs/alerts/${a.id}/done`, { method: "POST" }); load(); }
    onMounted(load);
    return { t, failed, alerts, done, fmtTime };
  },
  template: `
  <div v-if="failed" class="cards" data-test="jobs-home">
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('jobs.failedRuns') }}</div><div class="num" data-test="jobs-failed-count">{{ failed.total }}</div>
      <div v-for="r in failed.items" :key="r.id" class="muted"><router-link :to="'/jobs/runs/' + r.id">{{ r.pipeline_name }}</router-link> · {{ fmtTime(r.created_at) }}</div>
      <router-link to="/jobs/runs?state=failed">{{ t('nav.jobRuns') }} →</router-link></el-card>
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('jobs.alerts') }}</div><div class="num" data-test="jobs-alert-count">{{ alerts.length }}</div>
      <div v-for="a in alerts.slice(0, 4)" :key="a.id" class="muted" style="display:flex;gap:6px;align-items:center">
        <router-link :to="'/jobs/runs/' + a.run_id" style="flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">{{ a.message }}</router-link>
        <el-button link size="small" @click="done(a)">{{ t('jobs.done') }}</el-button></div></el-card>
  </div>`,
};
