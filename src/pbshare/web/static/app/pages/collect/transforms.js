// No-code transforms: pick tables, join them on keys, filter, group and aggregate, add computed columns.
import { ref, reactive, computed, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { OPS, FNS } from "./labels.js";
import { DerivedTableList } from "./derived.js";

function blank() {
  return { tables: [], joins: [], filters: [], group_by: [], aggregates: [], computed: [], columns: [] };
}

export default {
  name: "TransformsPage",
  components: { DerivedTableList },
  setup() {
    const rows = ref([]);
    const topics = ref([]);
    const catalog = ref([]);
    const form = reactive({ open: false, id: null, name: "", title: "", target_topic: "", picked: [], spec: blank() });
    const result = ref(null);
    let seq = 0;
    async function load() {
      const mine = ++seq;  // a slow earlier answer must not overwrite a newer one
      const [r, tp, c] = await Promise.all([api("/collect/transforms"), api("/warehouse/topics"), api("/warehouse/tables")]);
      if (mine !== seq) return;
      rows.value = r; topics.value = tp; catalog.value = c;
    }
    const aliasOf = (i) => "t" + (i + 1);
    function syncTables() {
      form.spec.tables = form.picked.map((full, i) => ({ table: full, alias: aliasOf(i) }));
      form.spec.joins = form.spec.tables.slice(1).map((tb, i) => form.spec.joins.find((j) => j.alias === tb.alias) || { kind: "inner", alias: tb.alias, on: [["", ""]] });
    }
    const columns = computed(() => form.spec.tables.flatMap((tb) => {
      const meta = catalog.value.find((c) => c.topic + "." + c.name === tb.table);
      return (meta?.columns || []).map((c) => ({ value: tb.alias + "." + c.name, label: tb.alias + "." + (c.title || c.name) + (c.title && c.title !== c.name ? " (" + c.name + ")" : "") }));
    }));
    async function edit(tf) {
      if (!topics.value.length) { topics.value = await api("/warehouse/topics"); catalog.value = await api("/warehouse/tables"); }
      if (tf) {
        Object.assign(form, { open: true, id: tf.id, name: tf.name, title: tf.title, target_topic: tf.target_topic, spec: { ...blank(), ...JSON.parse(JSON.stringify(tf.spec)) } });
        form.picked = form.spec.tables.map((x) => x.table);
      } else {
        Object.assign(form, { open: true, id: null, name: "", title: "", target_topic: topics.value[0]?.name || "", picked: [], spec: blank() });
      }
      result.value = null;
    }
    function cleanSpec() {
      const s = JSON.parse(JSON.stringify(form.spec));
      s.filters = s.filters.map((f) => (f.op === "range" ? { column: f.column, op: f.op, value: [f.value, f.value2] } : { column: f.column, op: f.op, value: f.value }));
      s.computed = s.computed.map((c) => ({ as: c.as, op: c.op, args: c.args.map((a) => (a !== "" && !isNaN(Number(a)) ? Number(a) : a)) }));
      return s;
    }
    async function preview() { result.value = await api("/collect/transforms/preview", { method: "POST", body: cleanSpec() }); }
    async function save() {
      const body = { name: form.name, title: form.title, target_topic: form.target_topic, spec: cleanSpec() };
      const tf = form.id ? await api(`/collect/transforms/${form.id}`, { method: "PUT", body }) : await api("/collect/transforms", { method: "POST", body });
      form.open = false;
      await refresh(tf);
    }
    const running = reactive({});
    async function refresh(tf) {
      running[tf.id] = true;
      try {
        const done = await api(`/collect/transforms/${tf.id}/refresh`, { method: "POST" });
        ElMessage.success(t("col.done", { n: done.row_count }));
      } finally {
        delete running[tf.id];
        load();
      }
    }
    async function cancel(tf) {
      const res = await api(`/collect/transforms/${tf.id}/cancel`, { method: "POST" });
      if (res.cancelled) ElMessage.info(t("col.cancelling"));
    }
    onMounted(load);
    return { t, rows, topics, catalog, form, result, columns, OPS, FNS, syncTables, edit, preview, save, refresh, cancel, running, can };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.transforms') }}</h2>
    <div class="toolbar"><el-button v-if="can('collect:manage')" type="primary" data-test="new-transform" @click="edit(null)">{{ t('col.newTransform') }}</el-button></div>
    <derived-table-list :rows="rows" data-test="transforms-table" :running="running" @refresh="refresh" @edit="edit" @cancel="cancel" />
    <el-dialog v-model="form.open" :title="t('nav.transforms')" width="900px" top="3vh">
      <el-form label-width="110px" size="small">
        <el-form-item :label="t('col.name')"><el-input v-model="form.name" placeholder="debtor_assets" data-test="tf-name" /></el-form-item>
        <el-form-item :label="t('col.title')"><el-input v-model="form.title" data-test="tf-title" /></el-form-item>
        <el-form-item :label="t('col.topic')"><el-select v-model="form.target_topic"><el-option v-for="tp in topics" :key="tp.name" :value="tp.name" :label="tp.title" /></el-select></el-form-item>
        <el-form-item :label="t('col.tables')">
          <el-select v-model="form.picked" multiple style="width:100%" data-test="tf-tables" @change="syncTables">
            <el-option v-for="c in catalog" :key="c.id" :value="c.topic + '.' + c.name" :label="c.title + ' (' + c.topic + '.' + c.name + ')'" />
          </el-select>
        </el-form-item>
        <el-form-item v-for="j in form.spec.joins" :key="j.alias" :label="t('col.joins') + ' ' + j.alias">
          <el-select v-model="j.kind" style="width:100px"><el-option value="inner" :label="t('col.inner')" /><el-option value="left" :label="t('col.left')" /></el-select>
          <el-select v-model="j.on[0][0]" filterable style="width:220px" :placeholder="t('col.on')"><el-option v-for="c in columns" :key="c.value" :value="c.value" :label="c.label" /></el-select> =
          <el-select v-model="j.on[0][1]" filterable style="width:220px" :placeholder="t('col.on')"><el-option v-for="c in columns" :key="c.value" :value="c.value" :label="c.label" /></el-select>
        </el-form-item>
        <el-form-item :label="t('col.filters')">
          <div v-for="(f, i) in form.spec.filters" :key="i" style="display:flex;gap:4px;margin-bottom:4px;flex-wrap:wrap">
            <el-select v-model="f.column" filterable style="width:220px"><el-option v-for="c in columns" :key="c.value" :value="c.value" :label="c.label" /></el-select>
            <el-select v-model="f.op" style="width:100px"><el-option v-for="o in OPS" :key="o" :value="o" :label="['range','contains'].includes(o) ? t('col.op.' + o) : o" /></el-select>
            <el-input v-model="f.value" style="width:140px" :placeholder="t('col.value')" />
            <el-input v-if="f.op === 'range'" v-model="f.value2" style="width:140px" :placeholder="t('col.value2')" />
            <el-button link type="danger" @click="form.spec.filters.splice(i, 1)">✕</el-button>
          </div>
          <el-button @click="form.spec.filters.push({ column: '', op: '=', value: '' })">{{ t('col.add') }}</el-button>
        </el-form-item>
        <el-form-item :label="t('col.computed')">
          <div v-for="(c, i) in form.spec.computed" :key="i" style="display:flex;gap:4px;margin-bottom:4px;flex-wrap:wrap">
            <el-input v-model="c.as" style="width:130px" :placeholder="t('col.as')" />
            <el-select v-model="c.args[0]" filterable allow-create style="width:200px"><el-option v-for="x in columns" :key="x.value" :value="x.value" :label="x.label" /></el-select>
            <el-select v-model="c.op" style="width:90px"><el-option v-for="o in ['+','-','*','/','concat']" :key="o" :value="o" :label="o" /></el-select>
            <el-select v-model="c.args[1]" filterable allow-create style="width:200px"><el-option v-for="x in columns" :key="x.value" :value="x.value" :label="x.label" /></el-select>
            <el-button link type="danger" @click="form.spec.computed.splice(i, 1)">✕</el-button>
          </div>
          <el-button @click="form.spec.computed.push({ as: '', op: '+', args: ['', ''] })">{{ t('col.add') }}</el-button>
        </el-form-item>
        <el-form-item :label="t('col.groupBy')">
          <el-select v-model="form.spec.group_by" multiple filterable style="width:100%" data-test="tf-group"><el-option v-for="c in columns" :key="c.value" :value="c.value" :label="c.label" /></el-select>
        </el-form-item>
        <el-form-item :label="t('col.aggregates')">
          <div v-for="(a, i) in form.spec.aggregates" :key="i" style="display:flex;gap:4px;margin-bottom:4px;flex-wrap:wrap">
            <el-select v-model="a.fn" style="width:120px"><el-option v-for="fn in FNS" :key="fn" :value="fn" :label="t('col.fn.' + fn)" /></el-select>
            <el-select v-model="a.column" filterable clearable style="width:220px"><el-option v-for="c in columns" :key="c.value" :value="c.value" :label="c.label" /></el-select>
            <el-input v-model="a.as" style="width:140px" :placeholder="t('col.as')" />
            <el-button link type="danger" @click="form.spec.aggregates.splice(i, 1)">✕</el-button>
          </div>
          <el-button data-test="tf-add-agg" @click="form.spec.aggregates.push({ fn: 'count', column: '', as: '' })">{{ t('col.add') }}</el-button>
        </el-form-item>
        <el-form-item v-if="!form.spec.group_by.length && !form.spec.aggregates.length" :label="t('col.columns')">
          <el-select v-model="form.spec.columns" multiple filterable style="width:100%"><el-option v-for="c in columns" :key="c.value" :value="c.value" :label="c.label" /></el-select>
        </el-form-item>
      </el-form>
      <el-table v-if="result" :data="result.rows" size="small" border max-height="240" data-test="tf-result">
        <el-table-column v-for="(c, i) in result.columns" :key="c" :label="c" min-width="100"><template #default="{ row }">{{ row[i] }}</template></el-table-column>
      </el-table>
      <template #footer>
        <el-button data-test="tf-preview" @click="preview">{{ t('col.previewBtn') }}</el-button>
        <el-button type="primary" data-test="tf-save" @click="save">{{ t('col.saveRun') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
