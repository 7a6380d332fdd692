// The searchable data dictionary: harvested tables and columns, the tables imported into topic databases and the
// catalog's info items. A qualified name is the technical name on purpose (data-raw).
import { ref } from "vue";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { labelOf, hasLabel } from "../../labels.js";
import "./labels.js";

export default {
  name: "DictionaryPage",
  setup() {
    const q = ref("");
    const kind = ref("");
    const rows = ref([]);
    const loading = ref(false);
    const searched = ref(false);
    async function search() {
      if (!q.value.trim()) return;
      loading.value = true;
      try {
        const params = new URLSearchParams({ q: q.value.trim() });
        if (kind.value) params.set("kind", kind.value);
        rows.value = await api(`/metadata/dictionary?${params}`);
        searched.value = true;
      } finally { loading.value = false; }
    }
    return { t, q, kind, rows, loading, searched, search, labelOf, hasLabel };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('md.dictionary') }}</h2>
    <div class="toolbar">
      <el-input v-model="q" :placeholder="t('md.search')" clearable @keyup.enter="search" data-test="dict-q" />
      <el-select v-model="kind" clearable :placeholder="t('md.kind')" style="width:130px">
        <el-option :label="t('md.k.table')" value="table" /><el-option :label="t('md.k.column')" value="column" /><el-option :label="t('md.k.item')" value="item" />
      </el-select>
      <el-button type="primary" @click="search" data-test="dict-search">{{ t('common.search') }}</el-button>
    </div>
    <el-table v-if="searched" :data="rows" v-loading="loading" stripe :empty-text="t('common.empty')" data-test="dict-results">
      <el-table-column :label="t('md.kind')" width="100"><template #default="{ row }">{{ t('md.k.' + row.kind) }}</template></el-table-column>
      <el-table-column :label="t('md.qualified')" min-width="240"><template #default="{ row }"><span data-raw>{{ row.qualified_name }}</span></template></el-table-column>
      <el-table-column prop="comment" :label="t('md.comment')" min-width="160" />
      <el-table-column :label="t('md.type')" width="120" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ row.data_type && hasLabel('fieldType', row.data_type) ? labelOf('fieldType', row.data_type) : row.data_type }}</template></el-table-column>
      <el-table-column :label="t('md.rows')" width="90" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ row.row_count ?? '' }}</template></el-table-column>
    </el-table>
  </div>`,
};
