import { ref, reactive, onMounted } from "vue";
import { ElMessageBox } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";

register({
  "cases.title": ["案件", "Cases"],
  "cases.search": ["案号或债务人姓名", "Case no. or debtor name"],
  "cases.caseNo": ["案号", "Case no."],
  "cases.debtor": ["债务人", "Debtor"],
  "cases.idNo": ["证件号码", "ID number"],
  "cases.procedure": ["程序", "Procedure"],
  "cases.stage": ["阶段", "Stage"],
  "cases.accepted": ["受理日期", "Accepted on"],
  "cases.unmask": ["查看完整号码", "Show in full"],
  "cases.purpose": ["请说明查看完整证件号码的用途（将被审计记录）", "State why you need the full identifiers (this is audited)"],
  "cases.synthetic": ["演示数据", "Demo data"],
});

export default {
  name: "CasesPage",
  setup() {
    const rows = ref([]);
    const total = ref(0);
    const loading = ref(false);
    const q = reactive({ q: "", page: 1, size: 20 });
    async function load() {
      loading.value = true;
      try {
        const params = new URLSearchParams({ page: q.page, size: q.size });
        if (q.q) params.set("q", q.q);
        const data = await api(`/cases?${params}`);
        rows.value = data.items; total.value = data.total;
      } finally { loading.value = false; }
    }
    async function unmask(row) {
      const { value } = await ElMessageBox.prompt(t("cases.purpose"), t("cases.unmask"), { inputPattern: /.{4,}/ });
      const full = await api(`/cases/${row.id}/unmask`, { method: "POST", body: { purpose: value } });
      Object.assign(row, full);
    }
    onMounted(load);
    return { t, rows, total, loading, q, load, unmask, can };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('cases.title') }}</h2>
    <div class="toolbar">
      <el-input v-model="q.q" :placeholder="t('cases.search')" clearable @keyup.enter="q.page = 1; load()" />
      <el-button type="primary" @click="q.page = 1; load()">{{ t('common.search') }}</el-button>
    </div>
    <el-table :data="rows" v-loading="loading" stripe style="width:100%" :empty-text="t('common.empty')">
      <el-table-column :label="t('cases.caseNo')" min-width="190"><template #default="{ row }"><router-link :to="'/cases/' + row.id" :data-test="'case-' + row.case_no">{{ row.case_no }}</router-link></template></el-table-column>
      <el-table-column :label="t('cases.debtor')" min-width="120"><template #default="{ row }">{{ row.debtor.name }} <el-tag v-if="row.debtor.is_synthetic" size="small" type="info">{{ t('cases.synthetic') }}</el-tag></template></el-table-column>
      <el-table-column :label="t('cases.idNo')" min-width="180" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ row.debtor.id_no }}</template></el-table-column>
      <el-table-column prop="procedure" :label="t('cases.procedure')" width="80" />
      <el-table-column prop="stage_label" :label="t('cases.stage')" width="110" />
      <el-table-column prop="accepted_on" :label="t('cases.accepted')" width="110" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column v-if="can('pii:unmask')" :label="t('common.actions')" width="120"><template #default="{ row }"><el-button v-if="row.debtor.masked" link type="primary" @click="unmask(row)">{{ t('cases.unmask') }}</el-button></template></el-table-column>
    </el-table>
    <el-pagination style="margin-top:12px" layout="prev, pager, next, total" :small="true" :total="total" v-model:current-page="q.page" :page-size="q.size" @current-change="load" />
  </div>`,
};
