// The form designer: drag components from the palette onto sections of a 1–4 column grid, set properties in
// the side panel (conditions included), preview at PC and phone width, save the draft, see its diff and publish;
// versions with their diffs; a published field's type changes only after every stored value is checked.
// Drag and drop is HTML5's own (dragstart / dragover / drop), no library.
import { ref, reactive, computed, onMounted, nextTick } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, lang } from "../../i18n.js";
import { api } from "../../api.js";
import { useFieldErrors, fieldProblems } from "../../fielderrors.js";
import { COND_OPS, TYPE_ICONS, fmt } from "./labels.js";
import { FormView } from "./records.js";

const DiffView = {
  name: "FormDiff",
  props: ["d"],
  setup: () => ({ t, show: (v) => (v === null || v === undefined || v === "" ? "∅" : typeof v === "object" ? JSON.stringify(v) : String(v)) }),
  template: `
  <div data-test="fm-diff">
    <div v-if="!d.added.length && !d.deleted.length && !d.changed.length && !d.layout_changed" class="muted">{{ t('fm.noChanges') }}</div>
    <div v-if="d.added.length"><b>{{ t('fm.added') }}</b>：<el-tag v-for="a in d.added" :key="a.name" type="success" size="small" style="margin:2px">{{ a.label }}</el-tag></div>
    <div v-if="d.deleted.length"><b>{{ t('fm.deleted') }}</b>：<el-tag v-for="a in d.deleted" :key="a.name" type="danger" size="small" style="margin:2px">{{ a.label }}</el-tag></div>
    <div v-if="d.changed.length"><b>{{ t('fm.changed') }}</b>
      <div v-for="c in d.changed" :key="c.name" style="font-size:13px;margin-left:8px">{{ c.label }}：
        <span v-for="(v, p) in c.changes" :key="p" style="margin-right:8px">{{ p }} <span class="fm-old">{{ show(v[0]) }}</span>→ <span class="fm-new">{{ show(v[1]) }}</span></span>
      </div>
    </div>
    <div v-if="d.layout_changed" class="muted">{{ t('fm.layoutChanged') }}</div>
  </div>`,
};

function optionsText(f) { return (f.options || []).map((o) => (o.label && o.label !== o.value ? `${o.value}=${o.label}` : o.value)).join("\n"); }
function parseOptions(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean).map((s) => {
    const [v, ...rest] = s.split("=");
    return { value: v.trim(), label: (rest.join("=") || v).trim() };
  });
}
function subText(f) { return (f.sub_fields || []).map((s) => `${s.name}=${s.label}`).join("\n"); }
function parseSubs(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean).map((s) => {
    const [n, ...rest] = s.split("=");
    return { name: n.trim(), label: (rest.join("=") || n).trim(), type: "text" };
  });
}

export default {
  name: "FormDesignerPage",
  components: { FormView, DiffView },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const code = computed(() => route.params.code);
    const model = ref(null);
    const types = ref([]);
    const models = ref([]);
    const fields = ref([]);
    const layout = reactive({ columns: 2, tabs: false, sections: [] });
    const selected = ref("");
    const preview = reactive({ open: false, phone: false, values: {} });
    const publishDlg = reactive({ open: false, diff: null, note: "" });
    const versionsDlg = reactive({ open: false, items: [], diff: null });
    const typeDlg = reactive({ open: false, field: null, type: "", options: "", result: null, busy: false });
    const purgeDlg = reactive({ open: false, items: [] });
    const accessDlg = reactive({ open: false });
    const access = reactive({ read: [], enter: [], edit: [], export: [] });
    const ROLES = ["data_admin", "case_handler", "report_viewer", "unit_operator", "sys_admin", "security_admin", "auditor"];
    const publishedNames = computed(() => new Set((model.value?.published?.fields || []).filter((f) => !f.deleted).map((f) => f.name)));
    const byName = computed(() => Object.fromEntries(fields.value.map((f) => [f.name, f])));
    const current = computed(() => byName.value[selected.value] || null);
    const typeLabel = (type) => { const x = types.value.find((y) => y.type === type); return x ? (lang.value === "en" ? x.label_en : x.label) : type; };

    function take(m) {
      model.value = m;
      fields.value = JSON.parse(JSON.stringify(m.fields.filter((f) => !f.deleted)));
      Object.assign(layout, JSON.parse(JSON.stringify(m.layout)));
      Object.assign(access, JSON.parse(JSON.stringify(m.access || {})));
    }
    onMounted(async () => {
      const [m, ty, ms] = await Promise.all([api(`/forms/models/${code.value}`), api("/forms/types"), api("/forms/models")]);
      types.value = ty; models.value = ms; take(m);
    });

    // ---- drag and drop
    function dragNew(ev, type) { ev.dataTransfer.setData("text/plain", "new:" + type); ev.dataTransfer.effectAllowed = "copyMove"; }
    function dragField(ev, name) { ev.dataTransfer.setData("text/plain", "move:" + name); ev.dataTransfer.effectAllowed = "move"; }
    function newField(type) {
      let n = 1;
      while (byName.value[`${type}_${n}`]) n += 1;
      const f = { name: `${type}_${n}`, label: `${typeLabel(type)}${n}`, type, span: 1, required: false };
      if (type === "select" || type === "multiselect") f.options = [{ value: "a", label: "选项A" }, { value: "b", label: "选项B" }];
      if (type === "subtable") f.sub_fields = [{ name: "item", label: "项目", type: "text" }];
      if (type === "reference") f.ref_model = (models.value.find((m) => m.code !== code.value && m.published_version) || {}).code || "";
      return f;
    }
    function drop(ev, sectionId, before) {
      const data = ev.dataTransfer.getData("text/plain");
      if (!data) return;
      const section = layout.sections.find((s) => s.id === sectionId);
      let name;
      if (data.startsWith("new:")) {
        const f = newField(data.slice(4));
        fields.value.push(f);
        name = f.name;
      } else if (data.startsWith("move:")) {
        name = data.slice(5);
        if (name === before) return;
        for (const s of layout.sections) s.fields = s.fields.filter((n) => n !== name);
      } else return;
      const at = before ? section.fields.indexOf(before) : -1;
      if (at >= 0) section.fields.splice(at, 0, name); else section.fields.push(name);
      selected.value = name;
    }
    function removeField(name) {
      fields.value = fields.value.filter((f) => f.name !== name);
      for (const s of layout.sections) s.fields = s.fields.filter((n) => n !== name);
      for (const f of fields.value) {
        if (f.visible_when && f.visible_when.field === name) f.visible_when = null;
        if (f.required_when && f.required_when.field === name) f.required_when = null;
      }
      selected.value = "";
    }
    function addSection() {
      let n = layout.sections.length + 1;
      while (layout.sections.find((s) => s.id === `s${n}`)) n += 1;
      layout.sections.push({ id: `s${n}`, title: `分组${n}`, fields: [] });
    }
    function removeSection(s) {
      if (layout.sections.length < 2) return;
      const i = layout.sections.indexOf(s);
      const target = layout.sections[i === 0 ? 1 : 0];
      target.fields.push(...s.fields);
      layout.sections.splice(i, 1);
    }

    // ---- properties
    function renameField(f, value) {
      const old = f.name;
      f.name = value;
      for (const s of layout.sections) s.fields = s.fields.map((n) => (n === old ? value : n));
      selected.value = value;
    }
    const condFor = (f, key) => f[key] || { field: "", op: "eq", value: "" };
    function setCond(f, key, part, value) {
      const c = { ...condFor(f, key), [part]: value };
      f[key] = c.field ? c : null;
    }
    const otherFields = computed(() => fields.value.filter((f) => f.name !== selected.value));

    // ---- draft, preview, publish
    function body() { return { title: model.value.title, fields: fields.value, layout: { ...layout }, access: { ...access } }; }
    // A refused draft: the field it is about is selected and the message stands at that property in the side panel
    // (the server names the field and the setting, or a path "fields.3.regex"); otherwise a toast.
    const fe = useFieldErrors();
    function problemAt(err) {
      const d = err.detail;
      if (d && !Array.isArray(d) && typeof d.field === "string" && byName.value[d.field]) {
        return { name: d.field, prop: d.setting || "label", message: err.message };
      }
      for (const p of fieldProblems(err)) {
        const m = p.path.match(/^fields\.(\d+)\.(\w+)/);
        if (m && fields.value[Number(m[1])]) return { name: fields.value[Number(m[1])].name, prop: m[2], message: p.label ? `${p.label}：${p.message}` : p.message };
      }
      return null;
    }
    async function save(quiet = false) {
      let m;
      try {
        m = await api(`/forms/models/${code.value}/draft`, { method: "PUT", body: body(), quiet: true });
        fe.clear();
      } catch (err) {
        const at = problemAt(err);
        if (at) {
          selected.value = at.name;
          await nextTick();
          if (fe.show({ detail: [{ field: at.prop, reason: at.message }], message: at.message })) throw err;
        }
        ElMessage.error({ message: err.message, duration: 6000, showClose: true });
        throw err;
      }
      take(m);
      if (!quiet) ElMessage.success(t("fm.saved"));
      return m;
    }
    function openPreview() { preview.values = {}; preview.open = true; }
    async function openPublish() {
      await save(true);
      publishDlg.diff = await api(`/forms/models/${code.value}/draft-diff`);
      publishDlg.note = "";
      publishDlg.open = true;
    }
    async function publish() {
      const v = await api(`/forms/models/${code.value}/publish`, { method: "POST", body: { note: publishDlg.note || null } });
      publishDlg.open = false;
      ElMessage.success(t("fm.published", { n: v.version }));
      take(await api(`/forms/models/${code.value}`));
    }
    async function openVersions() {
      versionsDlg.items = await api(`/forms/models/${code.value}/versions`);
      versionsDlg.diff = null;
      versionsDlg.open = true;
    }
    async function showVersionDiff(v) {
      versionsDlg.diff = { version: v.version, d: await api(`/forms/models/${code.value}/versions/diff?a=${v.version - 1}&b=${v.version}`) };
    }

    // ---- safe type change and purge
    function openTypeChange(f) {
      Object.assign(typeDlg, { open: true, field: f, type: "", options: optionsText(f), result: null, busy: false });
    }
    function typeBody() {
      const settings = {};
      if (["select", "multiselect"].includes(typeDlg.type)) settings.options = parseOptions(typeDlg.options);
      return { type: typeDlg.type, settings };
    }
    async function checkType() {
      typeDlg.busy = true;
      try { typeDlg.result = await api(`/forms/models/${code.value}/fields/${typeDlg.field.name}/type-check`, { method: "POST", body: typeBody() }); }
      finally { typeDlg.busy = false; }
    }
    async function applyType() {
      typeDlg.busy = true;
      try {
        await api(`/forms/models/${code.value}/fields/${typeDlg.field.name}/type`, { method: "POST", body: typeBody() });
        typeDlg.open = false;
        ElMessage.success(t("fm.typeChanged"));
        take(await api(`/forms/models/${code.value}`));
      } catch (e) {
        if (e.detail && e.detail.bad) typeDlg.result = { total: e.detail.total, convertible: e.detail.total - e.detail.bad.length, bad: e.detail.bad };
      } finally { typeDlg.busy = false; }
    }
    async function openPurge() {
      purgeDlg.items = await api(`/forms/models/${code.value}/purgeable`);
      purgeDlg.open = true;
    }
    async function purge(item) {
      await ElMessageBox.confirm(t("fm.purgeConfirm", { c: item.column }), t("fm.purge"), { type: "warning" });
      await api(`/forms/models/${code.value}/purge`, { method: "POST", body: { column: item.column } });
      purgeDlg.items = await api(`/forms/models/${code.value}/purgeable`);
      take(await api(`/forms/models/${code.value}`));
    }

    return { t, fe, code, model, types, models, fields, layout, selected, current, preview, publishDlg, versionsDlg, typeDlg,
      purgeDlg, accessDlg, access, ROLES, publishedNames, byName, typeLabel, TYPE_ICONS, COND_OPS, otherFields, dragNew, dragField, drop,
      removeField, addSection, removeSection, renameField, condFor, setCond, save, openPreview, openPublish, publish,
      openVersions, showVersionDiff, openTypeChange, checkType, applyType, openPurge, purge, optionsText,
      parseOptions, subText, parseSubs, fmt, router };
  },
  template: `
  <div v-if="model">
    <h2 class="page-title">{{ t('fm.design') }} · {{ model.title }}
      <el-tag v-if="model.published_version" size="small" type="success">v{{ model.published_version }}</el-tag>
      <el-tag v-else size="small" type="info">{{ t('fm.unpublished') }}</el-tag>
      <el-tag v-if="model.draft_changed && model.published_version" size="small" type="warning" style="margin-left:4px">{{ t('fm.draftChanged') }}</el-tag>
    </h2>
    <div class="toolbar" style="flex-wrap:wrap;gap:6px;align-items:center">
      <span>{{ t('fm.columns') }}</span>
      <el-radio-group v-model="layout.columns" size="small" data-test="fm-columns">
        <el-radio-button v-for="n in [1,2,3,4]" :key="n" :value="n" :label="n" :data-test="'fm-columns-' + n">{{ n }}</el-radio-button>
      </el-radio-group>
      <el-checkbox v-model="layout.tabs" data-test="fm-tabs">{{ t('fm.tabs') }}</el-checkbox>
      <el-button size="small" @click="addSection" data-test="fm-add-section">{{ t('fm.addSection') }}</el-button>
      <el-button size="small" @click="save()" data-test="fm-save">{{ t('fm.save') }}</el-button>
      <el-button size="small" @click="openPreview" data-test="fm-preview">{{ t('fm.preview') }}</el-button>
      <el-button size="small" type="primary" @click="openPublish" data-test="fm-publish">{{ t('fm.publish') }}</el-button>
      <el-button size="small" @click="openVersions" data-test="fm-versions">{{ t('fm.versions') }}</el-button>
      <el-button size="small" @click="openPurge" data-test="fm-purge">{{ t('fm.purge') }}</el-button>
      <el-button size="small" @click="accessDlg.open = true" data-test="fm-access">{{ t('fm.access') }}</el-button>
      <el-button size="small" link type="primary" @click="router.push('/forms/' + code + '/records')" data-test="fm-to-records">{{ t('fm.records') }}</el-button>
      <el-link v-if="model.published_version" :href="'/api/v1/forms/models/' + code + '/openapi.json'" target="_blank" type="primary" style="margin-left:8px" data-test="fm-openapi">{{ t('fm.openapi') }}</el-link>
    </div>
    <div class="fm-designer">
      <div class="fm-palette" data-test="fm-palette">
        <h4 style="margin:4px 0">{{ t('fm.palette') }}</h4>
        <div class="muted" style="font-size:12px;margin-bottom:6px">{{ t('fm.paletteHint') }}</div>
        <div v-for="ty in types" :key="ty.type" class="fm-palette-item" draggable="true" @dragstart="dragNew($event, ty.type)" :data-test="'fm-palette-' + ty.type">
          {{ typeLabel(ty.type) }}
        </div>
      </div>
      <div class="fm-canvas" data-test="fm-canvas">
        <div v-for="s in layout.sections" :key="s.id" class="fm-section" :data-test="'fm-section-' + s.id">
          <div style="display:flex;gap:6px;margin-bottom:6px;align-items:center">
            <el-input v-model="s.title" size="small" style="max-width:220px" :placeholder="t('fm.sectionTitle')" :data-test="'fm-section-title-' + s.id" />
            <el-button v-if="layout.sections.length > 1" size="small" link type="danger" @click="removeSection(s)">{{ t('fm.remove') }}</el-button>
          </div>
          <div class="fm-grid" :style="{ gridTemplateColumns: 'repeat(' + layout.columns + ', minmax(0, 1fr))' }"
               @dragover.prevent @drop.prevent="drop($event, s.id, null)" :data-test="'fm-drop-' + s.id">
            <div v-for="n in s.fields" :key="n" class="fm-cell fm-design-cell" :class="{ selected: selected === n }"
                 :style="{ gridColumn: 'span ' + Math.min((byName[n] && byName[n].span) || 1, layout.columns) }"
                 draggable="true" @dragstart="dragField($event, n)" @dragover.prevent @drop.prevent.stop="drop($event, s.id, n)"
                 @click="selected = n" :data-test="'fm-cell-' + n">
              <template v-if="byName[n]">
                <b>{{ byName[n].label }}</b><span v-if="byName[n].required" style="color:#f56c6c"> *</span>
                <div class="muted" style="font-size:12px">{{ typeLabel(byName[n].type) }} · {{ n }}
                  <span v-if="byName[n].visible_when">· {{ t('fm.visibleWhen') }}</span>
                  <span v-if="byName[n].required_when">· {{ t('fm.requiredWhen') }}</span>
                </div>
              </template>
            </div>
            <div class="fm-drop" :style="{ gridColumn: '1 / -1' }">{{ t('fm.dropHere') }}</div>
          </div>
        </div>
      </div>
      <div class="fm-props" data-test="fm-props">
        <h4 style="margin:4px 0">{{ t('fm.props') }}</h4>
        <div v-if="!current" class="muted">{{ t('fm.pickField') }}</div>
        <el-form v-else :ref="fe.form" label-position="top" size="small" @submit.prevent>
          <el-form-item :label="t('fm.label')" prop="label"><el-input v-model="current.label" data-test="fm-prop-label" /></el-form-item>
          <el-form-item :label="t('fm.name')" prop="name">
            <el-input :model-value="current.name" @change="renameField(current, $event)" :disabled="publishedNames.has(current.name)" data-test="fm-prop-name" />
          </el-form-item>
          <el-form-item :label="t('fm.type')">
            <span data-test="fm-prop-type">{{ typeLabel(current.type) }}</span>
            <el-button v-if="publishedNames.has(current.name)" link type="primary" style="margin-left:8px" @click="openTypeChange(current)" data-test="fm-change-type">{{ t('fm.changeType') }}</el-button>
          </el-form-item>
          <el-form-item :label="t('fm.span')">
            <el-radio-group v-model="current.span" data-test="fm-prop-span">
              <el-radio-button v-for="n in [1,2,3,4]" :key="n" :value="n" :label="n">{{ n }}</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="t('fm.placeholder')" prop="placeholder"><el-input v-model="current.placeholder" /></el-form-item>
          <el-form-item :label="t('fm.help')" prop="help"><el-input v-model="current.help" /></el-form-item>
          <div style="display:flex;flex-wrap:wrap;gap:4px 12px;margin-bottom:8px">
            <el-checkbox v-model="current.required" data-test="fm-prop-required">{{ t('fm.required') }}</el-checkbox>
            <el-checkbox v-model="current.unique">{{ t('fm.unique') }}</el-checkbox>
            <el-checkbox v-model="current.searchable">{{ t('fm.searchable') }}</el-checkbox>
            <el-checkbox v-model="current.pii" :disabled="publishedNames.has(current.name)" data-test="fm-prop-pii">{{ t('fm.pii') }}</el-checkbox>
          </div>
          <el-form-item :label="t('fm.default')" prop="default"><el-input v-model="current.default" /></el-form-item>
          <template v-if="['text','long_text','email'].includes(current.type)">
            <el-form-item :label="t('fm.regex')" prop="regex"><el-input v-model="current.regex" placeholder="^[0-9]+$" data-test="fm-prop-regex" /></el-form-item>
            <div style="display:flex;gap:6px">
              <el-form-item :label="t('fm.minLength')" prop="min_length"><el-input-number v-model="current.min_length" :min="0" controls-position="right" style="width:110px" /></el-form-item>
              <el-form-item :label="t('fm.maxLength')" prop="max_length"><el-input-number v-model="current.max_length" :min="0" controls-position="right" style="width:110px" /></el-form-item>
            </div>
          </template>
          <div v-if="['integer','decimal','money'].includes(current.type)" style="display:flex;gap:6px">
            <el-form-item :label="t('fm.min')" prop="min"><el-input v-model="current.min" style="width:110px" /></el-form-item>
            <el-form-item :label="t('fm.max')" prop="max"><el-input v-model="current.max" style="width:110px" /></el-form-item>
          </div>
          <el-form-item v-if="['select','multiselect'].includes(current.type)" :label="t('fm.options')" prop="options">
            <el-input type="textarea" :rows="4" :model-value="optionsText(current)" @change="current.options = parseOptions($event)" data-test="fm-prop-options" />
          </el-form-item>
          <el-form-item v-if="['select','multiselect'].includes(current.type)" :label="t('fm.codeTable')">
            <el-input v-model="current.code_table" placeholder="R01001.MARITAL" clearable />
          </el-form-item>
          <el-form-item v-if="current.type === 'reference'" :label="t('fm.refModel')">
            <el-select v-model="current.ref_model" style="width:100%">
              <el-option v-for="m in models.filter((m) => m.code !== code)" :key="m.code" :value="m.code" :label="m.title" />
            </el-select>
          </el-form-item>
          <el-form-item v-if="current.type === 'subtable'" :label="t('fm.subFields')">
            <el-input type="textarea" :rows="3" :model-value="subText(current)" @change="current.sub_fields = parseSubs($event)" />
          </el-form-item>
          <el-form-item v-for="key in ['visible_when', 'required_when']" :key="key" :label="t(key === 'visible_when' ? 'fm.visibleWhen' : 'fm.requiredWhen')">
            <div style="display:flex;gap:4px;flex-wrap:wrap">
              <el-select :model-value="condFor(current, key).field" clearable :placeholder="t('fm.always')" style="width:120px" @update:model-value="setCond(current, key, 'field', $event || '')" :data-test="'fm-cond-field-' + key">
                <el-option v-for="o in otherFields" :key="o.name" :value="o.name" :label="o.label" />
              </el-select>
              <el-select :model-value="condFor(current, key).op" style="width:90px" @update:model-value="setCond(current, key, 'op', $event)" :data-test="'fm-cond-op-' + key">
                <el-option v-for="op in COND_OPS" :key="op" :value="op" :label="t('fm.op.' + op)" />
              </el-select>
              <el-input v-if="!['checked','unchecked','empty','not_empty'].includes(condFor(current, key).op)" :model-value="condFor(current, key).value" style="width:80px" @update:model-value="setCond(current, key, 'value', $event)" :data-test="'fm-cond-value-' + key" />
            </div>
          </el-form-item>
          <el-button type="danger" plain size="small" @click="removeField(current.name)" data-test="fm-remove-field">{{ t('fm.remove') }}</el-button>
        </el-form>
      </div>
    </div>

    <el-dialog v-model="preview.open" :title="t('fm.preview')" width="min(960px, 96vw)">
      <el-radio-group v-model="preview.phone" size="small" style="margin-bottom:10px">
        <el-radio-button :value="false" :label="false" data-test="fm-preview-pc">{{ t('fm.pc') }}</el-radio-button>
        <el-radio-button :value="true" :label="true" data-test="fm-preview-phone">{{ t('fm.phone') }}</el-radio-button>
      </el-radio-group>
      <div :class="{ 'fm-phone': preview.phone }" data-test="fm-preview-frame">
        <form-view :fields="fields" :layout="layout" :values="preview.values" :errors="{}" :code="code" />
      </div>
    </el-dialog>

    <el-dialog v-model="publishDlg.open" :title="t('fm.diff')" width="min(640px, 96vw)">
      <diff-view v-if="publishDlg.diff" :d="publishDlg.diff" />
      <el-input v-model="publishDlg.note" :placeholder="'说明 / note'" style="margin-top:10px" />
      <template #footer>
        <el-button @click="publishDlg.open = false">{{ t('common.cancel') }}</el-button>
        <el-button type="primary" @click="publish" data-test="fm-publish-confirm">{{ t('fm.publishConfirm') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="versionsDlg.open" :title="t('fm.versions')" width="min(720px, 96vw)">
      <el-table :data="versionsDlg.items" size="small" border data-test="fm-version-list">
        <el-table-column prop="version" label="v" width="50" />
        <el-table-column prop="note" label="说明 / note" />
        <el-table-column prop="published_by" width="110" />
        <el-table-column width="170"><template #default="{ row }">{{ fmt(row.published_at) }}</template></el-table-column>
        <el-table-column width="80"><template #default="{ row }">
          <el-button v-if="row.version > 1" link type="primary" @click="showVersionDiff(row)" :data-test="'fm-version-diff-' + row.version">{{ t('fm.diffVersions') }}</el-button>
        </template></el-table-column>
      </el-table>
      <div v-if="versionsDlg.diff" style="margin-top:10px"><b>v{{ versionsDlg.diff.version - 1 }} → v{{ versionsDlg.diff.version }}</b>
        <diff-view :d="versionsDlg.diff.d" />
      </div>
    </el-dialog>

    <el-dialog v-model="typeDlg.open" :title="t('fm.changeType') + (typeDlg.field ? ' · ' + typeDlg.field.label : '')" width="min(640px, 96vw)">
      <p class="muted">{{ t('fm.changeTypeHint') }}</p>
      <el-select v-model="typeDlg.type" :placeholder="t('fm.newType')" style="width:200px" data-test="fm-new-type" @change="typeDlg.result = null">
        <el-option v-for="ty in types.filter((x) => typeDlg.field && x.type !== typeDlg.field.type && x.type !== 'subtable')" :key="ty.type" :value="ty.type" :label="typeLabel(ty.type)" />
      </el-select>
      <el-input v-if="['select','multiselect'].includes(typeDlg.type)" v-model="typeDlg.options" type="textarea" :rows="3" :placeholder="t('fm.options')" style="margin-top:6px" />
      <el-button style="margin-left:8px" :disabled="!typeDlg.type" :loading="typeDlg.busy" @click="checkType" data-test="fm-type-check">{{ t('fm.check') }}</el-button>
      <div v-if="typeDlg.result" style="margin-top:10px" data-test="fm-type-result">
        <div>{{ t('fm.checkResult', { total: typeDlg.result.total, ok: typeDlg.result.convertible }) }}</div>
        <template v-if="typeDlg.result.bad.length">
          <b>{{ t('fm.badValues') }}</b>
          <el-table :data="typeDlg.result.bad" size="small" border data-test="fm-bad-values">
            <el-table-column :label="t('fm.record')" width="110"><template #default="{ row }">{{ row.record_id.slice(0, 8) }}</template></el-table-column>
            <el-table-column prop="value" :label="t('fm.value')" width="140" />
            <el-table-column :label="t('fm.problem')"><template #default="{ row }">{{ row.message }}</template></el-table-column>
          </el-table>
        </template>
      </div>
      <template #footer>
        <el-button @click="typeDlg.open = false">{{ t('common.cancel') }}</el-button>
        <el-button type="primary" :disabled="!typeDlg.result || typeDlg.result.bad.length > 0" :loading="typeDlg.busy" @click="applyType" data-test="fm-type-apply">{{ t('fm.apply') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="accessDlg.open" :title="t('fm.access')" width="min(560px, 96vw)">
      <p class="muted">{{ t('fm.accessHint') }}</p>
      <el-form label-width="80px" @submit.prevent>
        <el-form-item v-for="a in ['read', 'enter', 'edit', 'export']" :key="a" :label="t('fm.acc.' + a)">
          <el-select v-model="access[a]" multiple style="width:100%" :data-test="'fm-access-' + a">
            <el-option v-for="r in ROLES" :key="r" :value="r" :label="t('fm.role.' + r)" />
          </el-select>
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button type="primary" @click="save(); accessDlg.open = false">{{ t('fm.save') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="purgeDlg.open" :title="t('fm.purge')" width="min(600px, 96vw)">
      <p class="muted">{{ t('fm.purgeHint') }}</p>
      <div v-if="!purgeDlg.items.length" class="muted">{{ t('fm.nothingToPurge') }}</div>
      <el-table v-else :data="purgeDlg.items" size="small" border>
        <el-table-column prop="label" :label="t('fm.label')" />
        <el-table-column prop="column" label="列 / column" />
        <el-table-column width="90"><template #default="{ row }"><el-button link type="danger" @click="purge(row)">{{ t('fm.purge') }}</el-button></template></el-table-column>
      </el-table>
    </el-dialog>
  </div>`,
};
