// The comparisons list and one comparison: counts as tags, suspicious-change flags, records filtered by
// change kind and field with old → new highlighted, Excel download (masked, or in full with a purpose).
import { ref, reactive, computed, onMounted, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessageBox } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { KIND_TYPES, fmt } from "./labels.js";

const COUNTS = `
  <span class="cmp-counts">
    <el-tag type="success" size="small" disable-transitions data-test="cmp-added">{{ t('cmp.added') }} {{ c.added }}</el-tag>
    <el-tag type="danger" size="small" disable-transitions data-test="cmp-removed" style="margin-left:4px">{{ t('cmp.removed') }} {{ c.removed }}</el-tag>
    <el-tag type="warning" size="small" disable-transitions data-test="cmp-changed" style="margin-left:4px">{{ t('cmp.changed') }} {{ c.changed }}</el-tag>
    <el-tag type="info" size="small" disable-transitions data-test="cmp-unchanged" style="margin-left:4px">{{ t('cmp.unchanged') }} {{ c.unchanged }}</el-tag>
  </span>`;

const FLAGS = `
  <el-tooltip v-for="f in c.flags" :key="f.code" :content="f.label + (f.fields && f.fields.length ? '：' + f.fields.join(', ') : '')">
    <el-tag type="danger" effect="dark" size="small" disable-transitions style="margin-right:4px" :data-test="'cmp-flag-' + f.code">
      {{ t('cmp.flag.' + f.code) }}{{ f.count ? ' ' + f.count : '' }}
    </el-tag>
  </el-tooltip>`;

const CountsTags = { props: ["c"], setup: () => ({ t }), template: COUNTS };
const FlagTags = { props: ["c"], setup: () => ({ t }), template: `<span>${FLAGS}</span>` };

export default {
  name: "ComparisonsPage",
  components: { CountsTags, FlagTags },
  setup() {
    const router = useRouter();
    const data = ref({ items: [], total: 0 });
    const q = reactive({ target: "", page: 1, size: 20 });
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try {
        const params = new URLSearchParams({ page: q.page, size: q.size });
        if (q.target.trim()) params.set("target", q.target.trim());
        data.value = await api(`/compare/comparisons?${params}`);
      } finally { loading.value = false; }
    }
    // the tables with deliveries, by their titles (one entry per table even when several units deliver it)
    const targets = ref([]);
    onMounted(async () => {
      load();
      const all = await api("/compare/targets");
      targets.value = [...new Map(all.map((x) => [x.target, x])).values()];
    });
    const open = (row) => router.push(`/compare/${row.id}`);
    return { t, data, q, load, open, fmt, loading, targets };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('cmp.list') }}</h2>
    <p class="muted">{{ t('cmp.listHint') }}</p>
    <div class="toolbar">
      <el-select v-model="q.target" :placeholder="t('cmp.filterTarget')" clearable filterable style="width:280px;max-width:100%" @change="q.page = 1; load()" data-test="cmp-filter-target">
        <el-option v-for="x in targets" :key="x.target" :value="x.target" :label="x.target_label || x.target" />
      </el-select>
      <el-button type="primary" @click="q.page = 1; load()">{{ t('cmp.search') }}</el-button>
    </div>
    <el-empty v-if="!loading && !data.total" :description="t('cmp.none')" />
    <el-table v-else :data="data.items" size="small" border v-loading="loading" @row-click="open" style="cursor:pointer" data-test="cmp-list">
      <el-table-column :label="t('cmp.target')" min-width="150"><template #default="{ row }">{{ row.target_label || row.target }}</template></el-table-column>
      <el-table-column :label="t('cmp.unit')" width="100"><template #default="{ row }">{{ row.unit_code || '-' }}</template></el-table-column>
      <el-table-column :label="t('cmp.delivery')" min-width="130">
        <template #default="{ row }">{{ t('cmp.kind.' + row.delivery_kind) }} · {{ row.delivery_id.slice(0, 8) }}</template>
      </el-table-column>
      <el-table-column :label="t('cmp.mode')" width="80"><template #default="{ row }">{{ row.incremental ? t('cmp.incremental') : t('cmp.full') }}</template></el-table-column>
      <el-table-column min-width="290"><template #default="{ row }"><counts-tags :c="row" /></template></el-table-column>
      <el-table-column :label="t('cmp.flags')" min-width="150"><template #default="{ row }"><flag-tags :c="row" /></template></el-table-column>
      <el-table-column :label="t('cmp.when')" width="170"><template #default="{ row }">{{ fmt(row.created_at) }}</template></el-table-column>
      <el-table-column width="70"><template #default="{ row }"><el-button link type="primary" @click.stop="open(row)" :data-test="'cmp-open-' + row.id">{{ t('cmp.open') }}</el-button></template></el-table-column>
    </el-table>
    <el-pagination v-if="data.total > q.size" style="margin-top:8px" small layout="prev, pager, next, total" :total="data.total" v-model:current-page="q.page" :page-size="q.size" @current-change="load" />
  </div>`,
};

export const ComparisonPage = {
  name: "ComparisonPage",
  components: { CountsTags, FlagTags },
  setup() {
    const route = useRoute();
    const c = ref(null);
    const rows = ref({ items: [], total: 0, masked: true });
    const f = reactive({ kind: "", field: "", page: 1, size: 50 });
    const purpose = ref("");
    const base = () => `/compare/comparisons/${route.params.id}`;
    const titles = computed(() => Object.fromEntries((c.value?.columns || []).map((x) => [x.name, x.title || x.name])));
    const columns = computed(() => (c.value?.columns || []).map((x) => x.name).filter((n) => !(c.value.key || []).includes(n)));
    const fields = computed(() => Object.entries(c.value?.field_counts || {}).map(([name, n]) => ({ name, n })));
    function params(extra = {}) {
      const p = new URLSearchParams(extra);
      if (f.kind) p.set("kind", f.kind);
      if (f.field) p.set("field", f.field);
      if (purpose.value) { p.set("unmask", "true"); p.set("purpose", purpose.value); }
      return p;
    }
    async function loadRows() { rows.value = await api(`${base()}/rows?${params({ page: f.page, size: f.size })}`); }
    async function load() { c.value = await api(base()); await loadRows(); }
    onMounted(load);
    watch(() => [f.kind, f.field], () => { f.page = 1; loadRows(); });
    async function askPurpose(title) {
      const { value } = await ElMessageBox.prompt(t("cmp.purpose"), title, {
        inputPattern: /\S.{2,}\S/, inputErrorMessage: t("cmp.purposeShort"), inputValue: purpose.value });
      return value.trim();
    }
    async function unmask() { purpose.value = await askPurpose(t("cmp.unmask")); await loadRows(); }
    async function remask() { purpose.value = ""; await loadRows(); }
    async function download(full) {
      const p = params();
      if (full) { p.set("unmask", "true"); p.set("purpose", purpose.value || await askPurpose(t("cmp.excelFull"))); }
      else { p.delete("unmask"); p.delete("purpose"); }
      const res = await api(`${base()}/export.xlsx?${p}`, { raw: true });
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url; a.download = `comparison-${route.params.id.slice(0, 8)}.xlsx`; a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }
    const keyText = (row) => Object.values(row.key).join(" / ");
    const show = (v) => (v === null || v === undefined || v === "" ? "∅" : v);
    return { t, c, rows, f, purpose, titles, columns, fields, loadRows, unmask, remask, download, keyText, show,
      can, fmt, KIND_TYPES };
  },
  template: `
  <div v-if="c">
    <h2 class="page-title">{{ t('cmp.title') }} · {{ c.target_label || c.target }}</h2>
    <el-descriptions :column="3" border size="small" style="margin-bottom:12px">
      <el-descriptions-item :label="t('cmp.delivery')">{{ t('cmp.kind.' + c.delivery_kind) }} · <span data-test="cmp-delivery">{{ c.delivery_id }}</span></el-descriptions-item>
      <el-descriptions-item :label="t('cmp.previous')">{{ c.previous_delivery_id || '-' }}</el-descriptions-item>
      <el-descriptions-item :label="t('cmp.mode')">{{ c.incremental ? t('cmp.incremental') : t('cmp.full') }}</el-descriptions-item>
      <el-descriptions-item :label="t('cmp.key')">{{ c.key.join(', ') }}</el-descriptions-item>
      <el-descriptions-item :label="t('cmp.unit')">{{ c.unit_code || '-' }}</el-descriptions-item>
      <el-descriptions-item :label="t('cmp.when')">{{ fmt(c.created_at) }}</el-descriptions-item>
    </el-descriptions>
    <div style="margin-bottom:8px"><counts-tags :c="c" /></div>
    <div v-if="c.flags.length" style="margin-bottom:8px" data-test="cmp-flags"><flag-tags :c="c" /></div>
    <div v-if="fields.length" class="muted" style="margin-bottom:8px" data-test="cmp-field-counts">{{ t('cmp.fieldCounts') }}：
      <span v-for="x in fields" :key="x.name" style="margin-right:10px">{{ titles[x.name] || x.name }} {{ x.n }}</span>
    </div>
    <div class="toolbar">
      <el-radio-group v-model="f.kind" size="small" data-test="cmp-kind">
        <el-radio-button value="">{{ t('cmp.all') }}</el-radio-button>
        <el-radio-button value="added">{{ t('cmp.added') }} {{ c.added }}</el-radio-button>
        <el-radio-button value="removed">{{ t('cmp.removed') }} {{ c.removed }}</el-radio-button>
        <el-radio-button value="changed">{{ t('cmp.changed') }} {{ c.changed }}</el-radio-button>
      </el-radio-group>
      <el-select v-model="f.field" :placeholder="t('cmp.anyField')" clearable size="small" style="width:180px" data-test="cmp-field">
        <el-option v-for="x in fields" :key="x.name" :value="x.name" :label="(titles[x.name] || x.name) + ' (' + x.n + ')'" />
      </el-select>
      <el-button size="small" @click="download(false)" data-test="cmp-excel">{{ t('cmp.excel') }}</el-button>
      <el-button v-if="can('pii:unmask')" size="small" @click="download(true)">{{ t('cmp.excelFull') }}</el-button>
      <el-button v-if="can('pii:unmask') && rows.masked" size="small" @click="unmask" data-test="cmp-unmask">{{ t('cmp.unmask') }}</el-button>
      <el-button v-if="!rows.masked" size="small" @click="remask">{{ t('cmp.remask') }}</el-button>
    </div>
    <el-alert v-if="rows.masked" type="info" :closable="false" show-icon :title="t('cmp.maskedHint')" style="margin-bottom:8px" />
    <el-alert v-else type="warning" :closable="false" show-icon :title="t('cmp.unmaskedHint', { purpose })" style="margin-bottom:8px" />
    <el-table :data="rows.items" size="small" border max-height="560" :empty-text="t('cmp.noRows')" data-test="cmp-rows">
      <el-table-column :label="t('cmp.kind')" width="90" fixed>
        <template #default="{ row }">
          <el-tag :type="KIND_TYPES[row.kind]" size="small" disable-transitions>{{ t('cmp.' + row.kind) }}</el-tag>
          <el-tag v-for="fl in row.flags" :key="fl" type="danger" effect="dark" size="small" disable-transitions style="margin-top:2px">{{ t('cmp.flag.' + fl) }}</el-tag>
        </template>
      </el-table-column>
      <el-table-column :label="t('cmp.key')" min-width="160" fixed><template #default="{ row }">{{ keyText(row) }}</template></el-table-column>
      <el-table-column v-for="col in columns" :key="col" :label="titles[col] || col" min-width="150">
        <template #default="{ row }">
          <span v-if="row.changes[col]" class="cmp-hit" :data-test="'cmp-change-' + col">
            <span class="cmp-old">{{ show(row.changes[col][0]) }}</span>→ <span class="cmp-new">{{ show(row.changes[col][1]) }}</span>
          </span>
          <span v-else>{{ row.values[col] }}</span>
        </template>
      </el-table-column>
    </el-table>
    <el-pagination style="margin-top:8px" small layout="prev, pager, next, total" :total="rows.total" v-model:current-page="f.page" :page-size="f.size" @current-change="loadRows" />
  </div>`,
};
