// Data sources: add by URL (password sealed), test the connection, harvest, browse tables and columns, see changes.
import { ref, reactive, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { guardComponents } from "../../guard.js";
import { can } from "../../session.js";
import { fmtTime } from "../catalog/labels.js";
import "./labels.js";

export default {
  name: "SourcesPage",
  components: { ...guardComponents },
  setup() {
    const rows = ref([]);
    const loading = ref(false);
    const busy = reactive({});
    const form = reactive({ open: false, name: "", url: "", schema_name: "", description: "" });
    const current = ref(null);
    const tables = ref([]);
    const harvests = ref([]);
    const table = ref(null);
    const lastChanges = ref(null);
    const types = ref([]);
    const attrForm = reactive({ open: false, values: {}, defs: [] });
    async function load() {
      loading.value = true;
      try { rows.value = await api("/metadata/sources"); } finally { loading.value = false; }
    }
    async function add() {
      await api("/metadata/sources", { method: "POST", body: { name: form.name, url: form.url, schema_name: form.schema_name || null, description: form.description || null } });
      form.open = false; form.url = "";
      load();
    }
    async function test(row) {
      busy[row.id] = "test";
      try {
        const r = await api(`/metadata/sources/${row.id}/test`, { method: "POST" });
        (r.ok ? ElMessage.success : ElMessage.error)(`${row.name}: ${r.message} (${r.ms} ms)`);
        load();
      } finally { busy[row.id] = null; }
    }
    async function harvest(row) {
      busy[row.id] = "harvest";
      try {
        const h = await api(`/metadata/sources/${row.id}/harvest`, { method: "POST" });
        if (!h.ok) { ElMessage.error({ message: t("md.harvestFailed", { e: h.error }), duration: 8000, showClose: true }); await open(row); return; }
        ElMessage.success(t("md.harvested", { t: h.tables, c: h.columns }));
        lastChanges.value = h.changes;
        await open(row);
        load();
      } finally { busy[row.id] = null; }
    }
    async function open(row) {
      current.value = row;
      tables.value = await api(`/metadata/sources/${row.id}/tables`);
      harvests.value = await api(`/metadata/sources/${row.id}/harvests`);
      if (lastChanges.value === null && harvests.value.length) lastChanges.value = harvests.value[0].changes;
    }
    async function showTable(row) { table.value = await api(`/metadata/objects/${row.id}`); }
    async function remove(row) {
      await api(`/metadata/sources/${row.id}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: row.name }));
      current.value = null; load();
    }
    async function fill(obj) {
      if (!types.value.length) types.value = await api("/metadata/types");
      const type = types.value.find((x) => x.code === obj.type_code);
      attrForm.defs = type ? type.attributes : [];
      attrForm.values = { ...obj.attributes };
      attrForm.obj = obj;
      attrForm.open = true;
    }
    async function saveAttrs() {
      const saved = await api(`/metadata/objects/${attrForm.obj.id}/attributes`, { method: "PUT", body: attrForm.values });
      attrForm.obj.attributes = saved.attributes;
      attrForm.open = false;
    }
    onMounted(load);
    return { t, fmtTime, rows, loading, busy, form, current, tables, harvests, table, lastChanges, attrForm, add, test, harvest, open, showTable, remove, fill, saveAttrs, can };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('md.sources') }}</h2>
    <div class="toolbar"><el-button v-if="can('metadata:write')" type="primary" @click="form.open = true" data-test="src-add">{{ t('md.add') }}</el-button></div>
    <el-table :data="rows" v-loading="loading" stripe data-test="sources">
      <el-table-column :label="t('md.name')" min-width="130"><template #default="{ row }"><el-button link type="primary" @click="lastChanges = null; open(row)">{{ row.name }}</el-button></template></el-table-column>
      <el-table-column prop="url" :label="t('md.url')" min-width="260" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column prop="tables" :label="t('md.tables')" width="70" />
      <el-table-column :label="t('md.lastTest')" width="90"><template #default="{ row }"><el-tag v-if="row.last_test_ok !== null" size="small" :type="row.last_test_ok ? 'success' : 'danger'" :title="row.last_test_message">{{ row.last_test_ok ? t('md.ok') : t('md.failed') }}</el-tag><span v-else class="muted">{{ t('md.never') }}</span></template></el-table-column>
      <el-table-column v-if="can('metadata:write')" :label="t('common.actions')" width="250"><template #default="{ row }">
        <el-button size="small" :loading="busy[row.id] === 'test'" @click="test(row)" :data-test="'src-test-' + row.name">{{ t('md.test') }}</el-button>
        <el-button size="small" type="primary" :loading="busy[row.id] === 'harvest'" @click="harvest(row)" :data-test="'src-harvest-' + row.name">{{ t('md.harvest') }}</el-button>
        <guarded-button size="small" link type="danger" @click="remove(row)" :confirm="t('guard.deleteAsk', { n: row.name })" :confirm-text="t('guard.delete')" :data-test="'source-delete-' + row.name">{{ t('md.delete') }}</guarded-button></template></el-table-column>
    </el-table>
    <el-card v-if="current" shadow="never" style="margin-top:12px">
      <template #header><strong>{{ current.name }}</strong> <span class="muted">{{ current.url }}</span></template>
      <template v-if="lastChanges !== null">
        <h4>{{ t('md.changes') }}</h4>
        <p v-if="!lastChanges.length" class="muted">{{ t('md.noChanges') }}</p>
        <el-table v-else :data="lastChanges" size="small" data-test="changes">
          <el-table-column prop="object" :label="t('md.object')" min-width="160" />
          <el-table-column :label="t('md.change')" width="150"><template #default="{ row }">{{ t('md.ch.' + row.change) }}</template></el-table-column>
          <el-table-column :label="t('md.before')"><template #default="{ row }">{{ row.before ?? '' }}</template></el-table-column>
          <el-table-column :label="t('md.after')"><template #default="{ row }">{{ row.after ?? '' }}</template></el-table-column>
        </el-table>
      </template>
      <h4>{{ t('md.tables') }}</h4>
      <el-table :data="tables" size="small" @row-click="showTable" data-test="src-tables">
        <el-table-column prop="name" :label="t('md.name')" min-width="140" />
        <el-table-column prop="comment" :label="t('md.comment')" min-width="120" />
        <el-table-column :label="t('md.rows')" width="90"><template #default="{ row }">{{ row.harvested.row_count ?? '—' }}</template></el-table-column>
        <el-table-column :label="t('md.pk')" width="140"><template #default="{ row }">{{ (row.harvested.primary_key || []).join(', ') }}</template></el-table-column>
      </el-table>
      <h4>{{ t('md.history') }}</h4>
      <el-table :data="harvests" size="small">
        <el-table-column :label="t('md.lastHarvest')" min-width="150"><template #default="{ row }">{{ fmtTime(row.started_at) }}</template></el-table-column>
        <el-table-column prop="tables" :label="t('md.tables')" width="70" />
        <el-table-column prop="columns" :label="t('md.columns')" width="70" />
        <el-table-column :label="t('md.changes')" width="90"><template #default="{ row }"><el-button link @click="lastChanges = row.changes">{{ row.changes.length }}</el-button></template></el-table-column>
        <el-table-column prop="error" :label="t('md.failed')" />
      </el-table>
    </el-card>
    <el-drawer :model-value="!!table" @update:model-value="table = null" :title="table?.qualified_name" size="min(640px, 100%)">
      <template v-if="table">
        <p>{{ table.comment }} <span class="muted">{{ t('md.rows') }}: {{ table.harvested.row_count ?? '—' }}</span></p>
        <p v-if="table.harvested.foreign_keys?.length" class="muted">{{ t('md.fk') }}: <span v-for="f in table.harvested.foreign_keys" :key="f.references">{{ f.columns.join(',') }} → {{ f.references }}; </span></p>
        <p><el-button v-if="can('metadata:write')" size="small" @click="fill(table)">{{ t('md.fill') }}</el-button> <span v-for="(v, k) in table.attributes" :key="k" class="muted">{{ k }}: {{ v }}; </span></p>
        <el-table :data="table.children" size="small" data-test="columns">
          <el-table-column prop="name" :label="t('md.column')" />
          <el-table-column :label="t('md.type')"><template #default="{ row }">{{ row.harvested.data_type }}</template></el-table-column>
          <el-table-column :label="t('md.nullable')" width="70"><template #default="{ row }">{{ row.harvested.nullable ? t('common.yes') : t('common.no') }}</template></el-table-column>
          <el-table-column :label="t('md.pk')" width="60"><template #default="{ row }">{{ row.harvested.primary_key ? '✓' : '' }}</template></el-table-column>
          <el-table-column prop="comment" :label="t('md.comment')" />
        </el-table>
      </template>
    </el-drawer>
    <el-dialog v-model="form.open" :title="t('md.add')" width="620px" style="max-width:96vw">
      <el-form label-width="100px">
        <el-form-item :label="t('md.name')" required><el-input v-model="form.name" data-test="src-name" /></el-form-item>
        <el-form-item :label="t('md.url')" required><el-input v-model="form.url" type="password" show-password data-test="src-url" /><div class="muted">{{ t('md.urlHint') }}</div></el-form-item>
        <el-form-item :label="t('md.schema')"><el-input v-model="form.schema_name" placeholder="public" /></el-form-item>
        <el-form-item :label="t('md.description')"><el-input v-model="form.description" /></el-form-item>
      </el-form>
      <template #footer><el-button @click="form.open = false">{{ t('common.cancel') }}</el-button><el-button type="primary" :disabled="!form.name || !form.url" @click="add" data-test="src-save">{{ t('common.save') }}</el-button></template>
    </el-dialog>
    <el-dialog v-model="attrForm.open" :title="t('md.fill')" width="480px" style="max-width:96vw">
      <el-form label-width="110px">
        <el-form-item v-for="d in attrForm.defs" :key="d.code" :label="d.label_zh" :required="d.required">
          <el-select v-if="d.type === 'enum'" v-model="attrForm.values[d.code]" clearable><el-option v-for="o in d.options" :key="o" :label="o" :value="o" /></el-select>
          <el-input-number v-else-if="d.type === 'number'" v-model="attrForm.values[d.code]" />
          <el-input v-else v-model="attrForm.values[d.code]" />
        </el-form-item>
      </el-form>
      <template #footer><el-button @click="attrForm.open = false">{{ t('common.cancel') }}</el-button><el-button type="primary" @click="saveAttrs">{{ t('common.save') }}</el-button></template>
    </el-dialog>
  </div>`,
};
