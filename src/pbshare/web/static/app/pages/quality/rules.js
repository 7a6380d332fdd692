// Quality → 规则集 / rule sets: pick a catalog resource (or an import profile), see its rules (a resource's are
// derived from its info items until saved), change severity, parameters and names, add or remove rules, save.
// Errors name the rule and what to fix.
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
    const profileId = ref(route.query.profile || "");
    const owner = ref(route.query.profile ? "profile" : "resource");
    const profiles = ref([]);
    const set = reactive({ loaded: false, stored: false, columns: [], rows: [] });
    const kinds = ref([]);
    const loading = ref(false);
    const saving = ref(false);
    const dirty = ref(false);
    const problem = ref("");

    const kindLabel = (k) => { const x = kinds.value.find((y) => y.kind === k); return x ? (lang.value === "en" ? x.label_en : x.label_zh) : k; };
    const resourceLabel = computed(() => {
      if (owner.value === "profile") { const p = profiles.value.find((x) => x.id === profileId.value); return p ? p.title : profileId.value; }
      const r = resources.value.find((x) => x.code === code.value); return r ? `${r.code} ${r.name}` : code.value;
    });
    const base = () => (owner.value === "profile" ? `/quality/rule-sets/profiles/${encodeURIComponent(profileId.value)}`
      : `/quality/rule-sets/resources/${encodeURIComponent(code.value)}`);
    const chosen = () => (owner.value === "profile" ? profileId.value : code.value);

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
      if (!chosen()) { set.loaded = false; return; }
      loading.value = true;
      try {
        const data = await api(base());
        let columns = data.columns;
        if (owner.value === "profile") {
          const p = profiles.value.find((x) => x.id === profileId.value);
          columns = p ? (p.mapping || []).map((m) => m.target) : [];
        }
        set.stored = data.stored; set.columns = columns; set.rows = data.rules.map(toRow); set.loaded = true;
        dirty.value = false;
      } finally { loading.value = false; }
    }
    function pick(value) { router.replace({ query: { resource: value || undefined } }); }
    function pickProfile(value) { router.replace({ query: { profile: value || undefined } }); }
    function switchOwner() { set.loaded = false; router.replace({ query: {} }); }
    watch(() => [route.query.resource, route.query.profile], ([r, p]) => {
      code.value = r || ""; profileId.value = p || "";
      if (r) owner.value = "resource"; else if (p) owner.value = "profile";
      load();
    });

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
        const data = await api(base(), { method: "PUT", body: { rules }, quiet: true });
        set.stored = data.stored; set.rows = data.rules.map(toRow); dirty.value = false;
        ElMessage.success(t("qrule.saved"));
      } catch (err) {
        const n = err.detail && err.detail.rule;
        problem.value = n ? t("qrule.ruleError", { n, m: err.message }) : err.message;
      } finally { saving.value = false; }
    }
    async function rederive() {
      const data = await api(`${base()}/derived`);
      set.rows = data.rules.map(toRow); dirty.value = true;
      ElMessage.info(t("qrule.rederived"));
    }
    async function reset() {
      const profile = owner.value === "profile";
      try {
        await ElMessageBox.confirm(t(profile ? "qrule.dropConfirm" : "qrule.resetConfirm"), t(profile ? "qrule.drop" : "qrule.reset"),
          { type: "warning" });
      } catch { return; }
      await api(base(), { method: "DELETE" });
      load();
    }
    onMounted(async () => {
      kinds.value = await api("/quality/rule-kinds");
      await searchResources("");
      try { profiles.value = await api("/collect/profiles", { quiet: true }); } catch { profiles.value = []; }
      if (chosen()) load();
    });
    return { t, DIMENSIONS, resources, searching, code, profileId, owner, profiles, set, kinds, loading, saving, dirty,
      problem, kindLabel, resourceLabel, searchResources, pick, pickProfile, switchOwner, add, remove, touched, save,
      rederive, reset };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('qrule.title') }}</h2>
    <el-radio-group v-model="owner" @change="switchOwner" style="margin-right: 12px" data-test="rule-owner">
      <el-radio-button value="resource">{{ t('qrule.ownerResource') }}</el-radio-button>
      <el-radio-button value="profile">{{ t('qrule.ownerProfile') }}</el-radio-button>
    </el-radio-group>
    <el-select v-if="owner === 'resource'" v-model="code" filterable remote :remote-method="searchResources" :loading="searching" clearable
      :placeholder="t('qrule.pickResource')" style="width: 420px; max-width: 100%" data-test="rule-resource" @change="pick">
      <el-option v-for="r in resources" :key="r.code" :label="r.code + ' ' + r.name" :value="r.code" />
    </el-select>
    <el-select v-else v-model="profileId" filterable clearable :placeholder="t('qrule.pickProfile')" style="width: 420px; max-width: 100%"
      :no-data-text="t('qrule.noProfiles')" data-test="rule-profile" @change="pickProfile">
      <el-option v-for="p in profiles" :key="p.id" :label="p.title + ' (' + p.name + ')'" :value="p.id" />
    </el-select>
    <el-alert :title="t('qrule.hint')" type="info" :closable="false" show-icon style="margin: 12px 0" />
    <div v-if="set.loaded" v-loading="loading">
      <div style="display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin-bottom:8px">
        <strong>{{ resourceLabel }}</strong>
        <el-tag :type="set.stored ? 'success' : 'info'" data-test="rule-set-state">{{ set.stored ? t('qrule.stored') : (owner === 'profile' ? t('qrule.notSaved') : t('qrule.derived')) }}</el-tag>
        <el-tag v-if="dirty" type="warning">{{ t('qrule.unsaved') }}</el-tag>
        <span style="flex:1"></span>
        <el-button @click="add" data-test="rule-add">{{ t('qrule.add') }}</el-button>
        <el-button v-if="owner === 'resource'" @click="rederive">{{ t('qrule.rederive') }}</el-button>
        <el-button v-if="set.stored" @click="reset" data-test="rule-reset" :data-confirm="t(owner === 'profile' ? 'qrule.dropConfirm' : 'qrule.resetConfirm')">{{ owner === 'profile' ? t('qrule.drop') : t('qrule.reset') }}</el-button>
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
