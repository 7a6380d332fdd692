// Catalog list: search, filters (unit, direction, frequency, share type, state), import and export.
import { ref, reactive, onMounted } from "vue";
import { useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t, label, options, STATE_TAG } from "./labels.js";
import { api, ApiError } from "../../api.js";
import { can, session } from "../../session.js";

export default {
  name: "CatalogListPage",
  setup() {
    const router = useRouter();
    const rows = ref([]);
    const total = ref(0);
    const loading = ref(false);
    const units = ref([]);
    const stats = ref({});
    const waiting = ref([]);
    const q = reactive({ q: "", provider: "", direction: "", frequency: "", share_type: "", state: "", page: 1, size: 20 });
    const imp = reactive({ open: false, file: null, publish: false, busy: false, problems: [], result: null });
    async function load() {
      loading.value = true;
      try {
        const params = new URLSearchParams({ page: q.page, size: q.size });
        for (const k of ["q", "provider", "direction", "frequency", "share_type", "state"]) if (q[k]) params.set(k, q[k]);
        const data = await api(`/catalog/resources?${params}`);
        rows.value = data.items; total.value = data.total;
        stats.value = await api("/catalog/resources/stats");
      } finally { loading.value = false; }
    }
    function search() { q.page = 1; load(); }
    function open(row) { router.push(`/catalog/r/${row.code}`); }
    function pick(file) { imp.file = file || null; imp.problems = []; imp.result = null; }
    async function doImport() {
      if (!imp.file) return;
      imp.busy = true; imp.problems = []; imp.result = null;
      const form = new FormData();
      form.append("file", imp.file);
      form.append("publish", imp.publish ? "true" : "false");
      try {
        const r = await api("/catalog/import", { method: "POST", form, quiet: true });
        imp.result = r;
        ElMessage.success(t("cat.importDone", { c: r.created, u: r.updated, n: r.unchanged, p: r.published }));
        load();
      } catch (e) {
        if (e instanceof ApiError && Array.isArray(e.detail)) imp.problems = e.detail;
        else ElMessage.error(e.message);
      } finally { imp.busy = false; }
    }
    const exportUrl = (fmt) => `/api/v1/catalog/export?format=${fmt}`;
    // Resources waiting for this user's unit's opinion (or, for office staff, for anyone's).
    async function loadWaiting() {
      if (!can("catalog:consent")) return;
      const mine = session.user.unit_code;
      waiting.value = (await api("/catalog/consultations")).filter((r) => r.consents.some((c) => c.agreed === null && (mine === "SZBA" || c.unit_code === mine)));
    }
    onMounted(async () => { units.value = await api("/catalog/units"); load(); loadWaiting(); });
    return { t, label, options, STATE_TAG, waiting, rows, total, loading, units, stats, q, load, search, open, can, imp, pick, doImport, exportUrl, session };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('cat.title') }}</h2>
    <div class="cards" style="grid-template-columns: repeat(auto-fill, minmax(110px, 1fr))">
      <el-card v-for="(n, s) in stats" :key="s" shadow="never" class="stat" body-style="padding:10px 14px" :data-test="'stat-' + s"><div class="lbl">{{ label('state', s) }}</div><div class="num">{{ n }}</div></el-card>
    </div>
    <el-alert v-if="waiting.length" type="warning" :closable="false" style="margin-bottom:12px" :title="t('cat.waitingMine', { n: waiting.length })" data-test="cat-waiting">
      <div v-for="w in waiting" :key="w.code"><el-button link type="primary" @click="$router.push('/catalog/r/' + w.code)">{{ w.code }} {{ w.name }}</el-button></div>
    </el-alert>
    <div class="toolbar">
      <el-input v-model="q.q" :placeholder="t('cat.search')" clearable @keyup.enter="search" data-test="cat-search" />
      <el-select v-model="q.provider" :placeholder="t('cat.provider')" clearable filterable style="width:200px" @change="search" data-test="filter-provider">
        <el-option v-for="u in units" :key="u.code" :label="u.name" :value="u.code" />
      </el-select>
      <el-select v-model="q.direction" :placeholder="t('cat.direction')" clearable style="width:150px" @change="search">
        <el-option v-for="o in options('direction')" :key="o.value" :label="o.label" :value="o.value" />
      </el-select>
      <el-select v-model="q.frequency" :placeholder="t('cat.frequency')" clearable style="width:120px" @change="search" data-test="filter-frequency">
        <el-option v-for="o in options('frequency')" :key="o.value" :label="o.label" :value="o.value" />
      </el-select>
      <el-select v-model="q.share_type" :placeholder="t('cat.shareType')" clearable style="width:130px" @change="search">
        <el-option v-for="o in options('share_type')" :key="o.value" :label="o.label" :value="o.value" />
      </el-select>
      <el-select v-model="q.state" :placeholder="t('cat.state')" clearable style="width:130px" @change="search" data-test="filter-state">
        <el-option v-for="o in options('state')" :key="o.value" :label="o.label" :value="o.value" />
      </el-select>
      <el-button type="primary" @click="search">{{ t('common.search') }}</el-button>
      <el-button v-if="can('catalog:write')" type="success" @click="$router.push('/catalog/new')" data-test="cat-new">{{ t('cat.new') }}</el-button>
      <el-button v-if="can('catalog:write')" @click="imp.open = true" data-test="cat-import">{{ t('cat.import') }}</el-button>
      <el-dropdown>
        <el-button>{{ t('cat.export') }}</el-button>
        <template #dropdown><el-dropdown-menu>
          <el-dropdown-item><a :href="exportUrl('yaml')" download>YAML</a></el-dropdown-item>
          <el-dropdown-item><a :href="exportUrl('json')" download>JSON</a></el-dropdown-item>
          <el-dropdown-item><a :href="exportUrl('excel')" download data-test="export-excel">Excel</a></el-dropdown-item>
          <el-dropdown-item><a :href="exportUrl('dcat')" download>DCAT-AP JSON-LD</a></el-dropdown-item>
        </el-dropdown-menu></template>
      </el-dropdown>
    </div>
    <el-table :data="rows" v-loading="loading" stripe style="width:100%" :empty-text="t('common.empty')" @row-click="open" data-test="cat-table" row-class-name="clickable">
      <el-table-column prop="code" :label="t('cat.code')" width="100" />
      <el-table-column prop="name" :label="t('cat.name')" min-width="200" />
      <el-table-column prop="provider_name" :label="t('cat.provider')" min-width="160" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column :label="t('cat.direction')" width="90" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ label('direction', row.direction).split('（')[0].split(' (')[0] }}</template></el-table-column>
      <el-table-column :label="t('cat.shareType')" width="110" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ label('share_type', row.share_type) }}</template></el-table-column>
      <el-table-column :label="t('cat.frequency')" width="80" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ label('frequency', row.frequency) }}</template></el-table-column>
      <el-table-column prop="items" :label="t('cat.itemCount')" width="80" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column :label="t('cat.state')" width="110"><template #default="{ row }"><el-tag :type="STATE_TAG[row.state]" size="small">{{ label('state', row.state) }}</el-tag> <span v-if="row.version" class="muted">v{{ row.version }}</span></template></el-table-column>
    </el-table>
    <el-pagination style="margin-top:12px" layout="prev, pager, next, total" :small="true" :total="total" v-model:current-page="q.page" :page-size="q.size" @current-change="load" />

    <el-dialog v-model="imp.open" :title="t('cat.importTitle')" width="720px" style="max-width:96vw">
      <p class="muted">{{ t('cat.importHint') }}</p>
      <file-pick accept=".yaml,.yml,.json,.xlsx" @pick="pick" data-test="import-file" />
      <div style="margin:8px 0"><el-checkbox v-model="imp.publish">{{ t('cat.importPublish') }}</el-checkbox></div>
      <el-alert v-if="imp.result" type="success" :closable="false" :title="t('cat.importDone', { c: imp.result.created, u: imp.result.updated, n: imp.result.unchanged, p: imp.result.published })" />
      <div v-if="imp.problems.length" data-test="import-problems">
        <el-alert type="error" :closable="false" :title="t('cat.importProblems')" />
        <el-table :data="imp.problems" size="small" max-height="300">
          <el-table-column prop="sheet" :label="t('cat.sheet')" width="90" />
          <el-table-column prop="row" :label="t('cat.row')" width="60" />
          <el-table-column prop="column" :label="t('cat.column')" width="140" />
          <el-table-column prop="reason" :label="t('cat.reason')" />
        </el-table>
      </div>
      <template #footer>
        <el-button @click="imp.open = false">{{ t('common.cancel') }}</el-button>
        <el-button type="primary" :loading="imp.busy" :disabled="!imp.file" @click="doImport" data-test="import-submit">{{ t('cat.import') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
