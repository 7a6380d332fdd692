// Record history and as-of: pick a table and a moment to see the data as it was then; give the business
// key to see one record's versions, when each was valid and which delivery made or ended it.
import { ref, reactive, computed, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { fmt } from "./labels.js";

export default {
  name: "HistoryPage",
  setup() {
    const targets = ref([]);
    const q = reactive({ target: "", at: new Date(), key: {}, page: 1, size: 50 });
    const state = ref(null);
    const hist = ref(null);
    const loading = ref(false);
    const picked = computed(() => targets.value.find((x) => x.target + "|" + (x.unit_code || "") === q.target));
    const columns = computed(() => state.value?.columns || []);
    onMounted(async () => {
      targets.value = await api("/compare/targets");
      if (targets.value.length) q.target = targets.value[0].target + "|" + (targets.value[0].unit_code || "");
    });
    function base() {
      const p = new URLSearchParams({ target: picked.value.target });
      if (picked.value.unit_code) p.set("unit", picked.value.unit_code);
      return p;
    }
    function keyJson() {
      const k = picked.value.key;
      const filled = k.filter((c) => (q.key[c] || "").trim());
      if (!filled.length) return null;
      if (filled.length < k.length) { ElMessage.warning(t("cmp.needKey")); throw new Error("key"); }
      return JSON.stringify(Object.fromEntries(k.map((c) => [c, q.key[c].trim()])));
    }
    async function asOf() {
      if (!picked.value) { ElMessage.warning(t("cmp.pickTarget")); return; }
      const p = base();
      p.set("at", new Date(q.at || Date.now()).toISOString());
      p.set("page", q.page); p.set("size", q.size);
      const k = keyJson();
      if (k) p.set("key", k);
      loading.value = true;
      try { state.value = await api(`/compare/as-of?${p}`); } finally { loading.value = false; }
    }
    async function showHistory() {
      if (!picked.value) { ElMessage.warning(t("cmp.pickTarget")); return; }
      const k = keyJson();
      if (!k) { ElMessage.warning(t("cmp.needKey")); return; }
      const p = base();
      p.set("key", k);
      hist.value = await api(`/compare/history?${p}`);
    }
    return { t, targets, q, state, hist, loading, picked, columns, asOf, showHistory, fmt };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('cmp.history') }}</h2>
    <p class="muted">{{ t('cmp.historyHint') }}</p>
    <el-empty v-if="!targets.length" :description="t('cmp.noTargets')" />
    <el-form v-else inline size="small" @submit.prevent>
      <el-form-item :label="t('cmp.target')">
        <el-select v-model="q.target" style="width:260px" data-test="hist-target">
          <el-option v-for="x in targets" :key="x.target + '|' + (x.unit_code || '')" :value="x.target + '|' + (x.unit_code || '')"
            :label="(x.target_label || x.target) + (x.unit_code ? ' · ' + x.unit_code : '') + ' (' + x.deliveries + ' ' + t('cmp.deliveries') + ')'" />
        </el-select>
      </el-form-item>
      <el-form-item :label="t('cmp.at')">
        <el-date-picker v-model="q.at" type="datetime" data-test="hist-at" />
      </el-form-item>
      <template v-if="picked">
        <el-form-item v-for="k in picked.key" :key="k" :label="k">
          <el-input v-model="q.key[k]" :placeholder="t('cmp.keyValue')" style="width:200px" :data-test="'hist-key-' + k" clearable />
        </el-form-item>
      </template>
      <el-form-item>
        <el-button type="primary" @click="asOf" data-test="hist-asof">{{ t('cmp.asOf') }}</el-button>
        <el-button @click="showHistory" data-test="hist-show">{{ t('cmp.showHistory') }}</el-button>
      </el-form-item>
    </el-form>
    <template v-if="hist">
      <h3>{{ t('cmp.versions', { n: hist.versions.length }) }}</h3>
      <el-timeline data-test="hist-versions">
        <el-timeline-item v-for="(v, i) in hist.versions" :key="i" :timestamp="fmt(v.valid_from) + ' → ' + (v.valid_to ? fmt(v.valid_to) : t('cmp.current'))" placement="top">
          <div class="muted">{{ t('cmp.madeBy') }} {{ v.delivery_id }}<span v-if="v.ended_by"> · {{ t('cmp.endedBy') }} {{ v.ended_by }}</span></div>
          <div><span v-for="(val, name) in v.values" :key="name" style="margin-right:12px"><b>{{ name }}</b>: {{ val }}</span></div>
        </el-timeline-item>
      </el-timeline>
    </template>
    <template v-if="state">
      <h3 data-test="hist-count">{{ t('cmp.stateRows', { n: state.total, at: fmt(state.at) }) }}</h3>
      <el-alert v-if="state.masked" type="info" :closable="false" show-icon :title="t('cmp.maskedHint')" style="margin-bottom:8px" />
      <el-table :data="state.items" size="small" border max-height="520" v-loading="loading" data-test="hist-state">
        <el-table-column v-for="c in columns" :key="c" :label="c" min-width="140"><template #default="{ row }">{{ row.values[c] }}</template></el-table-column>
        <el-table-column :label="t('cmp.validFrom')" width="170"><template #default="{ row }">{{ fmt(row.valid_from) }}</template></el-table-column>
        <el-table-column :label="t('cmp.madeBy')" width="120"><template #default="{ row }">{{ row.delivery_id.slice(0, 8) }}</template></el-table-column>
      </el-table>
      <el-pagination v-if="state.total > q.size" style="margin-top:8px" small layout="prev, pager, next, total" :total="state.total" v-model:current-page="q.page" :page-size="q.size" @current-change="asOf" />
    </template>
  </div>`,
};
