// Resource editor: core metadata, info items, custom attributes; "Check" lists every problem before saving.
import { ref, reactive, computed, onMounted } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t, label, options } from "./labels.js";
import { api, ApiError } from "../../api.js";
import { useFieldErrors } from "../../fielderrors.js";
import { lang } from "../../i18n.js";

function blank() {
  return { code: "", name: "", classification: "", abstract: "", provider: "", direction: "inbound", receivers: [], share_type: "conditional", share_condition: "", method: ["api"], open_scope: "not_public", frequency: "daily", format: "api", key: [], related: [], attributes: {}, items: [] };
}

export default {
  name: "ResourceEditorPage",
  setup() {
    const route = useRoute();
    const router = useRouter();
    const editing = computed(() => !!route.params.code);
    const form = reactive(blank());
    const units = ref([]);
    const attrs = ref([]);
    const problems = ref([]);
    const checked = ref(false);
    const saving = ref(false);
    onMounted(async () => {
      units.value = await api("/catalog/units");
      attrs.value = await api("/catalog/attributes");
      if (editing.value) {
        const res = await api(`/catalog/resources/${route.params.code}`);
        Object.assign(form, blank(), res.document);
        form.items = res.document.items.map((i) => ({ ...i, valuesText: (i.values || []).join(";") }));
      }
    });
    function addItem() { form.items.push({ code: "", name: "", type: "string", length: null, description: "", pii: false, id_kind: null, valuesText: "" }); }
    function removeItem(n) { form.items.splice(n, 1); }
    function payload() {
      const out = { ...form };
      out.classification = form.classification || null;
      out.abstract = form.abstract || null;
      out.share_condition = form.share_condition || null;
      out.receivers = form.direction === "outbound" ? form.receivers : [];
      const a = {};
      for (const [k, v] of Object.entries(form.attributes)) if (v !== "" && v !== null && v !== undefined) a[k] = v;
      out.attributes = a;
      out.items = form.items.map((i) => {
        const item = { code: i.code, name: i.name, type: i.type, pii: !!i.pii };
        if (i.length) item.length = Number(i.length);
        if (i.description) item.description = i.description;
        if (i.id_kind) item.id_kind = i.id_kind;
        const vals = (i.valuesText || "").split(/[;；]/).map((s) => s.trim()).filter(Boolean);
        if (vals.length) item.values = vals;
        return item;
      });
      return out;
    }
    // each problem at its field ("items[3].values" at that item's allowed values), scrolled into view; what names
    // no field on the form stays in the list above it
    const fe = useFieldErrors();
    function place(list) {
      const err = { detail: list, message: "" };
      fe.show(err);
      problems.value = err.unplaced;
    }
    async function check() {
      const r = await api("/catalog/resources/validate", { method: "POST", body: payload() });
      place(r.problems); checked.value = true;
      if (r.ok) ElMessage.success(t("cat.valid"));
      return r.ok;
    }
    async function save() {
      saving.value = true;
      try {
        if (!(await check())) return;
        const body = payload();
        const res = editing.value
          ? await api(`/catalog/resources/${route.params.code}`, { method: "PUT", body })
          : await api("/catalog/resources", { method: "POST", body });
        ElMessage.success(t("cat.saved"));
        router.push(`/catalog/r/${res.document.code}`);
      } catch (e) {
        if (e instanceof ApiError && Array.isArray(e.detail)) place(e.detail);
      } finally { saving.value = false; }
    }
    const itemCodes = computed(() => form.items.map((i) => i.code).filter(Boolean));
    const attrLabel = (a) => (lang.value === "en" ? a.label_en : a.label_zh);
    return { t, fe, label, options, form, units, attrs, problems, checked, saving, editing, addItem, removeItem, check, save, itemCodes, attrLabel, route };
  },
  template: `
  <div>
    <h2 class="page-title">{{ editing ? t('cat.editTitle', { c: route.params.code }) : t('cat.newTitle') }}</h2>
    <el-alert v-if="problems.length" type="error" :closable="false" :title="t('cat.problems')" style="margin-bottom:12px" data-test="editor-problems">
      <div v-for="(p, n) in problems" :key="n">{{ p.label ? p.label + '：' : '' }}{{ p.message }}</div>
    </el-alert>
    <el-form :ref="fe.form" label-width="110px" class="editor-form">
      <el-row :gutter="12">
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.code')" prop="code" required><el-input v-model="form.code" :disabled="editing" placeholder="201009" data-test="ed-code" /></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.classification')" prop="classification"><el-input v-model="form.classification" :placeholder="form.code ? form.code.slice(0, -3) : ''" /></el-form-item></el-col>
        <el-col :span="24"><el-form-item :label="t('cat.name')" prop="name" required><el-input v-model="form.name" data-test="ed-name" /></el-form-item></el-col>
        <el-col :span="24"><el-form-item :label="t('cat.abstract')" prop="abstract"><el-input v-model="form.abstract" type="textarea" :rows="2" data-test="ed-abstract" /></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.provider')" prop="provider" required>
          <el-select v-model="form.provider" filterable style="width:100%" data-test="ed-provider"><el-option v-for="u in units" :key="u.code" :label="u.name + ' (' + u.code + ')'" :value="u.code" /></el-select></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.direction')" prop="direction">
          <el-radio-group v-model="form.direction"><el-radio v-for="o in options('direction')" :key="o.value" :value="o.value">{{ o.label }}</el-radio></el-radio-group></el-form-item></el-col>
        <el-col v-if="form.direction === 'outbound'" :span="24"><el-form-item :label="t('cat.receivers')" prop="receivers">
          <el-select v-model="form.receivers" multiple filterable style="width:100%"><el-option v-for="u in units" :key="u.code" :label="u.name" :value="u.code" /></el-select></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.shareType')" prop="share_type">
          <el-select v-model="form.share_type" style="width:100%"><el-option v-for="o in options('share_type')" :key="o.value" :label="o.label" :value="o.value" /></el-select></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.shareCondition')" prop="share_condition"><el-input v-model="form.share_condition" data-test="ed-condition" /></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.method')" prop="method">
          <el-checkbox-group v-model="form.method"><el-checkbox v-for="o in options('method')" :key="o.value" :value="o.value">{{ o.label }}</el-checkbox></el-checkbox-group></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.openScope')" prop="open_scope">
          <el-select v-model="form.open_scope" style="width:100%"><el-option v-for="o in options('open_scope')" :key="o.value" :label="o.label" :value="o.value" /></el-select></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.frequency')" prop="frequency">
          <el-select v-model="form.frequency" style="width:100%"><el-option v-for="o in options('frequency')" :key="o.value" :label="o.label" :value="o.value" /></el-select></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.format')" prop="format">
          <el-select v-model="form.format" style="width:100%"><el-option v-for="o in options('format')" :key="o.value" :label="o.label" :value="o.value" /></el-select></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.key')" prop="key">
          <el-select v-model="form.key" multiple style="width:100%" data-test="ed-key"><el-option v-for="c in itemCodes" :key="c" :label="c" :value="c" /></el-select></el-form-item></el-col>
        <el-col :xs="24" :md="12"><el-form-item :label="t('cat.related')" prop="related">
          <el-select v-model="form.related" multiple filterable allow-create default-first-option style="width:100%" /></el-form-item></el-col>
      </el-row>
      <template v-if="attrs.length">
        <h3>{{ t('cat.customAttrs') }}</h3>
        <el-row :gutter="12">
          <el-col v-for="a in attrs" :key="a.code" :xs="24" :md="12"><el-form-item :label="attrLabel(a)" :required="a.required" :prop="'attributes.' + a.code">
            <el-input-number v-if="a.type === 'number'" v-model="form.attributes[a.code]" />
            <el-switch v-else-if="a.type === 'boolean'" v-model="form.attributes[a.code]" />
            <el-date-picker v-else-if="a.type === 'date'" v-model="form.attributes[a.code]" type="date" value-format="YYYY-MM-DD" />
            <el-select v-else-if="a.type === 'enum'" v-model="form.attributes[a.code]" clearable><el-option v-for="o in a.options" :key="o" :label="o" :value="o" /></el-select>
            <el-input v-else v-model="form.attributes[a.code]" :type="a.type === 'text' ? 'textarea' : 'text'" :data-test="'ed-attr-' + a.code" />
          </el-form-item></el-col>
        </el-row>
      </template>
      <h3>{{ t('cat.items') }}</h3>
      <el-table :data="form.items" size="small" data-test="ed-items">
        <el-table-column :label="t('cat.itemCode')" min-width="130"><template #default="{ row, $index }"><el-form-item :prop="'items[' + $index + '].code'" label-width="0" class="cell-item"><el-input v-model="row.code" size="small" :data-test="'item-code-' + $index" /></el-form-item></template></el-table-column>
        <el-table-column :label="t('cat.itemName')" min-width="140"><template #default="{ row, $index }"><el-form-item :prop="'items[' + $index + '].name'" label-width="0" class="cell-item"><el-input v-model="row.name" size="small" :data-test="'item-name-' + $index" /></el-form-item></template></el-table-column>
        <el-table-column :label="t('cat.itemType')" width="110"><template #default="{ row, $index }"><el-form-item :prop="'items[' + $index + '].type'" label-width="0" class="cell-item"><el-select v-model="row.type" size="small" :data-test="'item-type-' + $index"><el-option v-for="o in options('type')" :key="o.value" :label="o.label" :value="o.value" /></el-select></el-form-item></template></el-table-column>
        <el-table-column :label="t('cat.length')" width="90"><template #default="{ row, $index }"><el-form-item :prop="'items[' + $index + '].length'" label-width="0" class="cell-item"><el-input v-model="row.length" size="small" :data-test="'item-length-' + $index" /></el-form-item></template></el-table-column>
        <el-table-column :label="t('cat.pii')" width="80"><template #default="{ row }"><el-checkbox v-model="row.pii" /></template></el-table-column>
        <el-table-column :label="t('cat.idKind')" width="150"><template #default="{ row }"><el-select v-model="row.id_kind" size="small" clearable><el-option v-for="o in options('id_kind')" :key="o.value" :label="o.label" :value="o.value" /></el-select></template></el-table-column>
        <el-table-column :label="t('cat.values')" min-width="150"><template #default="{ row, $index }"><el-form-item :prop="'items[' + $index + '].values'" label-width="0" class="cell-item"><el-input v-model="row.valuesText" size="small" :placeholder="t('cat.valuesHint')" :data-test="'item-values-' + $index" /></el-form-item></template></el-table-column>
        <el-table-column :label="t('cat.description')" min-width="120"><template #default="{ row }"><el-input v-model="row.description" size="small" /></template></el-table-column>
        <el-table-column width="60"><template #default="{ $index }"><el-button link type="danger" @click="removeItem($index)">✕</el-button></template></el-table-column>
      </el-table>
      <el-button style="margin-top:8px" @click="addItem" data-test="ed-add-item">{{ t('cat.addItem') }}</el-button>
      <div class="toolbar" style="margin-top:16px">
        <el-button @click="check" data-test="ed-check">{{ t('cat.validate') }}</el-button>
        <el-button type="primary" :loading="saving" @click="save" data-test="ed-save">{{ t('common.save') }}</el-button>
        <el-button @click="$router.back()">{{ t('common.cancel') }}</el-button>
      </div>
    </el-form>
  </div>`,
};
