// A model's form as people fill it in (FormView, also the designer's preview), the records list (filters on
// every field with every operator, sort, paging, columns, trash, history, Excel) and the record page.
import { ref, reactive, computed, onMounted, watch, provide, inject } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage, ElMessageBox } from "element-plus";
import { can } from "../../session.js";
import { t } from "../../i18n.js";
import { api, ApiError } from "../../api.js";
import { guardComponents } from "../../guard.js";
import { OPS, isVisible, isRequired, fmt } from "./labels.js";
import { fmtValue } from "../../format.js";

const FieldInput = {
  name: "FieldInput",
  props: ["f", "modelValue"],
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const value = computed({ get: () => props.modelValue, set: (v) => emit("update:modelValue", v) });
    const choices = ref([]);
    async function search(q) {
      if (!props.f.ref_model) return;
      choices.value = await api(`/forms/models/${props.f.ref_model}/choices?q=${encodeURIComponent(q || "")}`, { quiet: true }).catch(() => []);
    }
    const rows = computed(() => (Array.isArray(props.modelValue) ? props.modelValue : []));
    function addRow() { emit("update:modelValue", [...rows.value, {}]); }
    function removeRow(i) { emit("update:modelValue", rows.value.filter((_, j) => j !== i)); }
    onMounted(() => { if (props.f.type === "reference") search(""); });
    const code = inject("formCode", ref(""));
    const uploading = ref(false);
    async function upload(file) {
      if (!file || !code.value) return;
      const form = new FormData();
      form.append("file", file);
      uploading.value = true;
      try { emit("update:modelValue", await api(`/forms/models/${code.value}/attachments`, { method: "POST", form })); }
      finally { uploading.value = false; }
    }
    const href = computed(() => (props.modelValue && props.modelValue.id && code.value
      ? `/api/v1/forms/models/${code.value}/attachments/${props.modelValue.id}?name=${encodeURIComponent(props.modelValue.name || "")}` : ""));
    return { t, value, choices, search, rows, addRow, removeRow, upload, uploading, href };
  },
  template: `
  <div v-if="f.type === 'attachment'" :data-test="'fm-input-' + f.name">
    <a v-if="href" :href="href" target="_blank" rel="noopener">{{ modelValue.name }}</a>
    <span v-if="modelValue && modelValue.size" class="muted" style="margin:0 6px">{{ Math.ceil(modelValue.size / 1024) }} KB</span>
    <file-pick accept=".pdf,.png,.jpg,.jpeg,.gif,.docx,.xlsx,.ofd" :show-name="false" :loading="uploading" @pick="upload" />
  </div>
  <el-input v-else-if="['text','email','phone','resident_id','uscc'].includes(f.type)" v-model="value" :placeholder="f.placeholder || ''" clearable :data-test="'fm-input-' + f.name" />
  <el-input v-else-if="f.type === 'long_text'" v-model="value" type="textarea" :rows="3" :placeholder="f.placeholder || ''" :data-test="'fm-input-' + f.name" />
  <el-input v-else-if="['integer','decimal','money'].includes(f.type)" v-model="value" inputmode="decimal" :placeholder="f.placeholder || ''" :data-test="'fm-input-' + f.name">
    <template v-if="f.type === 'money'" #append>元</template>
  </el-input>
  <el-date-picker v-else-if="f.type === 'date'" v-model="value" type="date" value-format="YYYY-MM-DD" style="width:100%" :data-test="'fm-input-' + f.name" />
  <el-date-picker v-else-if="f.type === 'datetime'" v-model="value" type="datetime" value-format="YYYY-MM-DDTHH:mm:ss" style="width:100%" :data-test="'fm-input-' + f.name" />
  <el-date-picker v-else-if="f.type === 'year_month'" v-model="value" type="month" value-format="YYYY-MM" style="width:100%" :data-test="'fm-input-' + f.name" />
  <el-checkbox v-else-if="f.type === 'boolean'" v-model="value" :data-test="'fm-input-' + f.name">{{ f.label }}</el-checkbox>
  <el-select v-else-if="f.type === 'select'" v-model="value" clearable :placeholder="t('fm.pick')" style="width:100%" :data-test="'fm-input-' + f.name">
    <el-option v-for="o in f.options" :key="o.value" :value="o.value" :label="o.label || o.value" />
  </el-select>
  <el-select v-else-if="f.type === 'multiselect'" v-model="value" multiple clearable :placeholder="t('fm.pick')" style="width:100%" :data-test="'fm-input-' + f.name">
    <el-option v-for="o in f.options" :key="o.value" :value="o.value" :label="o.label || o.value" />
  </el-select>
  <el-select v-else-if="f.type === 'reference'" v-model="value" filterable remote :remote-method="search" clearable :placeholder="t('fm.pick')" style="width:100%" :data-test="'fm-input-' + f.name">
    <el-option v-for="c in choices" :key="c.id" :value="c.id" :label="c.label" />
  </el-select>
  <div v-else-if="f.type === 'subtable'" :data-test="'fm-input-' + f.name">
    <div v-for="(r, i) in rows" :key="i" style="display:flex;gap:6px;margin-bottom:4px">
      <el-input v-for="s in f.sub_fields" :key="s.name" v-model="r[s.name]" :placeholder="s.label" size="small" />
      <el-button size="small" link type="danger" @click="removeRow(i)">✕</el-button>
    </div>
    <el-button size="small" @click="addRow">{{ t('fm.addRow') }}</el-button>
  </div>`,
};

const SectionGrid = {
  name: "SectionGrid",
  components: { FieldInput },
  props: ["section", "byName", "columns", "values", "errors"],
  setup(props) {
    const shown = computed(() => props.section.fields.map((n) => props.byName[n]).filter((f) => f && isVisible(f, props.values)));
    return { t, shown, isRequired };
  },
  template: `
  <div class="fm-grid" :style="{ gridTemplateColumns: 'repeat(' + columns + ', minmax(0, 1fr))' }">
    <div v-for="f in shown" :key="f.name" class="fm-cell" :style="{ gridColumn: 'span ' + Math.min(f.span || 1, columns) }" :data-test="'fm-field-' + f.name">
      <el-form-item :label="f.type === 'boolean' ? '' : f.label" :required="isRequired(f, values)" :error="errors[f.name] || ''" label-position="top">
        <field-input :f="f" v-model="values[f.name]" />
        <div v-if="f.help" class="muted" style="font-size:12px;line-height:1.4">{{ f.help }}</div>
      </el-form-item>
    </div>
  </div>`,
};

export const FormView = {
  name: "FormView",
  components: { SectionGrid },
  props: ["fields", "layout", "values", "errors", "code"],
  setup(props) {
    provide("formCode", computed(() => props.code || ""));
    const byName = computed(() => Object.fromEntries((props.fields || []).filter((f) => !f.deleted).map((f) => [f.name, f])));
    const sections = computed(() => (props.layout?.sections || []).filter((s) => s.fields.length));
    const tab = ref("");
    watch(sections, (s) => { if (s.length && !tab.value) tab.value = s[0].id; }, { immediate: true });
    const errs = computed(() => props.errors || {});
    return { byName, sections, tab, errs };
  },
  template: `
  <el-form label-position="top" @submit.prevent data-test="fm-form">
    <el-tabs v-if="layout && layout.tabs" v-model="tab">
      <el-tab-pane v-for="s in sections" :key="s.id" :name="s.id" :label="s.title">
        <section-grid :section="s" :by-name="byName" :columns="layout.columns || 1" :values="values" :errors="errs" />
      </el-tab-pane>
    </el-tabs>
    <template v-else>
      <div v-for="s in sections" :key="s.id">
        <h4 v-if="s.title" style="margin:6px 0">{{ s.title }}</h4>
        <section-grid :section="s" :by-name="byName" :columns="(layout && layout.columns) || 1" :values="values" :errors="errs" />
      </div>
    </template>
  </el-form>`,
};

export function checkRequired(fields, values) {
  const errors = {};
  for (const f of fields) {
    const v = values[f.name];
    if (isRequired(f, values) && (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length))) {
      errors[f.name] = t("fm.required") + "：" + f.label;
    }
  }
  return errors;
}

export function serverErrors(e) {
  const out = {};
  if (e instanceof ApiError && e.detail && Array.isArray(e.detail.errors)) {
    for (const x of e.detail.errors) if (x.field) out[x.field] = x.message;
  }
  return out;
}

async function download(path, name) {
  const res = await api(path, { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url; a.download = name; a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function cell(f, v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? t("fm.yes") : t("fm.no");
  if (f.type === "attachment" && typeof v === "object") return v.name || "";
  if (Array.isArray(v)) {
    if (f.type === "multiselect") return v.map((x) => (f.options || []).find((o) => o.value === x)?.label || x).join("、");
    return t("fm.nRows", { n: v.length });
  }
  if (f.type === "select") return (f.options || []).find((o) => o.value === v)?.label || v;
  // money 15,125.00 and grouped numbers (a datetime field holds the wall time the person entered: shown as entered)
  if (["money", "decimal", "integer"].includes(f.type)) return fmtValue(v, f.type);
  return String(v);
}

export const RecordsPage = {
  name: "FormRecordsPage",
  components: { ...guardComponents },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const code = computed(() => route.params.code);
    const model = ref(null);
    // in the form's layout order, as the Excel template and export have them
    const fields = computed(() => {
      const pub = model.value?.published;
      if (!pub) return [];
      const live = pub.fields.filter((f) => !f.deleted);
      const order = (pub.layout?.sections || []).flatMap((s) => s.fields);
      const rank = (f) => { const i = order.indexOf(f.name); return i < 0 ? order.length : i; };
      return [...live].sort((a, b) => rank(a) - rank(b));
    });
    const data = ref({ items: [], total: 0 });
    const q = reactive({ page: 1, size: 20, sortField: "", sortDir: "desc", trash: false, text: "" });
    const purpose = ref("");
    const filters = ref([]);
    const shownCols = ref([]);
    const loading = ref(false);
    const history = ref(null);
    const importErrors = ref([]);
    const visibleFields = computed(() => fields.value.filter((f) => !shownCols.value.length || shownCols.value.includes(f.name)));
    const needsTwo = (op) => op === "between";
    const noValue = (op) => op === "empty" || op === "not_empty";
    function filterParam() {
      return filters.value.filter((x) => x.field).map((x) => {
        const f = fields.value.find((y) => y.name === x.field);
        let value = x.value;
        if (needsTwo(x.op)) value = [x.value, x.value2];
        else if (x.op === "in") value = String(x.value || "").split(/[,，]/).map((s) => s.trim()).filter(Boolean);
        else if (f && f.type === "boolean" && !noValue(x.op)) value = ["true", "是", "1", true].includes(x.value);
        return { field: x.field, op: x.op, value };
      });
    }
    function params() {
      const p = new URLSearchParams({ page: q.page, size: q.size });
      const fl = filterParam();
      if (fl.length) p.set("filters", JSON.stringify(fl));
      if (q.sortField) p.set("sort", (q.sortDir === "desc" ? "-" : "") + q.sortField);
      if (q.trash) p.set("deleted", "true");
      if (q.text.trim()) p.set("q", q.text.trim());
      if (purpose.value) { p.set("unmask", "true"); p.set("purpose", purpose.value); }
      return p;
    }
    async function load() {
      if (!model.value?.published) return;
      loading.value = true;
      try { data.value = await api(`/forms/models/${code.value}/records?${params()}`); } finally { loading.value = false; }
    }
    async function init() {
      model.value = await api(`/forms/models/${code.value}`);
      await load();
    }
    onMounted(init);
    const addFilter = () => filters.value.push({ field: fields.value[0]?.name || "", op: "eq", value: "", value2: "" });
    const search = () => { q.page = 1; load(); };
    async function remove(row) {
      await api(`/forms/models/${code.value}/records/${row.id}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: "#" + row.id.slice(-6) }));
      await load();
    }
    async function restore(row) {
      await api(`/forms/models/${code.value}/records/${row.id}/restore`, { method: "POST" });
      await load();
    }
    async function showHistory(row) {
      history.value = { id: row.id, items: await api(`/forms/models/${code.value}/records/${row.id}/history`) };
    }
    const template = () => download(`/forms/models/${code.value}/template.xlsx`, `${code.value}-template.xlsx`);
    const exportXlsx = () => {
      const p = params(); p.delete("page"); p.delete("size"); p.delete("deleted"); p.delete("unmask"); p.delete("purpose"); p.delete("q");
      return download(`/forms/models/${code.value}/export.xlsx?${p}`, `${code.value}.xlsx`);
    };
    async function onImport(file) {
      if (!file) return;
      const form = new FormData();
      form.append("file", file);
      importErrors.value = [];
      try {
        const res = await api(`/forms/models/${code.value}/import`, { method: "POST", form, quiet: true });
        ElMessage.success(t("fm.imported", { n: res.imported }));
        await load();
      } catch (e) {
        if (e.detail && e.detail.errors) importErrors.value = e.detail.errors;
        ElMessage.error({ message: e.message, duration: 6000, showClose: true });
      }
    }
    const label = (f) => f.label;
    async function unmask() {
      const { value } = await ElMessageBox.prompt(t("fm.purposeAsk"), t("fm.unmask"), {
        inputPattern: /\S.{2,}\S/, inputErrorMessage: t("fm.purposeShort") });
      purpose.value = value.trim();
      await load();
    }
    async function remask() { purpose.value = ""; await load(); }
    return { t, code, model, fields, data, q, filters, shownCols, loading, history, importErrors, visibleFields, OPS,
      needsTwo, noValue, load, addFilter, search, remove, restore, showHistory, template, exportXlsx, onImport, cell,
      fmt, label, router, purpose, unmask, remask, can };
  },
  template: `
  <div v-if="model">
    <h2 class="page-title">{{ model.title }} · {{ t('fm.records') }}</h2>
    <el-alert v-if="!model.published" type="warning" :closable="false" :title="t('fm.notPublished')" />
    <template v-else>
      <p class="muted">
        <span v-if="!purpose">{{ t('fm.maskedHint') }}</span>
        <span v-else>{{ t('fm.unmaskedHint', { purpose }) }}</span>
        <el-button v-if="can('pii:unmask') && !purpose" link type="warning" @click="unmask" data-test="fm-unmask">{{ t('fm.unmask') }}</el-button>
        <el-button v-if="purpose" link @click="remask">{{ t('fm.remask') }}</el-button>
      </p>
      <div class="toolbar" style="flex-wrap:wrap;gap:6px">
        <el-button type="primary" @click="router.push('/forms/' + code + '/new')" data-test="fm-new-record">{{ t('fm.newRecord') }}</el-button>
        <el-button @click="template" data-test="fm-template">{{ t('fm.template') }}</el-button>
        <file-pick accept=".xlsx" :show-name="false" @pick="onImport" data-test="fm-import-file"><el-button data-test="fm-import">{{ t('fm.import') }}</el-button></file-pick>
        <el-button @click="exportXlsx" data-test="fm-export">{{ t('fm.export') }}</el-button>
        <el-checkbox v-model="q.trash" @change="search" data-test="fm-trash">{{ t('fm.trash') }}</el-checkbox>
        <el-input v-model="q.text" :placeholder="t('fm.quickSearch')" clearable style="max-width:220px" @keyup.enter="search" @clear="search" data-test="fm-q" />
      </div>
      <el-alert v-if="importErrors.length" type="error" :closable="true" @close="importErrors = []" :title="t('fm.importErrors')" style="margin:8px 0">
        <div v-for="(e, i) in importErrors.slice(0, 20)" :key="i" data-test="fm-import-error">{{ t('fm.line') }} {{ e.line }}：{{ e.message }}</div>
      </el-alert>
      <el-card shadow="never" style="margin:8px 0">
        <div v-for="(x, i) in filters" :key="i" style="display:flex;gap:6px;margin-bottom:6px;flex-wrap:wrap" :data-test="'fm-filter-' + i">
          <el-select v-model="x.field" style="width:150px" data-test="fm-filter-field">
            <el-option v-for="f in fields" :key="f.name" :value="f.name" :label="f.label" />
          </el-select>
          <el-select v-model="x.op" style="width:110px" data-test="fm-filter-op">
            <el-option v-for="op in OPS" :key="op" :value="op" :label="t('fm.op.' + op)" />
          </el-select>
          <el-input v-if="!noValue(x.op)" v-model="x.value" style="width:160px" data-test="fm-filter-value" @keyup.enter="search" />
          <el-input v-if="needsTwo(x.op)" v-model="x.value2" style="width:160px" data-test="fm-filter-value2" />
          <el-button link type="danger" @click="filters.splice(i, 1)">✕</el-button>
        </div>
        <div style="display:flex;gap:6px;flex-wrap:wrap">
          <el-button size="small" @click="addFilter" data-test="fm-add-filter">{{ t('fm.addFilter') }}</el-button>
          <el-select v-model="q.sortField" clearable :placeholder="t('fm.sort')" size="small" style="width:130px" data-test="fm-sort">
            <el-option v-for="f in fields.filter((f) => !f.pii)" :key="f.name" :value="f.name" :label="f.label" />
          </el-select>
          <el-select v-model="q.sortDir" size="small" style="width:90px">
            <el-option value="asc" :label="t('fm.asc')" /><el-option value="desc" :label="t('fm.desc')" />
          </el-select>
          <el-select v-model="shownCols" multiple collapse-tags clearable :placeholder="t('fm.columnsShown')" size="small" style="width:200px" data-test="fm-columns">
            <el-option v-for="f in fields" :key="f.name" :value="f.name" :label="f.label" />
          </el-select>
          <el-button size="small" type="primary" @click="search" data-test="fm-search">{{ t('fm.search') }}</el-button>
        </div>
      </el-card>
      <el-table :data="data.items" size="small" border v-loading="loading" data-test="fm-records" :empty-text="t('fm.noRecords')">
        <el-table-column v-for="f in visibleFields" :key="f.name" :label="f.label" min-width="110">
          <template #default="{ row }">{{ f.type === 'reference' && data.refs && data.refs[f.name] ? (data.refs[f.name][row.values[f.name]] || row.values[f.name]) : cell(f, row.values[f.name]) }}</template>
        </el-table-column>
        <el-table-column :label="t('fm.createdBy')" width="100" prop="created_by" />
        <el-table-column :label="t('common.actions')" width="170" fixed="right">
          <template #default="{ row }">
            <el-button v-if="!row.deleted" link type="primary" size="small" @click="router.push('/forms/' + code + '/records/' + row.id)">{{ t('common.edit') }}</el-button>
            <el-button link size="small" @click="showHistory(row)" :data-test="'fm-history-' + row.id">{{ t('fm.history') }}</el-button>
            <guarded-button v-if="!row.deleted" link type="danger" size="small" @click="remove(row)" :confirm="t('guard.trashAsk', { n: '#' + row.id.slice(-6) })" :confirm-text="t('guard.delete')" :data-test="'fm-delete-' + row.id">{{ t('fm.delete') }}</guarded-button>
            <el-button v-else link type="success" size="small" @click="restore(row)" :data-test="'fm-restore-' + row.id">{{ t('fm.restore') }}</el-button>
          </template>
        </el-table-column>
      </el-table>
      <el-pagination v-if="data.total > q.size" style="margin-top:8px" small layout="prev, pager, next, total" :total="data.total" v-model:current-page="q.page" :page-size="q.size" @current-change="load" />
      <div class="muted" style="margin-top:6px" data-test="fm-total">{{ data.total }}</div>
      <el-drawer :model-value="!!history" @close="history = null" :title="t('fm.historyTitle')" size="420px">
        <el-timeline v-if="history" data-test="fm-history">
          <el-timeline-item v-for="(h, i) in history.items" :key="i" :timestamp="fmt(h.at) + ' · ' + (h.by || '-')">
            <b>{{ t('fm.act.' + h.action) }}</b>
            <div v-for="(c, n) in h.changes" :key="n" style="font-size:13px">{{ c.label }}：<span class="fm-old">{{ c.old ?? '∅' }}</span>→ <span class="fm-new">{{ c.new ?? '∅' }}</span></div>
          </el-timeline-item>
        </el-timeline>
      </el-drawer>
    </template>
  </div>`,
};

export const RecordPage = {
  name: "FormRecordPage",
  components: { FormView },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const code = computed(() => route.params.code);
    const id = computed(() => route.params.id);
    const model = ref(null);
    const values = reactive({});
    const original = ref({});
    const errors = ref({});
    const saving = ref(false);
    const fields = computed(() => (model.value?.published?.fields || []).filter((f) => !f.deleted));
    onMounted(async () => {
      model.value = await api(`/forms/models/${code.value}`);
      if (id.value) {
        const rec = await api(`/forms/models/${code.value}/records/${id.value}`);
        Object.assign(values, rec.values);
        original.value = JSON.parse(JSON.stringify(rec.values));
      } else {
        for (const f of fields.value) if (f.default !== undefined && f.default !== null) values[f.name] = f.default;
      }
    });
    async function submit() {
      errors.value = checkRequired(fields.value, values);
      if (Object.keys(errors.value).length) { ElMessage.error(t("fm.fixErrors")); return; }
      const body = {};
      for (const f of fields.value) {
        if (!isVisible(f, values)) continue;
        const v = values[f.name];
        if (id.value && JSON.stringify(v ?? null) === JSON.stringify(original.value[f.name] ?? null)) continue;
        if (v === undefined) continue;
        body[f.name] = v === "" ? null : v;
      }
      saving.value = true;
      try {
        if (id.value) await api(`/forms/models/${code.value}/records/${id.value}`, { method: "PATCH", body: { values: body }, quiet: true });
        else await api(`/forms/models/${code.value}/records`, { method: "POST", body: { values: body }, quiet: true });
        ElMessage.success(t("fm.created"));
        router.push(`/forms/${code.value}/records`);
      } catch (e) {
        errors.value = serverErrors(e);
        ElMessage.error({ message: e.message, duration: 6000, showClose: true });
      } finally { saving.value = false; }
    }
    return { t, model, values, errors, saving, submit, id, code, router };
  },
  template: `
  <div v-if="model" style="max-width:960px">
    <h2 class="page-title">{{ model.title }} · {{ id ? t('fm.editRecord') : t('fm.newRecord') }}</h2>
    <el-alert v-if="!model.published" type="warning" :closable="false" :title="t('fm.notPublished')" />
    <template v-else>
      <form-view :fields="model.published.fields" :layout="model.published.layout" :values="values" :errors="errors" :code="code" />
      <div style="margin-top:10px;display:flex;gap:8px">
        <el-button type="primary" :loading="saving" @click="submit" data-test="fm-submit">{{ t('fm.submit') }}</el-button>
        <el-button @click="router.push('/forms/' + code + '/records')">{{ t('fm.back') }}</el-button>
      </div>
    </template>
  </div>`,
};
