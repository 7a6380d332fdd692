// Saved import profiles: run again in one click (optionally with a new delivery file), run history.
import { ref, onMounted } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { useRouter } from "vue-router";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { guardComponents } from "../../guard.js";
import { can } from "../../session.js";
import { statusType, fmt } from "./labels.js";

export default {
  name: "ProfilesPage",
  components: { ...guardComponents },
  setup() {
    const router = useRouter();
    const rows = ref([]);
    const loading = ref(false);
    const history = ref({});
    let seq = 0;
    async function load() {
      const mine = ++seq;
      loading.value = true;
      try { const data = await api("/collect/profiles"); if (mine === seq) rows.value = data; } finally { loading.value = false; }
    }
    // A file this profile already imported: the server says so (and, for append, that the rows would be
    // added again); the user confirms or cancels.
    async function runNow(p, uploadId) {
      const params = new URLSearchParams();
      if (uploadId) params.set("upload_id", uploadId);
      let run;
      try {
        run = await api(`/collect/profiles/${p.id}/run?${params}`, { method: "POST", quiet: true });
      } catch (err) {
        if (err.code !== "already_imported") { ElMessage.error({ message: err.message, duration: 6000, showClose: true }); return; }
        try {
          await ElMessageBox.confirm(err.message, t("col.alreadyImported"), { type: "warning",
            confirmButtonText: t("col.importAgain"), cancelButtonText: t("common.cancel") });
        } catch { return; }
        params.set("confirm", "true");
        run = await api(`/collect/profiles/${p.id}/run?${params}`, { method: "POST" });
      }
      router.push(`/collect/runs/${run.id}`);
    }
    async function onFile(p, file) {
      if (!file) return;
      const form = new FormData();
      form.append("file", file);
      const up = await api("/collect/uploads", { method: "POST", form });
      runNow(p, up.upload_id);
    }
    async function loadHistory(p) {
      history.value = { ...history.value, [p.id]: await api(`/collect/runs?profile_id=${p.id}&limit=20`) };
    }
    async function remove(p) {
      await api(`/collect/profiles/${p.id}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: p.title }));
      load();
    }
    onMounted(load);
    return { t, rows, loading, history, runNow, onFile, loadHistory, remove, statusType, fmt, can };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.profiles') }}</h2>
    <el-table :data="rows" v-loading="loading" stripe :empty-text="t('common.empty')" data-test="profiles-table" @expand-change="loadHistory">
      <el-table-column type="expand"><template #default="{ row }">
        <el-table :data="history[row.id] || []" size="small">
          <el-table-column :label="t('col.started')" min-width="150"><template #default="{ row: r }"><router-link :to="'/collect/runs/' + r.id">{{ fmt(r.started_at) }}</router-link></template></el-table-column>
          <el-table-column prop="source_label" :label="t('col.sourceLabel')" min-width="140" />
          <el-table-column :label="t('col.status')" width="90"><template #default="{ row: r }"><el-tag size="small" :type="statusType(r.status)">{{ t('col.status.' + r.status) }}</el-tag></template></el-table-column>
          <el-table-column prop="rows_read" :label="t('col.read')" width="80" />
          <el-table-column prop="rows_loaded" :label="t('col.loaded')" width="80" />
          <el-table-column prop="rows_quarantined" :label="t('col.quarantined')" width="80" />
          <el-table-column prop="run_by" :label="t('col.runBy')" width="110" />
        </el-table>
      </template></el-table-column>
      <el-table-column prop="title" :label="t('col.title')" min-width="160" />
      <el-table-column prop="source_kind" :label="t('col.sourceLabel')" width="90" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column :label="t('col.target2')" min-width="140" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ row.target_label || row.target_table }}</template></el-table-column>
      <el-table-column :label="t('col.lastRun')" min-width="170"><template #default="{ row }">
        <template v-if="row.last_run"><el-tag size="small" :type="statusType(row.last_run.status)">{{ t('col.status.' + row.last_run.status) }}</el-tag>
          {{ row.last_run.rows_loaded }}/{{ row.last_run.rows_read }}<span v-if="row.last_run.rows_quarantined" class="muted"> ({{ t('col.quarantined') }} {{ row.last_run.rows_quarantined }})</span></template>
        <span v-else class="muted">-</span>
      </template></el-table-column>
      <el-table-column :label="t('common.actions')" min-width="230"><template #default="{ row }">
        <el-button link type="primary" :data-test="'run-' + row.name" @click="runNow(row)">{{ t('col.rerun') }}</el-button>
        <file-pick v-if="['csv','excel'].includes(row.source_kind)" accept=".csv,.txt,.xlsx,.xls" :show-name="false" :data-test="'rerun-file-' + row.name" @pick="(f) => onFile(row, f)" style="margin:0 12px"><el-button link type="primary">{{ t('col.rerunFile') }}</el-button></file-pick>
        <guarded-button v-if="can('collect:manage')" link type="danger" @click="remove(row)" :confirm="t('guard.deleteAsk', { n: row.title })" :confirm-text="t('guard.delete')" :data-test="'profile-delete-' + row.name">{{ t('col.delete') }}</guarded-button>
      </template></el-table-column>
    </el-table>
  </div>`,
};
