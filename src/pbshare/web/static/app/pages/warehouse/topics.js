// Topic databases (专题库) and their tables; browse a table's rows with personal identifiers masked: search, column
// filters, sorting and an Excel export of what the search shows (server side, the table may be large).
import { ref, reactive, computed, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { tableComponents } from "../../tables.js";
import { fmtValue } from "../../format.js";
import "../collect/labels.js";

register({
  "wh.filterCol": ["筛选列", "Filter column"],
  "wh.filterText": ["包含文字", "Contains"],
  "wh.addFilter": ["添加筛选", "Add filter"],
  "wh.sealed": ["加密保存的个人标识，不能搜索、筛选或排序", "A sealed personal identifier: not searched, filtered or sorted"],
  "wh.topicCreated": ["已创建专题库“{n}”", "Created the topic database “{n}”"],
});

const enc = encodeURIComponent;

export default {
  name: "TopicsPage",
  components: { ...tableComponents },
  setup() {
    const topics = ref([]);
    const tables = ref([]);
    const current = ref(null);
    const form = reactive({ open: false, name: "", title: "", description: "" });
    const view = reactive({ open: false, table: null, data: null, query: { q: "", page: 1, size: 50, sort: null, order: null },
      filters: [], filterCol: "", filterText: "" });
    async function load() {
      topics.value = await api("/warehouse/topics");
      if (!current.value && topics.value.length) pick(topics.value[0]);
    }
    async function pick(tp) { current.value = tp; tables.value = await api(`/warehouse/tables?topic=${tp.name}`); }
    async function create() {
      await api("/warehouse/topics", { method: "POST", body: { name: form.name, title: form.title, description: form.description || null } });
      ElMessage.success(t("wh.topicCreated", { n: form.title }));
      form.open = false; form.name = ""; form.title = "";
      load();
    }
    function params(withPage) {
      const q = view.query; const p = new URLSearchParams();
      if (q.q) p.set("q", q.q);
      for (const f of view.filters) p.append("where", `${f.col}=${f.text}`);
      if (q.sort) { p.set("sort", q.sort); p.set("order", q.order || "asc"); }
      if (withPage) { p.set("page", q.page); p.set("size", q.size); }
      return p.toString();
    }
    async function fetchRows() {
      const tb = view.table;
      view.data = await api(`/warehouse/tables/${enc(tb.topic)}/${enc(tb.name)}/rows?${params(true)}`);
    }
    async function browse(tb) {
      view.table = tb; view.data = null; view.filters = []; view.filterCol = ""; view.filterText = "";
      view.query = { q: "", page: 1, size: 50, sort: null, order: null };
      await fetchRows();
      view.open = true;
    }
    function onQuery(q) { view.query = q; fetchRows(); }
    function addFilter() {
      if (!view.filterCol || !view.filterText.trim()) return;
      view.filters.push({ col: view.filterCol, text: view.filterText.trim() }); view.filterText = "";
      view.query.page = 1; fetchRows();
    }
    function dropFilter(i) { view.filters.splice(i, 1); view.query.page = 1; fetchRows(); }
    const colTitle = (name) => view.data?.columns.find((c) => c.name === name)?.title || name;
    const exportUrl = () => `/api/v1/warehouse/tables/${enc(view.table.topic)}/${enc(view.table.name)}/export.xlsx?${params(false)}`;
    const filterable = computed(() => (view.data?.columns || []).filter((c) => !c.sealed));
    onMounted(load);
    return { t, topics, tables, current, form, view, pick, create, browse, can, onQuery, addFilter, dropFilter, colTitle, exportUrl, filterable, fmtValue };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('wh.title') }}</h2>
    <div class="toolbar">
      <el-radio-group v-if="topics.length" :model-value="current?.name" data-test="topics">
        <el-radio-button v-for="tp in topics" :key="tp.name" :value="tp.name" @click="pick(tp)">{{ tp.title }} ({{ tp.tables }})</el-radio-button>
      </el-radio-group>
      <el-button v-if="can('warehouse:write')" type="primary" data-test="new-topic" @click="form.open = true">{{ t('wh.newTopic') }}</el-button>
    </div>
    <el-alert v-if="!topics.length" type="info" :closable="false" :title="t('wh.noTopic')" />
    <list-table v-else :data="tables" :name="current ? current.title : t('wh.title')" stripe data-test="wh-tables">
      <el-table-column prop="title" sortable="custom" :label="t('col.title')" min-width="160"><template #default="{ row }">{{ row.title }} <span class="muted">{{ row.name }}</span></template></el-table-column>
      <el-table-column :label="t('wh.origin')" sortable="custom" sort-by="origin" width="110"><template #default="{ row }">{{ t('wh.origin.' + row.origin) }}</template></el-table-column>
      <el-table-column prop="row_count" sortable="custom" :label="t('col.rows')" width="100" />
      <el-table-column :label="t('common.actions')" width="120" fixed="right"><template #default="{ row }"><el-button link type="primary" :data-test="'browse-' + row.name" @click="browse(row)">{{ t('wh.browse') }}</el-button></template></el-table-column>
    </list-table>
    <el-dialog v-model="form.open" :title="t('wh.newTopic')" width="460px">
      <el-form label-width="90px">
        <el-form-item :label="t('col.name')"><el-input v-model="form.name" placeholder="case" data-test="topic-name" /></el-form-item>
        <el-form-item :label="t('col.title')"><el-input v-model="form.title" data-test="topic-title" /></el-form-item>
      </el-form>
      <template #footer><el-button type="primary" data-test="topic-save" @click="create">{{ t('col.save') }}</el-button></template>
    </el-dialog>
    <el-dialog v-model="view.open" :title="view.table ? view.table.title : ''" width="92%" top="4vh">
      <p class="muted">{{ t('wh.masked') }}</p>
      <list-table v-if="view.data" remote :data="view.data.rows" :total="view.data.total" :page-size="50" :name="view.table.title || view.table.name"
        :export-url="exportUrl" :sticky-actions="false" @query="onQuery" size="small" border max-height="520" data-test="wh-rows">
        <template #tools>
          <el-select v-model="view.filterCol" :placeholder="t('wh.filterCol')" style="width:150px" data-test="wh-filter-col">
            <el-option v-for="c in filterable" :key="c.name" :value="c.name" :label="c.title" />
          </el-select>
          <el-input v-model="view.filterText" :placeholder="t('wh.filterText')" style="width:150px" data-test="wh-filter-text" @keyup.enter="addFilter" />
          <el-button @click="addFilter" :disabled="!view.filterCol || !view.filterText.trim()" data-test="wh-filter-add">{{ t('wh.addFilter') }}</el-button>
          <el-tag v-for="(f, i) in view.filters" :key="i" closable @close="dropFilter(i)" data-test="wh-filter">{{ colTitle(f.col) }} ∋ {{ f.text }}</el-tag>
        </template>
        <el-table-column v-for="c in view.data.columns" :key="c.name" :prop="c.name" :label="c.title" min-width="120" show-overflow-tooltip
          :sortable="c.sealed ? false : 'custom'">
          <template #header><el-tooltip v-if="c.sealed" :content="t('wh.sealed')"><span>{{ c.title }} 🔒</span></el-tooltip><span v-else>{{ c.title }}</span></template>
          <template #default="{ row }">{{ fmtValue(row[c.name], c.type) }}</template>
        </el-table-column>
      </list-table>
    </el-dialog>
  </div>`,
};
