// Topic databases (专题库) and their tables; browse a table's rows with personal identifiers masked.
import { ref, reactive, onMounted } from "vue";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import "../collect/labels.js";

export default {
  name: "TopicsPage",
  setup() {
    const topics = ref([]);
    const tables = ref([]);
    const current = ref(null);
    const form = reactive({ open: false, name: "", title: "", description: "" });
    const view = reactive({ open: false, table: null, data: null, page: 1 });
    async function load() {
      topics.value = await api("/warehouse/topics");
      if (!current.value && topics.value.length) pick(topics.value[0]);
    }
    async function pick(tp) { current.value = tp; tables.value = await api(`/warehouse/tables?topic=${tp.name}`); }
    async function create() {
      await api("/warehouse/topics", { method: "POST", body: { name: form.name, title: form.title, description: form.description || null } });
      form.open = false; form.name = ""; form.title = "";
      load();
    }
    async function browse(tb, page = 1) {
      view.table = tb; view.page = page;
      view.data = await api(`/warehouse/tables/${tb.topic}/${tb.name}/rows?page=${page}&size=50`);
      view.open = true;
    }
    onMounted(load);
    return { t, topics, tables, current, form, view, pick, create, browse, can };
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
    <el-table v-else :data="tables" stripe :empty-text="t('common.empty')" data-test="wh-tables">
      <el-table-column :label="t('col.title')" min-width="160"><template #default="{ row }">{{ row.title }} <span class="muted">{{ row.name }}</span></template></el-table-column>
      <el-table-column :label="t('wh.origin')" width="110"><template #default="{ row }">{{ t('wh.origin.' + row.origin) }}</template></el-table-column>
      <el-table-column prop="row_count" :label="t('col.rows')" width="100" />
      <el-table-column :label="t('common.actions')" width="120"><template #default="{ row }"><el-button link type="primary" :data-test="'browse-' + row.name" @click="browse(row)">{{ t('wh.browse') }}</el-button></template></el-table-column>
    </el-table>
    <el-dialog v-model="form.open" :title="t('wh.newTopic')" width="460px">
      <el-form label-width="90px">
        <el-form-item :label="t('col.name')"><el-input v-model="form.name" placeholder="case" data-test="topic-name" /></el-form-item>
        <el-form-item :label="t('col.title')"><el-input v-model="form.title" data-test="topic-title" /></el-form-item>
      </el-form>
      <template #footer><el-button type="primary" data-test="topic-save" @click="create">{{ t('col.save') }}</el-button></template>
    </el-dialog>
    <el-dialog v-model="view.open" :title="view.table ? view.table.title : ''" width="92%" top="4vh">
      <p class="muted">{{ t('wh.masked') }}</p>
      <el-table v-if="view.data" :data="view.data.rows" size="small" border max-height="520" data-test="wh-rows">
        <el-table-column v-for="c in view.data.columns" :key="c.name" :prop="c.name" :label="c.title" min-width="120" show-overflow-tooltip />
      </el-table>
      <el-pagination v-if="view.data" style="margin-top:8px" small layout="prev, pager, next, total" :total="view.data.total" :current-page="view.page" :page-size="50" @current-change="(p) => browse(view.table, p)" />
    </el-dialog>
  </div>`,
};
