// The audit log, for the auditor only: search, export to Excel, verify the SM3 chain, destruction records.
import { ref, reactive, computed, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t, lang, register } from "../../i18n.js";
import { api } from "../../api.js";
import { pickerComponents } from "../../pickers.js";
import { fmtDateTime } from "../../format.js";
import { labelOf, auditLabel, auditOptions, detailLines, isUuid } from "../../labels.js";

register({
  "audit.title": ["审计日志", "Audit log"],
  "audit.user": ["用户名", "User name"],
  "audit.action": ["操作", "Action"],
  "audit.objectType": ["对象类型", "Object type"],
  "audit.objectId": ["对象编号", "Object id"],
  "audit.range": ["时间范围", "Time range"],
  "audit.at": ["时间", "Time"],
  "audit.from": ["来源", "From"],
  "audit.object": ["对象", "Object"],
  "audit.result": ["结果", "Result"],
  "audit.purpose": ["用途", "Purpose"],
  "audit.detail": ["详情", "Detail"],
  "audit.export": ["导出 Excel", "Export to Excel"],
  "audit.verify": ["校验审计链", "Verify the chain"],
  "audit.ok": ["审计链完整：已校验 {n} 条记录", "The chain is intact: {n} records checked"],
  "audit.bad": ["审计链断裂：第 {s} 条记录 {p}", "The chain is broken at record {s}: {p}"],
  "audit.records": ["审计记录", "Records"],
  "audit.destructions": ["销毁记录", "Destruction records"],
  "audit.policy": ["策略", "Policy"],
  "audit.count": ["数量", "Count"],
  "audit.by": ["执行人", "By"],
  "audit.exporting": ["正在生成 Excel…", "Building the Excel file…"],
});

export default {
  name: "AuditPage",
  components: { ...pickerComponents },
  setup() {
    const q = reactive({ user: "", action: "", object_type: "", object_id: "", range: null, page: 1, size: 20 });
    const rows = ref([]);
    const total = ref(0);
    const loading = ref(false);
    const report = ref(null);
    const tab = ref("records");
    const destructions = ref([]);
    function params() {
      const p = new URLSearchParams();
      for (const k of ["user", "action", "object_type", "object_id"]) if (q[k]) p.set(k, q[k].trim());
      if (q.range) { p.set("since", new Date(q.range[0]).toISOString()); p.set("until", new Date(q.range[1]).toISOString()); }
      return p;
    }
    async function load() {
      loading.value = true;
      try {
        const p = params(); p.set("page", q.page); p.set("size", q.size);
        const data = await api(`/audit/records?${p}`);
        rows.value = data.items; total.value = data.total;
      } finally { loading.value = false; }
    }
    async function exportXlsx() {
      const msg = ElMessage({ message: t("audit.exporting"), duration: 0 });
      try {
        const res = await api(`/audit/records/export?${params()}`, { raw: true });
        const blob = await res.blob();
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = (res.headers.get("content-disposition") || "").match(/filename="([^"]+)"/)?.[1] || "audit.xlsx";
        a.click();
        URL.revokeObjectURL(a.href);
      } finally { msg.close(); }
    }
    async function verify() { report.value = await api("/audit/verify"); }
    async function loadDestructions() { destructions.value = await api("/audit/destructions"); }
    const when = (d) => fmtDateTime(d, { seconds: true });
    onMounted(load);
    const actions = computed(() => { void lang.value; return auditOptions(); });
    return { t, q, rows, total, loading, report, tab, destructions, load, exportXlsx, verify, loadDestructions, when, labelOf, auditLabel, detailLines, isUuid, actions };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('audit.title') }}</h2>
    <el-tabs v-model="tab" @tab-change="(n) => n === 'destructions' && loadDestructions()">
      <el-tab-pane :label="t('audit.records')" name="records">
        <div class="toolbar" style="flex-wrap:wrap;gap:8px">
          <entity-picker kind="user" v-model="q.user" :placeholder="t('audit.user')" style="width:180px" data-test="audit-user" />
          <el-select v-model="q.action" :placeholder="t('audit.action')" style="width:200px" clearable filterable data-test="audit-action">
            <el-option v-for="a in actions" :key="a.value" :value="a.value" :label="a.label" />
          </el-select>
          <el-input v-model="q.object_type" :placeholder="t('audit.objectType')" style="width:130px" clearable />
          <el-input v-model="q.object_id" :placeholder="t('audit.objectId')" style="width:160px" clearable />
          <el-date-picker v-model="q.range" type="datetimerange" :start-placeholder="t('audit.range')" style="max-width:360px" />
          <el-button type="primary" @click="q.page = 1; load()" data-test="audit-search">{{ t('common.search') }}</el-button>
          <el-button @click="exportXlsx" data-test="audit-export">{{ t('audit.export') }}</el-button>
          <el-button @click="verify" data-test="audit-verify">{{ t('audit.verify') }}</el-button>
        </div>
        <el-alert v-if="report" :type="report.ok ? 'success' : 'error'" show-icon :closable="false" style="margin-bottom:12px" data-test="audit-report"
          :title="report.ok ? t('audit.ok', { n: report.checked }) : t('audit.bad', { s: report.first_bad_seq, p: report.problem })" />
        <el-table :data="rows" v-loading="loading" stripe size="small" :empty-text="t('common.empty')" data-test="audit-table">
          <el-table-column prop="seq" label="#" width="70" />
          <el-table-column :label="t('audit.at')" width="170"><template #default="{ row }">{{ when(row.at) }}</template></el-table-column>
          <el-table-column prop="actor_name" :label="t('audit.user')" width="130" />
          <el-table-column :label="t('audit.action')" min-width="150"><template #default="{ row }">{{ auditLabel(row.action) }}</template></el-table-column>
          <el-table-column :label="t('audit.object')" min-width="160" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ labelOf('objectType', row.object_type) }} <router-link v-if="row.object_name && row.object_link" :to="row.object_link" data-test="audit-object-link">{{ row.object_name }}</router-link><span v-else class="muted">{{ row.object_name || (isUuid(row.object_id) ? '#' + row.object_id.slice(0, 8) : row.object_id) }}</span></template></el-table-column>
          <el-table-column :label="t('audit.result')" width="90"><template #default="{ row }">{{ labelOf('result', row.result) }}</template></el-table-column>
          <el-table-column prop="ip" :label="t('audit.from')" width="120" class-name="hide-mobile" label-class-name="hide-mobile" />
          <el-table-column :label="t('audit.detail')" min-width="200" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }"><div class="muted"><div v-if="row.purpose">{{ t('audit.purpose') }}：{{ row.purpose }}</div><div v-for="l in detailLines(row.detail)" :key="l.key">{{ l.label }}：{{ l.value }}</div></div></template></el-table-column>
        </el-table>
        <el-pagination style="margin-top:12px" layout="prev, pager, next, total" :small="true" :total="total" v-model:current-page="q.page" :page-size="q.size" @current-change="load" />
      </el-tab-pane>
      <el-tab-pane :label="t('audit.destructions')" name="destructions">
        <el-table :data="destructions" stripe size="small" :empty-text="t('common.empty')">
          <el-table-column :label="t('audit.at')" width="170"><template #default="{ row }">{{ when(row.at) }}</template></el-table-column>
          <el-table-column prop="policy_code" :label="t('audit.policy')" min-width="150" />
          <el-table-column prop="resource" :label="t('audit.objectType')" min-width="140" />
          <el-table-column prop="count" :label="t('audit.count')" width="80" />
          <el-table-column prop="actor" :label="t('audit.by')" width="130" />
        </el-table>
      </el-tab-pane>
    </el-tabs>
  </div>`,
};
