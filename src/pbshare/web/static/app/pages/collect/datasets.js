// SQL datasets: write a SELECT over topic-database tables, check and preview it, save, build/refresh its table.
import { ref, reactive, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { DerivedTableList } from "./derived.js";

export default {
  name: "DatasetsPage",
  components: { DerivedTableList },
  setup() {
    const rows = ref([]);
    const topics = ref([]);
    const tables = ref([]);
    const form = reactive({ open: false, id: null, name: "", title: "", sql: "", sql_dialect: "postgres", target_topic: "" });
    const result = ref(null);
    const busy = ref(false);
    let seq = 0;
    async function load() {
      const mine = ++seq;  // a slow earlier answer must not overwrite a newer one
      const [d, tp, tb] = await Promise.all([api("/collect/datasets"), api("/warehouse/topics"), api("/warehouse/tables")]);
      if (mine !== seq) return;
      rows.value = d; topics.value = tp; tables.value = tb;
    }
    async function edit(ds) {
      if (!topics.value.length) topics.value = await api("/warehouse/topics");
      Object.assign(form, ds ? { ...ds, open: true } : { open: true, id: null, name: "", title: "", sql: "", sql_dialect: "postgres", target_topic: topics.value[0]?.name || "" });
      result.value = null;
    }
    async function check() {
      busy.value = true;
      try { result.value = await api("/collect/sql/check", { method: "POST", body: { sql: form.sql, sql_dialect: form.sql_dialect } }); } finally { busy.value = false; }
    }
    async function save(andRefresh) {
      const body = { name: form.name, title: form.title, sql: form.sql, sql_dialect: form.sql_dialect, target_topic: form.target_topic };
      const ds = form.id ? await api(`/collect/datasets/${form.id}`, { method: "PUT", body }) : await api("/collect/datasets", { method: "POST", body });
      form.open = false;
      if (andRefresh) await refresh(ds);
      load();
    }
    const running = reactive({});
    async function refresh(ds) {
      running[ds.id] = true;
      try {
        const done = await api(`/collect/datasets/${ds.id}/refresh`, { method: "POST" });
        ElMessage.success(t("col.done", { n: done.row_count }));
      } finally {
        delete running[ds.id];
        load();
      }
    }
    async function cancel(ds) {
      const res = await api(`/collect/datasets/${ds.id}/cancel`, { method: "POST" });
      if (res.cancelled) ElMessage.info(t("col.cancelling"));
    }
    onMounted(load);
    return { t, rows, topics, tables, form, result, busy, edit, check, save, refresh, cancel, running, can };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.datasets') }}</h2>
    <div class="toolbar"><el-button v-if="can('collect:manage')" type="primary" data-test="new-dataset" @click="edit(null)">{{ t('col.newDataset') }}</el-button></div>
    <derived-table-list :rows="rows" data-test="datasets-table" :running="running" @refresh="refresh" @edit="edit" @cancel="cancel" />
    <el-dialog v-model="form.open" :title="t('nav.datasets')" width="820px" top="4vh">
      <el-form label-width="110px">
        <el-form-item :label="t('col.name')"><el-input v-model="form.name" placeholder="si_by_insurance" data-test="ds-name" /></el-form-item>
        <el-form-item :label="t('col.title')"><el-input v-model="form.title" data-test="ds-title" /></el-form-item>
        <el-form-item :label="t('col.topic')"><el-select v-model="form.target_topic"><el-option v-for="tp in topics" :key="tp.name" :value="tp.name" :label="tp.title" /></el-select></el-form-item>
        <el-form-item :label="t('col.dialect')"><el-select v-model="form.sql_dialect" style="width:160px"><el-option value="postgres" label="PostgreSQL" /><el-option value="mysql" label="MySQL" /><el-option value="sqlite" label="SQLite" /></el-select></el-form-item>
        <el-form-item :label="t('col.sql')"><el-input v-model="form.sql" type="textarea" :rows="6" style="font-family:monospace" data-test="ds-sql" /></el-form-item>
        <p class="muted">{{ tables.map(x => x.topic + '.' + x.name).join('  ') }}</p>
      </el-form>
      <div v-if="result" v-loading="busy">
        <el-table :data="result.rows" size="small" border max-height="260" data-test="ds-result">
          <el-table-column v-for="(c, i) in result.columns" :key="c" :label="c" min-width="100"><template #default="{ row }">{{ row[i] }}</template></el-table-column>
        </el-table>
      </div>
      <template #footer>
        <el-button @click="check" data-test="ds-check">{{ t('col.check') }}</el-button>
        <el-button @click="save(false)">{{ t('col.save') }}</el-button>
        <el-button type="primary" data-test="ds-save-run" @click="save(true)">{{ t('col.saveRun') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
