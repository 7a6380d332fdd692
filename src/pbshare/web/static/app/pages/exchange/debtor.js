// The debtor's file (债务人档案): identity masked, cases, every fact received grouped by resource,
// the requests asked about the person. "Show in full" asks for a purpose (audited).
import { ref, computed, onMounted } from "vue";
import { useRoute } from "vue-router";
import { ElMessageBox } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { fmtValue } from "../../format.js";
import { can } from "../../session.js";

register({
  "debtor.title": ["债务人档案", "Debtor's file"],
  "debtor.list": ["债务人", "Debtors"],
  "debtor.search": ["债务人姓名", "Debtor's name"],
  "debtor.identity": ["身份信息", "Identity"],
  "debtor.name": ["姓名", "Name"],
  "debtor.idNo": ["证件号码", "ID number"],
  "debtor.phone": ["电话", "Phone"],
  "debtor.address": ["住址", "Address"],
  "debtor.cases": ["案件", "Cases"],
  "debtor.caseCount": ["案件数", "Cases"],
  "debtor.facts": ["已收到的信息", "Facts received"],
  "debtor.noFacts": ["尚未收到任何单位关于此人的信息", "No unit has sent anything about this person yet"],
  "debtor.rows": ["{n} 条", "{n} rows"],
  "debtor.source": ["来源单位", "Source"],
  "debtor.received": ["接收时间", "Received"],
  "debtor.requests": ["查询与核查请求", "Requests"],
  "debtor.noRequests": ["没有请求", "No requests"],
  "debtor.showFull": ["完整显示", "Show in full"],
  "debtor.purpose": ["请说明查看完整身份信息的用途（将被审计记录）", "State why you need the full identity (this is audited)"],
  "debtor.masked": ["证件号码等已遮蔽；每次查看档案都会被审计记录。", "Identifiers are masked; every opening of this file is audited."],
  "debtor.truncated": ["仅显示最新 200 条", "Only the newest 200 rows are shown"],
  "debtor.open": ["打开档案", "Open the file"],
  "debtor.resource": ["信息资源", "Resource"],
  "debtor.unit": ["数源单位", "Unit"],
  "debtor.state": ["状态", "State"],
  "debtor.due": ["期限", "Due"],
});

const PROVENANCE = ["src_unit", "src_message", "src_received_at", "src_row"];

export default {
  name: "DebtorPage",
  setup() {
    const route = useRoute();
    const file = ref(null);
    const loading = ref(false);
    const tab = ref("");
    async function load() {
      loading.value = true;
      try {
        file.value = await api(`/debtors/${route.params.id}/file`);
        tab.value = file.value.facts.length ? file.value.facts[0].resource_code : "";
      } finally { loading.value = false; }
    }
    async function showFull() {
      const { value } = await ElMessageBox.prompt(t("debtor.purpose"), t("debtor.showFull"), { inputPattern: /.{4,}/ });
      file.value = await api(`/debtors/${route.params.id}/unmask`, { method: "POST", body: { purpose: value } });
    }
    const items = computed(() => (file.value ? file.value.requests.flatMap((r) => (r.requests || []).flatMap((q) => q.items)) : []));
    function dataColumns(f) { return f.columns.filter((c) => !PROVENANCE.includes(c.name)); }
    onMounted(load);
    return { t, file, loading, tab, showFull, can, items, dataColumns, fmtValue };
  },
  template: `
  <div v-loading="loading">
    <h2 class="page-title">{{ t('debtor.title') }}<span v-if="file"> · {{ file.debtor.name }}</span></h2>
    <template v-if="file">
      <el-card shadow="never" style="margin-bottom:12px">
        <template #header><span>{{ t('debtor.identity') }}</span>
          <el-button v-if="file.debtor.masked && can('pii:unmask')" link type="primary" style="float:right" data-test="debtor-unmask" @click="showFull">{{ t('debtor.showFull') }}</el-button>
        </template>
        <el-descriptions :column="2" border size="small">
          <el-descriptions-item :label="t('debtor.name')">{{ file.debtor.name }}</el-descriptions-item>
          <el-descriptions-item :label="t('debtor.idNo')"><span data-test="debtor-id">{{ file.debtor.id_no }}</span></el-descriptions-item>
          <el-descriptions-item v-if="file.debtor.phone" :label="t('debtor.phone')">{{ file.debtor.phone }}</el-descriptions-item>
          <el-descriptions-item v-if="file.debtor.address" :label="t('debtor.address')">{{ file.debtor.address }}</el-descriptions-item>
        </el-descriptions>
        <div class="muted" style="margin-top:6px">{{ t('debtor.masked') }}</div>
      </el-card>
      <el-card shadow="never" style="margin-bottom:12px">
        <template #header>{{ t('debtor.cases') }}</template>
        <el-table :data="file.cases" size="small" :empty-text="t('common.empty')">
          <el-table-column :label="t('cases.caseNo')" min-width="190"><template #default="{ row }"><router-link :to="'/cases/' + row.id">{{ row.case_no }}</router-link></template></el-table-column>
          <el-table-column prop="procedure" :label="t('cases.procedure')" width="80" />
          <el-table-column prop="stage_label" :label="t('cases.stage')" width="110" />
          <el-table-column prop="accepted_on" :label="t('cases.accepted')" width="110" />
        </el-table>
      </el-card>
      <el-card shadow="never" style="margin-bottom:12px">
        <template #header>{{ t('debtor.facts') }}</template>
        <el-empty v-if="!file.facts.length" :description="t('debtor.noFacts')" :image-size="60" />
        <el-tabs v-else v-model="tab" data-test="debtor-facts">
          <el-tab-pane v-for="f in file.facts" :key="f.resource_code + f.topic" :name="f.resource_code" :label="f.resource_name + ' (' + f.rows.length + ')'">
            <el-alert v-if="f.truncated" type="info" :closable="false" :title="t('debtor.truncated')" />
            <el-table :data="f.rows" size="small" stripe style="width:100%">
              <el-table-column v-for="c in dataColumns(f)" :key="c.name" :prop="c.name" :label="c.title" min-width="120" show-overflow-tooltip><template #default="{ row }">{{ fmtValue(row[c.name], c.type) }}</template></el-table-column>
              <el-table-column prop="src_unit" :label="t('debtor.source')" width="100" />
              <el-table-column prop="src_received_at" :label="t('debtor.received')" width="160" />
            </el-table>
          </el-tab-pane>
        </el-tabs>
      </el-card>
      <el-card shadow="never">
        <template #header>{{ t('debtor.requests') }}</template>
        <el-table :data="items" size="small" :empty-text="t('debtor.noRequests')">
          <el-table-column prop="case_no" :label="t('cases.caseNo')" min-width="170" />
          <el-table-column :label="t('debtor.resource')" min-width="180"><template #default="{ row }"><router-link :to="'/requests/' + row.request_id">{{ row.resource_name }}</router-link></template></el-table-column>
          <el-table-column prop="unit_name" :label="t('debtor.unit')" min-width="140" />
          <el-table-column :label="t('debtor.state')" width="120"><template #default="{ row }"><el-tag size="small" :type="row.overdue ? 'danger' : 'info'">{{ row.state_label }}</el-tag></template></el-table-column>
          <el-table-column prop="due_on" :label="t('debtor.due')" width="110" />
        </el-table>
      </el-card>
    </template>
  </div>`,
};

export const DebtorsPage = {
  name: "DebtorsPage",
  setup() {
    const rows = ref([]);
    const q = ref("");
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try { rows.value = await api(`/debtors?${new URLSearchParams(q.value ? { q: q.value } : {})}`); } finally { loading.value = false; }
    }
    onMounted(load);
    return { t, rows, q, loading, load };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('debtor.list') }}</h2>
    <div class="toolbar">
      <el-input v-model="q" :placeholder="t('debtor.search')" clearable @keyup.enter="load" />
      <el-button type="primary" @click="load">{{ t('common.search') }}</el-button>
    </div>
    <el-table :data="rows" v-loading="loading" stripe :empty-text="t('common.empty')" data-test="debtors-table">
      <el-table-column :label="t('debtor.name')" min-width="120"><template #default="{ row }"><router-link :to="'/debtors/' + row.id" :data-test="'debtor-' + row.name">{{ row.name }}</router-link> <el-tag v-if="row.is_synthetic" size="small" type="info">{{ t('cases.synthetic') }}</el-tag></template></el-table-column>
      <el-table-column prop="id_no" :label="t('debtor.idNo')" min-width="180" />
      <el-table-column prop="cases" :label="t('debtor.caseCount')" width="90" />
    </el-table>
  </div>`,
};
