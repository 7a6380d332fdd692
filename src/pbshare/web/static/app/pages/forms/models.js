// The data models list: each model's table, published version and links to its designer and records; a new
// model (code and title) opens in the designer.
import { ref, reactive, onMounted } from "vue";
import { useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";

export default {
  name: "FormModelsPage",
  setup() {
    const router = useRouter();
    const items = ref([]);
    const loading = ref(false);
    const dlg = reactive({ open: false, code: "", title: "" });
    async function load() {
      loading.value = true;
      try { items.value = await api("/forms/models"); } finally { loading.value = false; }
    }
    onMounted(load);
    async function create() {
      if (!dlg.code.trim() || !dlg.title.trim()) { ElMessage.error(t("fm.needCodeTitle")); return; }
      const m = await api("/forms/models", { method: "POST", body: { code: dlg.code.trim(), title: dlg.title.trim() } });
      dlg.open = false;
      router.push(`/forms/${m.code}/design`);
    }
    return { t, items, loading, dlg, create, can, router };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('fm.models') }}</h2>
    <p class="muted">{{ t('fm.modelsHint') }}</p>
    <div class="toolbar">
      <el-button v-if="can('forms:design')" type="primary" @click="dlg.open = true" data-test="fm-new-model">{{ t('fm.new') }}</el-button>
    </div>
    <el-empty v-if="!loading && !items.length" :description="t('fm.none')" />
    <el-table v-else :data="items" size="small" border v-loading="loading" data-test="fm-models">
      <el-table-column prop="title" :label="t('fm.title')" min-width="160" />
      <el-table-column prop="code" :label="t('fm.code')" width="140" />
      <el-table-column :label="t('fm.table')" min-width="150"><template #default="{ row }">{{ row.table_title || row.title }}</template></el-table-column>
      <el-table-column :label="t('fm.version')" width="120">
        <template #default="{ row }">
          <el-tag v-if="row.published_version" type="success" size="small">v{{ row.published_version }}</el-tag>
          <el-tag v-else type="info" size="small">{{ t('fm.unpublished') }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column :label="t('common.actions')" width="170">
        <template #default="{ row }">
          <el-button v-if="can('forms:design')" link type="primary" @click="router.push('/forms/' + row.code + '/design')" :data-test="'fm-design-' + row.code">{{ t('fm.design') }}</el-button>
          <el-button link type="primary" :disabled="!row.published_version" @click="router.push('/forms/' + row.code + '/records')" :data-test="'fm-records-' + row.code">{{ t('fm.records') }}</el-button>
        </template>
      </el-table-column>
    </el-table>
    <el-dialog v-model="dlg.open" :title="t('fm.new')" width="min(460px, 96vw)">
      <el-form label-position="top" @submit.prevent>
        <el-form-item :label="t('fm.title')"><el-input v-model="dlg.title" data-test="fm-model-title" /></el-form-item>
        <el-form-item :label="t('fm.code')">
          <el-input v-model="dlg.code" data-test="fm-model-code" />
          <div class="muted" style="font-size:12px">{{ t('fm.codeHint') }}</div>
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dlg.open = false">{{ t('common.cancel') }}</el-button>
        <el-button type="primary" @click="create" data-test="fm-model-create">{{ t('common.create') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
