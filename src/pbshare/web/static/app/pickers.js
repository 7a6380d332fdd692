// Searchable pickers instead of typed codes: <entity-picker kind="unit" v-model="form.unit_code" />.
// A person types part of a name or a code ("PNR", "规划") and picks from what the server finds; the value stays the
// code the API wants. Kinds: unit, resource, topic, table, user, role (a new kind is one entry in SOURCES).
// Pages list it in `components: { ...pickerComponents }`.
import { ref, watch, onMounted, computed } from "vue";
import { t, lang, register } from "./i18n.js";
import { api } from "./api.js";

register({
  "picker.unit": ["输入单位名称或代码搜索", "Type a unit's name or code"],
  "picker.resource": ["输入资源名称或代码搜索", "Type a resource's name or code"],
  "picker.topic": ["输入专题库名称搜索", "Type a topic database's name"],
  "picker.table": ["输入表名称搜索", "Type a table's name"],
  "picker.user": ["输入姓名或用户名搜索", "Type a person's name or user name"],
  "picker.role": ["选择角色", "Pick a role"],
  "picker.none": ["没有匹配项，换个名称或代码试试", "Nothing matches; try another name or code"],
});

const enc = encodeURIComponent;

// Each source: how to ask the server for matches of q (with the picker's extra params) and how to show one.
export const SOURCES = {
  unit: {
    find: (q) => api(`/units?q=${enc(q)}`, { quiet: true }),
    value: (u) => u.code, label: (u) => u.name, sub: (u) => u.code,
  },
  resource: {
    find: async (q, p) => (await api(`/catalog/resources?q=${enc(q)}&size=30${p.provider ? `&provider=${enc(p.provider)}` : ""}`, { quiet: true })).items,
    value: (r) => r.code, label: (r) => r.name, sub: (r) => `${r.code} · ${r.provider_name}`,
  },
  topic: {
    find: (q) => api(`/warehouse/topics?q=${enc(q)}`, { quiet: true }),
    value: (tp) => tp.name, label: (tp) => tp.title, sub: (tp) => tp.name,
  },
  table: {
    find: (q, p) => api(`/warehouse/tables?q=${enc(q)}${p.topic ? `&topic=${enc(p.topic)}` : ""}`, { quiet: true }),
    // within one topic the value is the table's name, across topics "topic.name"
    value: (tb, p) => (p.topic ? tb.name : `${tb.topic}.${tb.name}`), label: (tb) => tb.title || tb.name, sub: () => "",
  },
  user: {
    find: (q) => api(`/users?q=${enc(q)}`, { quiet: true }),
    value: (u) => u.username, label: (u) => u.display_name, sub: (u) => u.username,
  },
  role: {
    find: async (q) => {
      const all = await api("/auth/roles", { quiet: true });
      const s = q.trim().toLowerCase();
      return s ? all.filter((r) => [r.code, r.zh, r.en].some((x) => (x || "").toLowerCase().includes(s))) : all;
    },
    value: (r) => r.code, label: (r) => (lang.value === "en" ? r.en : r.zh), sub: () => "",
  },
};

export const EntityPicker = {
  name: "EntityPicker",
  inheritAttrs: false,
  props: {
    kind: { type: String, required: true },
    modelValue: { type: [String, Array], default: null },
    multiple: { type: Boolean, default: false },
    topic: { type: String, default: "" }, // table: within this topic
    provider: { type: String, default: "" }, // resource: of this unit
    placeholder: { type: String, default: "" },
  },
  emits: ["update:modelValue", "change"],
  setup(props, { emit }) {
    const src = computed(() => SOURCES[props.kind]);
    const options = ref([]);
    const loading = ref(false);
    const known = new Map(); // value -> option, so a picked value keeps its label when the list changes
    let seq = 0;
    async function search(q) {
      const mine = ++seq;
      loading.value = true;
      try {
        const found = await src.value.find(q || "", props);
        if (mine !== seq) return;
        options.value = found.map((x) => {
          const o = { value: src.value.value(x, props), label: src.value.label(x, props), sub: src.value.sub(x, props) };
          known.set(o.value, o);
          return o;
        });
      } catch (e) {
        if (mine === seq) options.value = [];
      } finally {
        if (mine === seq) loading.value = false;
      }
    }
    // the current value(s) shown by label, even before the person opens the list
    const shown = computed(() => {
      const vals = props.multiple ? (props.modelValue || []) : (props.modelValue ? [props.modelValue] : []);
      const extra = vals.filter((v) => !options.value.some((o) => o.value === v)).map((v) => known.get(v) || { value: v, label: v, sub: "" });
      return [...extra, ...options.value];
    });
    async function resolve() {
      const vals = props.multiple ? (props.modelValue || []) : (props.modelValue ? [props.modelValue] : []);
      const missing = vals.filter((v) => !known.has(v));
      for (const v of missing) {
        try {
          const found = await src.value.find(String(v).split(".").pop(), props);
          for (const x of found) {
            const o = { value: src.value.value(x, props), label: src.value.label(x, props), sub: src.value.sub(x, props) };
            known.set(o.value, o);
          }
        } catch (e) { /* shown as its code */ }
      }
      options.value = [...options.value];
    }
    watch(() => props.modelValue, resolve);
    watch(() => [props.topic, props.provider], () => search(""));
    onMounted(() => { resolve(); search(""); });
    function update(v) { emit("update:modelValue", v ?? (props.multiple ? [] : "")); emit("change", v); }
    const ph = computed(() => props.placeholder || t("picker." + props.kind));
    return { t, shown, loading, search, update, ph };
  },
  template: `
  <el-select v-bind="$attrs" :model-value="modelValue" @update:model-value="update" :multiple="multiple" filterable remote clearable
    :remote-method="search" :loading="loading" :placeholder="ph" :no-match-text="t('picker.none')" :no-data-text="t('picker.none')"
    :data-picker="kind" @visible-change="(open) => open && search('')">
    <el-option v-for="o in shown" :key="o.value" :value="o.value" :label="o.label" :data-value="o.value">
      <span>{{ o.label }}</span><span v-if="o.sub && o.sub !== o.label" class="muted" style="float:right;margin-left:12px">{{ o.sub }}</span>
    </el-option>
  </el-select>`,
};

export const pickerComponents = { EntityPicker };
export const pickerPlugin = { install(app) { app.component("EntityPicker", EntityPicker); } };
