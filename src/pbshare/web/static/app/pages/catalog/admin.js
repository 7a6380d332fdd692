// Catalog editions (named, dated sets of published versions) and the admin's custom attributes.
import { ref, reactive, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t, label, options } from "./labels.js";
import { api } from "../../api.js";
import { guardComponents } from "../../guard.js";
import { can } from "../../session.js";

export default {
  name: "CatalogAdminPage",
  components: { ...guardComponents },
  setup() {
    const editions = ref([]);
    const attrs = ref([]);
    const tab = ref("editions");
    const ed = reactive({ name: "", edition_date: new Date().toISOString().slice(0, 10), description: "" });
    const at = reactive({ code: "", label_zh: "", label_en: "", type: "string", required: false, optionsText: "" });
    const opened = ref(null);
    async function load() {
      editions.value = await api("/catalog/editions");
      attrs.value = await api("/catalog/attributes");
    }
    async function createEdition() {
      await api("/catalog/editions", { method: "POST", body: { name: ed.name, edition_date: ed.edition_date, description: ed.description || null } });
      ElMessage.success(t("cat.saved"));
      ed.name = "";
      load();
    }
    async function saveAttr() {
      const body = { code: at.code, label_zh: at.label_zh, label_en: at.label_en || at.label_zh, type: at.type, required: at.required, options: at.optionsText.split(/[;；]/).map((s) => s.trim()).filter(Boolean), position: attrs.value.length };
      await api(`/catalog/attributes/${encodeURIComponent(at.code)}`, { method: "PUT", body });
      ElMessage.success(t("cat.saved"));
      Object.assign(at, { code: "", label_zh: "", label_en: "", type: "string", required: false, optionsText: "" });
      load();
    }
    async function removeAttr(a) {
      await api(`/catalog/attributes/${encodeURIComponent(a.code)}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: a.label_zh }));
      load();
    }
    onMounted(load);
    return { t, label, options, editions, attrs, tab, ed, at, opened, createEdition, saveAttr, removeAttr, can };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.catalogAdmin') }}</h2>
    <el-tabs v-model="tab">
      <el-tab-pane :label="t('cat.editions')" name="editions">
        <p class="muted">{{ t('cat.editionHint') }}</p>
        <div v-if="can('catalog:write')" class="toolbar">
          <el-input v-model="ed.name" :placeholder="t('cat.editionName')" style="width:200px" data-test="edition-name" />
          <el-date-picker v-model="ed.edition_date" type="date" value-format="YYYY-MM-DD" />
          <el-button type="primary" :disabled="!ed.name" @click="createEdition" data-test="edition-create">{{ t('cat.newEdition') }}</el-button>
        </div>
        <el-table :data="editions" size="small" data-test="editions">
          <el-table-column prop="name" :label="t('cat.editionName')" min-width="140" />
          <el-table-column prop="edition_date" :label="t('cat.editionDate')" width="120" />
          <el-table-column :label="t('cat.resourcesIn')" width="100"><template #default="{ row }"><el-button link type="primary" @click="opened = row">{{ row.resources.length }}</el-button></template></el-table-column>
          <el-table-column prop="created_by" :label="t('cat.publishedBy')" width="110" />
        </el-table>
      </el-tab-pane>
      <el-tab-pane :label="t('cat.attributes')" name="attrs">
        <p class="muted">{{ t('cat.attrHint') }}</p>
        <div v-if="can('catalog:write')" class="toolbar">
          <el-input v-model="at.code" :placeholder="t('cat.attrCode')" style="width:140px" data-test="attr-code" />
          <el-input v-model="at.label_zh" :placeholder="t('cat.labelZh')" style="width:140px" data-test="attr-zh" />
          <el-input v-model="at.label_en" :placeholder="t('cat.labelEn')" style="width:140px" />
          <el-select v-model="at.type" style="width:120px"><el-option v-for="o in options('attr_type')" :key="o.value" :label="o.label" :value="o.value" /></el-select>
          <el-input v-if="at.type === 'enum'" v-model="at.optionsText" :placeholder="t('cat.options') + ' (;)'" style="width:180px" />
          <el-checkbox v-model="at.required">{{ t('cat.required') }}</el-checkbox>
          <el-button type="primary" :disabled="!at.code || !at.label_zh" @click="saveAttr" data-test="attr-save">{{ t('cat.addAttr') }}</el-button>
        </div>
        <el-table :data="attrs" size="small" data-test="attrs">
          <el-table-column prop="code" :label="t('cat.attrCode')" width="140" />
          <el-table-column prop="label_zh" :label="t('cat.labelZh')" />
          <el-table-column prop="label_en" :label="t('cat.labelEn')" />
          <el-table-column :label="t('cat.attrType')" width="100"><template #default="{ row }">{{ label('attr_type', row.type) }}</template></el-table-column>
          <el-table-column :label="t('cat.required')" width="70"><template #default="{ row }">{{ row.required ? t('common.yes') : t('common.no') }}</template></el-table-column>
          <el-table-column :label="t('cat.options')"><template #default="{ row }">{{ row.options.join('、') }}</template></el-table-column>
          <el-table-column v-if="can('catalog:write')" width="80"><template #default="{ row }"><guarded-button link type="danger" @click="removeAttr(row)" :confirm="t('guard.deleteAsk', { n: row.label_zh })" :confirm-text="t('guard.delete')" :data-test="'attr-delete-' + row.code">{{ t('cat.delete') }}</guarded-button></template></el-table-column>
        </el-table>
      </el-tab-pane>
    </el-tabs>
    <el-dialog :model-value="!!opened" @update:model-value="opened = null" :title="opened?.name" width="600px" style="max-width:96vw">
      <el-table v-if="opened" :data="opened.resources" size="small"><el-table-column prop="code" :label="t('cat.code')" width="100" /><el-table-column prop="name" :label="t('cat.name')" /><el-table-column prop="version" :label="t('cat.version')" width="70" /></el-table>
    </el-dialog>
  </div>`,
};
