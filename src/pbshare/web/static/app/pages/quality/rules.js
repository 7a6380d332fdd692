// Quality → 规则集 / rule sets: pick a catalog resource, see its rules (derived from the info items until
// saved), change severity, parameters and names, add or remove rules, save. Errors name the rule and what to fix.
import { ref, reactive, computed, onMounted, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, lang } from "../../i18n.js";
import { api } from "../../api.js";
import "./labels.js";

const DIMENSIONS = ["completeness", "validity", "consistency", "uniqueness", "timeliness"];

function toRow(r) {
  return { id: r.id || null, kind: r.kind, columns: [...(r.columns || [])], paramsText: JSON.stringify(r.params || {}),
    severity: r.severity || "error", dimension: r.dimension || "", name: r.name || "", enabled: r.enabled !== false,
    label: r.label || "" };
}

export default {
  name: "QualityRulesPage",
  setup() {
    const route = useRoute();
    const router = useRouter();
    const resources = ref([]);
    const searching = ref(false);
    const code = ref(route.query.resource || "");
    const set = reactive({ loaded: false, stored: false, columns: [], rows: [] });
    const kinds = ref([]);
    const loading = ref(false);
    const saving = ref(false);
    const dirty = ref(false);
    const problem = ref("");

    const kindLabel = (k) => { const x = kinds.value.find((y) => y.kind === k); return x ? (lang.value === "en" ? x.label_en : x.label_zh) : k; };
    const resourceLabel = computed(() => { const r = resources.value.find((x) => x.code === code.value); return r ? `${r.code} ${r.name}` : code.value; });

    async function searchResources(q) {
      searching.value = true;
      try {
        const params = new URLSearchParams({ size: 50 });
        if (q) params.set("q", q);
        resources.value = (await api(`/catalog/resources?${params}`)).items;
      } finally { searching.value = false; }
    }
    async function load() {
      problem.value = "";
      if (!code.value) { set.loaded = false; return; }
      loading.value = true;
      try {
        const data = await api(`/quality/rule-sets/resources/${encodeURIComponent(code.value)}`);
        set.stored = data.stored; set.columns = data.columns; set.rows = data.rules.map(toRow); set.loaded = true;
        dirty.value = false;
      } finally { loading.value = false; }
    }
    function pick(value) { router.replace({ query: { ...route.query, resource: value || undefined } }); }
    watch(() => route.query.resource, (v) => { code.value = v || ""; load(); });

    function add() {
      set.rows.push(toRow({ kind: "not_null", columns: set.columns.slice(0, 1), params: {}, severity: "error" }));
      dirty.value = true;
    }
    function remove(i) { set.rows.splice(i, 1); dirty.value = true; }
    function touched() { dirty.value = true; problem.value = ""; }

    function payload() {
      return set.rows.map((r, i) => {
        let params;
        try { params = r.paramsText.trim() ? JSON.parse(r.paramsText) : {}; } catch (e) {
          throw new Error(t("qrule.badParams", { n: i + 1, e: e.message }));
        }
        if (params === null || typeof params !== "object" || Array.isArray(params)) {
          throw new Error(t("qrule.badParams", { n: i + 1, e: "{…}" }));
        }
        return { kind: r.kind, columns: r.columns, params, severity: r.severity, dimension: r.dimension || null,
          name: r.name, enabled: r.enabled };
      });
    }
    async function save() {
      problem.value = "";
      let rules;
      try { rules = payload(); } catch (e) { problem.value = e.message; return; }
      saving.value = true;
      try {
        const data = await api(`/quality/rule-sets/resources/${encodeURIComponent(code.value)}`,
          { method: "PUT", body: { rules }, quiet: true });
        set.stored = data.stored; set.rows = data.rules.map(toRow); dirty.value = false;
        ElMessage.success(t("qrule.saved"));
      } catch (err) {
        const n = err.detail && err.detail.rule;
        problem.value = n ? t("qrule.ruleError", { n, m: err.message }) : err.message;
      } finally { saving.value = false; }
    }
    async function rederive() {
      const data = await api(`/quality/rule-sets/resources/${encodeURIComponent(code.value)}/derived`);
      set.rows = data.rules.map(toRow); dirty.value = true;
      ElMessage.info(t("qrule.rederived"));
    }
    async function reset() {
      try { await ElMessageBox.confirm(t("qrule.resetConfirm"), t("qrule.reset"), { type: "warning" }); } catch { return; }
      await api(`/quality/rule-sets/resources/${encodeURIComponent(code.value)}`, { method: "DELETE" });
      load();
    }
    onMounted(async () => {
      kinds.value = await api("/quality/rule-kinds");
      await searchResources("");
      if (code.value) load();
    });
    return { t, DIMENSIONS, resources, searching, code, set, kinds, loading, saving, dirty, problem, kindLabel,
      resourceLabel, searchResources, pick, add, remove, touched, save, rederive, reset };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('qrule.title') }}</h2>
    <el-select v-model="code" filterable remote :remote-method="searchResources" :loading="searching" clearable
      :placeholder="t('qrule.pickResource')" style="width: 420px" data-test="rule-resource" @change="pick">
      <el-option v-for="r in resources" :key="r.code" :label="r.code + ' ' + r.name" :value="r.code" />
    </el-select>
    <el-alert :title="t('qrule.hint')" type="info" :closable="false" show-icon style="margin: 12px 0" />
    <div v-if="set.loaded" v-loading="loading">
      <div style="display:flex; gap:8px; align-items:center; margin-bottom:8px">
        <strong>{{ resourceLabel }}</strong>
        <el-tag :type="set.stored ? 'success' : 'info'" data-test="rule-set-state">{{ set.stored ? t('qrule.stored') : t('qrule.derived') }}</el-tag>
        <el-tag v-if="dirty" type="warning">{{ t('qrule.unsaved') }}</el-tag>
        <span style="flex:1"></span>
        <el-button @click="add" data-test="rule-add">{{ t('qrule.add') }}</el-button>
        <el-button @click="rederive">{{ t('qrule.rederive') }}</el-button>
        <el-button v-if="set.stored" @click="reset" data-test="rule-reset">{{ t('qrule.reset') }}</el-button>
        <el-button type="primary" :loading="saving" @click="save" data-test="rule-save">{{ t('qrule.save') }}</el-button>
      </div>
      <el-alert v-if="problem" :title="problem" type="error" :closable="false" show-icon style="margin-bottom:8px" data-test="rule-problem" />
      <el-table :data="set.rows" stripe :empty-text="t('qrule.none')" data-test="rules-table" size="small">
        <el-table-column type="index" width="44" />
        <el-table-column :label="t('qrule.kind')" width="150"><template #default="{ row }">
          <el-select v-model="row.kind" size="small" @change="touched" data-test="rule-kind">
            <el-option v-for="k in kinds" :key="k.kind" :label="kindLabel(k.kind)" :value="k.kind" />
          </el-select></template></el-table-column>
        <el-table-column :label="t('qrule.columns')" min-width="170"><template #default="{ row }">
          <el-select v-model="row.columns" multiple filterable allow-create size="small" @change="touched" data-test="rule-columns">
            <el-option v-for="c in set.columns" :key="c" :label="c" :value="c" />
          </el-select></template></el-table-column>
        <el-table-column min-width="230"><template #header>
          <el-tooltip :content="t('qrule.paramsHelp')" placement="top"><span>{{ t('qrule.params') }} ⓘ</span></el-tooltip>
          </template><template #default="{ row }">
          <el-input v-model="row.paramsText" size="small" @input="touched" data-test="rule-params" /></template></el-table-column>
        <el-table-column :label="t('qrule.severity')" width="170"><template #default="{ row }">
          <el-select v-model="row.severity" size="small" @change="touched" data-test="rule-severity">
            <el-option value="error" :label="t('qrule.severity.error')" />
            <el-option value="warning" :label="t('qrule.severity.warning')" />
          </el-select></template></el-table-column>
        <el-table-column :label="t('qrule.dimension')" width="120"><template #default="{ row }">
          <el-select v-model="row.dimension" size="small" @change="touched">
            <el-option value="" :label="t('qrule.default')" />
            <el-option v-for="d in DIMENSIONS" :key="d" :value="d" :label="t('qrule.dim.' + d)" />
          </el-select></template></el-table-column>
        <el-table-column :label="t('qrule.name')" min-width="200"><template #default="{ row }">
          <el-input v-model="row.name" size="small" :placeholder="row.label" @input="touched" /></template></el-table-column>
        <el-table-column :label="t('qrule.enabled')" width="64"><template #default="{ row }">
          <el-switch v-model="row.enabled" size="small" @change="touched" /></template></el-table-column>
        <el-table-column width="70"><template #default="{ $index }">
          <el-button link type="danger" size="small" @click="remove($index)">{{ t('qrule.remove') }}</el-button></template></el-table-column>
      </el-table>
    </div>
  </div>`,
};
