// Metadata types and their attributes, defined by the admin.
import { ref, reactive, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t, lang } from "../../i18n.js";
import { api } from "../../api.js";
import { guardComponents } from "../../guard.js";
import { tableComponents } from "../../tables.js";
import { can } from "../../session.js";
import { options } from "../catalog/labels.js";
import "./labels.js";

export default {
  name: "MetaTypesPage",
  components: { ...guardComponents, ...tableComponents },
  setup() {
    const rows = ref([]);
    const form = reactive({ open: false, isNew: false, code: "", name_zh: "", name_en: "", attributes: [] });
    async function load() { rows.value = await api("/metadata/types"); }
    function edit(row) {
      Object.assign(form, { open: true, isNew: !row, code: row?.code || "", name_zh: row?.name_zh || "", name_en: row?.name_en || "",
        attributes: (row?.attributes || []).map((a) => ({ ...a, optionsText: (a.options || []).join(";") })) });
    }
    async function save() {
      const body = { name_zh: form.name_zh, name_en: form.name_en || form.name_zh, attributes: form.attributes.filter((a) => a.code).map((a) => ({ code: a.code, label_zh: a.label_zh || a.code, label_en: a.label_en || a.label_zh || a.code, type: a.type, required: !!a.required, options: (a.optionsText || "").split(/[;；]/).map((s) => s.trim()).filter(Boolean) })) };
      await api(`/metadata/types/${encodeURIComponent(form.code)}`, { method: "PUT", body });
      ElMessage.success(t("cat.saved"));
      form.open = false; load();
    }
    async function remove(row) {
      await api(`/metadata/types/${row.code}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: row.code })); load();
    }
    onMounted(load);
    return { t, lang, options, rows, form, edit, save, remove, can };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('md.types') }}</h2>
    <p class="muted">{{ t('md.typeHint') }}</p>
    <div class="toolbar"><el-button v-if="can('metadata:write')" type="primary" @click="edit(null)" data-test="type-new">{{ t('md.newType') }}</el-button></div>
    <list-table :data="rows" :name="t('nav.metaTypes')" stripe data-test="types">
      <el-table-column prop="code" sortable="custom" :label="t('md.code')" width="120" />
      <el-table-column :label="t('md.name')" min-width="120"><template #default="{ row }">{{ lang === 'en' ? row.name_en : row.name_zh }}</template></el-table-column>
      <el-table-column :label="t('md.builtin')" width="70"><template #default="{ row }">{{ row.builtin ? '✓' : '' }}</template></el-table-column>
      <el-table-column :label="t('md.attributes')" min-width="200"><template #default="{ row }">{{ row.attributes.map((a) => a.label_zh + (a.required ? '*' : '')).join('、') }}</template></el-table-column>
      <el-table-column v-if="can('metadata:write')" :label="t('common.actions')" width="140" fixed="right"><template #default="{ row }">
        <el-button link type="primary" @click="edit(row)" :data-test="'type-edit-' + row.code">{{ t('common.edit') }}</el-button>
        <guarded-button v-if="!row.builtin" link type="danger" @click="remove(row)" :confirm="t('guard.deleteAsk', { n: row.code })" :confirm-text="t('guard.delete')" :data-test="'type-delete-' + row.code">{{ t('md.delete') }}</guarded-button></template></el-table-column>
    </list-table>
    <el-dialog v-model="form.open" :title="form.isNew ? t('md.newType') : t('md.editType', { c: form.code })" width="760px" style="max-width:96vw">
      <el-form label-width="100px">
        <el-form-item :label="t('md.code')" required><el-input v-model="form.code" :disabled="!form.isNew" /></el-form-item>
        <el-form-item :label="t('md.nameZh')" required><el-input v-model="form.name_zh" /></el-form-item>
        <el-form-item :label="t('md.nameEn')"><el-input v-model="form.name_en" /></el-form-item>
        <el-form-item :label="t('md.attributes')">
          <div v-for="(a, n) in form.attributes" :key="n" class="toolbar" style="margin-bottom:4px">
            <el-input v-model="a.code" :placeholder="t('md.code')" style="width:100px" />
            <el-input v-model="a.label_zh" :placeholder="t('md.nameZh')" style="width:110px" />
            <el-select v-model="a.type" style="width:110px"><el-option v-for="o in options('attr_type')" :key="o.value" :label="o.label" :value="o.value" /></el-select>
            <el-input v-if="a.type === 'enum'" v-model="a.optionsText" :placeholder="t('md.options')" style="width:140px" />
            <el-checkbox v-model="a.required">{{ t('md.required') }}</el-checkbox>
            <el-button link type="danger" @click="form.attributes.splice(n, 1)">✕</el-button>
          </div>
          <el-button size="small" @click="form.attributes.push({ code: '', label_zh: '', type: 'string', required: false, optionsText: '' })">{{ t('md.addAttr') }}</el-button>
        </el-form-item>
      </el-form>
      <template #footer><el-button @click="form.open = false">{{ t('common.cancel') }}</el-button><el-button type="primary" :disabled="!form.code || !form.name_zh" @click="save">{{ t('common.save') }}</el-button></template>
    </el-dialog>
  </div>`,
};
