// On the case page: the case's decisions (restriction, administrator, discharge, public display), recording one
// pushes it to the subscribers; a restriction or display can be lifted or ended the same way.
import { ref, reactive, onMounted } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import "./labels.js";

const RESTRICTIONS = ["限制高消费", "限制出境", "限制担任董事监事高管", "限制新增借款"];
const RESULTS = ["考察中", "已免责", "不予免责", "撤销免责"];

export const CaseDecisions = {
  name: "CaseDecisions",
  props: { caseId: { type: String, required: true } },
  setup(props) {
    const rows = ref([]);
    const dialog = ref(false);
    const today = () => new Date().toISOString().slice(0, 10);
    const form = reactive({ kind: "restriction", decision_no: "", effective_on: today(), restriction: RESTRICTIONS[0], administrator: "", result: RESULTS[1] });
    async function load() { rows.value = await api(`/cases/${props.caseId}/decisions`); }
    function openNew(kind = "restriction") {
      Object.assign(form, { kind, decision_no: "", effective_on: today(), restriction: RESTRICTIONS[0], administrator: "", result: RESULTS[1] });
      dialog.value = true;
    }
    async function save() {
      if (!form.decision_no.trim() || !form.effective_on) return ElMessage.error(t("dec.needFields"));
      const body = { kind: form.kind, decision_no: form.decision_no.trim(), effective_on: form.effective_on };
      if (form.kind === "restriction") body.restriction = form.restriction;
      if (form.kind === "administrator") body.administrator = form.administrator;
      if (form.kind === "discharge") body.result = form.result;
      const out = await api(`/cases/${props.caseId}/decisions`, { method: "POST", body });
      ElMessage.success(t("dec.sent", { n: out.deliveries })); dialog.value = false; load();
    }
    async function end(row) {
      const { value } = await ElMessageBox.prompt(t("dec.endPrompt"), t("dec.end"), { inputValue: today(), inputPattern: /^\d{4}-\d{2}-\d{2}$/, inputErrorMessage: t("dec.endPrompt") });
      const out = await api(`/cases/${props.caseId}/decisions/${row.id}/end`, { method: "POST", body: { ended_on: value } });
      ElMessage.success(t("dec.sent", { n: out.deliveries })); load();
    }
    function detail(row) { return Object.values(row.detail || {}).filter(Boolean).join("、"); }
    onMounted(load);
    return { t, can, rows, dialog, form, RESTRICTIONS, RESULTS, openNew, save, end, detail };
  },
  template: `
  <div style="margin:16px 0" data-test="case-decisions">
    <div class="toolbar">
      <h3 style="margin:0;flex:1">{{ t('dec.title') }}</h3>
      <el-button v-if="can('cases:write')" type="warning" data-test="decide-restriction" @click="openNew('restriction')">{{ t('dec.kind.restriction') }}</el-button>
      <el-button v-if="can('cases:write')" data-test="new-decision" @click="openNew('administrator')">{{ t('dec.new') }}</el-button>
    </div>
    <el-table :data="rows" stripe style="width:100%" :empty-text="t('dec.none')" data-test="decisions">
      <el-table-column :label="t('dec.kind')" width="120"><template #default="{ row }">{{ t('dec.kind.' + row.kind) }}</template></el-table-column>
      <el-table-column prop="decision_no" :label="t('dec.no')" min-width="160" />
      <el-table-column :label="t('dec.restriction')" min-width="140"><template #default="{ row }">{{ detail(row) }}</template></el-table-column>
      <el-table-column prop="effective_on" :label="t('dec.effective')" width="110" />
      <el-table-column :label="t('dec.ended')" width="120"><template #default="{ row }">{{ row.ended_on || '—' }}</template></el-table-column>
      <el-table-column :label="t('common.actions')" width="90"><template #default="{ row }">
        <el-button v-if="can('cases:write') && !row.ended_on && ['restriction','public_display'].includes(row.kind)" link type="primary" @click="end(row)">{{ t('dec.end') }}</el-button>
      </template></el-table-column>
    </el-table>
    <el-dialog v-model="dialog" :title="t('dec.new')" width="min(520px, 96vw)" data-test="decision-dialog">
      <el-form label-position="top">
        <el-form-item :label="t('dec.kind')"><el-select v-model="form.kind" style="width:100%">
          <el-option v-for="k in ['restriction','administrator','discharge','public_display']" :key="k" :value="k" :label="t('dec.kind.' + k)" /></el-select></el-form-item>
        <el-form-item :label="t('dec.no')"><el-input v-model="form.decision_no" maxlength="64" data-test="decision-no" /></el-form-item>
        <el-form-item :label="t('dec.effective')"><el-date-picker v-model="form.effective_on" type="date" value-format="YYYY-MM-DD" style="width:100%" /></el-form-item>
        <el-form-item v-if="form.kind === 'restriction'" :label="t('dec.restriction')"><el-select v-model="form.restriction" style="width:100%" data-test="decision-restriction">
          <el-option v-for="r in RESTRICTIONS" :key="r" :value="r" :label="r" /></el-select></el-form-item>
        <el-form-item v-if="form.kind === 'administrator'" :label="t('dec.administrator')"><el-input v-model="form.administrator" maxlength="200" /></el-form-item>
        <el-form-item v-if="form.kind === 'discharge'" :label="t('dec.result')"><el-select v-model="form.result" style="width:100%">
          <el-option v-for="r in RESULTS" :key="r" :value="r" :label="r" /></el-select></el-form-item>
      </el-form>
      <template #footer><el-button @click="dialog = false">{{ t('common.cancel') }}</el-button><el-button type="primary" data-test="decision-save" @click="save">{{ t('common.save') }}</el-button></template>
    </el-dialog>
  </div>`,
};
