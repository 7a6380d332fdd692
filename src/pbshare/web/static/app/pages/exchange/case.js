// The case page: the case, its debtor (masked; "show in full" asks for a purpose), its requests to units.
import { ref, reactive, onMounted, computed, watch } from "vue";
import { useRoute } from "vue-router";
import { ElMessageBox, ElMessage } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { RequestCard } from "./request.js";
import { CaseDecisions } from "../subscriptions/decisions.js";

register({
  "case.title": ["案件详情", "Case"],
  "case.back": ["返回案件列表", "Back to cases"],
  "case.requests": ["查询核查请求", "Requests to units"],
  "case.new": ["发起查询/核查", "Ask units"],
  "case.none": ["尚未向任何单位发出请求", "No requests to units yet"],
  "case.reminders": ["到期提醒", "Due reminders"],
  "case.court": ["受理法院", "Court"],
  "case.phone": ["电话", "Phone"],
  "case.address": ["地址", "Address"],
  "case.kindQuery": ["查询", "Query"],
  "case.kindVerify": ["核查", "Verification"],
  "case.resources": ["需要的资源", "Resources wanted"],
  "case.purposeField": ["用途", "Purpose"],
  "case.purposeHint": ["例如：调查债务人名下财产", "e.g. to find the debtor's assets"],
  "case.basis": ["法律依据", "Legal basis"],
  "case.basisDefault": ["《深圳经济特区个人破产条例》第三十条", "Shenzhen Personal Bankruptcy Regulations, art. 30"],
  "case.due": ["答复期限", "Due date"],
  "case.dueHint": ["不填则按资源的答复时限（如 5 个工作日，节假日顺延）", "Empty: each resource's answer time (e.g. 5 working days, public holidays skipped)"],
  "case.values": ["待核查的值", "Values to check"],
  "case.workingDays": ["{n} 个工作日", "{n} working days"],
  "case.addValue": ["添加一个值", "Add a value"],
  "case.item": ["信息项", "Info item"],
  "case.value": ["值", "Value"],
  "case.send": ["提交并发送", "Submit and send"],
  "case.saveDraft": ["存为草稿", "Save as draft"],
  "case.sent": ["已发送给 {n} 个单位事项", "Sent as {n} items to units"],
  "case.needResource": ["请至少选择一个资源", "Pick at least one resource"],
  "case.needPurpose": ["请填写用途（至少 4 个字）", "Write the purpose (at least 4 characters)"],
  "case.needValues": ["核查请为每个资源填写至少一个待核查的值", "A verification needs at least one value to check for every resource"],
});

export default {
  name: "CasePage",
  components: { RequestCard, CaseDecisions },
  setup() {
    const route = useRoute();
    const kase = ref(null);
    const data = ref({ requests: [], reminders: [] });
    const resources = ref([]);
    const items = reactive({});
    const dialog = ref(false);
    const busy = ref(false);
    const form = reactive({ kind: "query", resources: [], purpose: "", legal_basis: "", due_on: null, values: [] });
    const id = computed(() => route.params.id);
    async function load() {
      kase.value = await api(`/cases/${id.value}`);
      if (can("requests:write")) data.value = await api(`/cases/${id.value}/requests`);
    }
    async function unmask() {
      const { value } = await ElMessageBox.prompt(t("cases.purpose"), t("cases.unmask"), { inputPattern: /.{4,}/, inputErrorMessage: t("case.needPurpose") });
      kase.value = await api(`/cases/${id.value}/unmask`, { method: "POST", body: { purpose: value } });
    }
    async function openNew() {
      Object.assign(form, { kind: "query", resources: [], purpose: "", legal_basis: t("case.basisDefault"), due_on: null, values: [] });
      if (!resources.value.length) {
        const page = await api("/catalog/resources?direction=inbound&size=200");
        resources.value = page.items.filter((r) => r.state !== "withdrawn" && r.state !== "draft");
      }
      dialog.value = true;
    }
    async function itemsOf(code) {
      if (!code || items[code]) return;
      const res = await api(`/catalog/resources/${encodeURIComponent(code)}`);
      items[code] = (res.published || res.document).items;
    }
    function addValue() { form.values.push({ resource: form.resources[0] || "", item: "", value: "" }); }
    watch(() => form.values.map((v) => v.resource), (codes) => codes.forEach(itemsOf));
    const dues = reactive({});
    watch(() => [...form.resources], async (codes) => {
      for (const code of codes) if (!dues[code]) dues[code] = await api(`/requests/due?resource=${encodeURIComponent(code)}`, { quiet: true }).catch(() => null);
    });
    async function send(submit) {
      if (!form.resources.length) return ElMessage.error(t("case.needResource"));
      if (form.purpose.trim().length < 4) return ElMessage.error(t("case.needPurpose"));
      const values = form.values.filter((v) => v.resource && v.item && v.value);
      if (form.kind === "verification" && form.resources.some((r) => !values.some((v) => v.resource === r))) return ElMessage.error(t("case.needValues"));
      const body = { kind: form.kind, resources: form.resources, purpose: form.purpose, legal_basis: form.legal_basis, submit,
        due_on: form.due_on || null,
        check_values: form.kind === "verification" ? values.map((v) => ({ resource: v.resource, values: { [v.item]: v.value } })) : [] };
      busy.value = true;
      try {
        const req = await api(`/cases/${id.value}/requests`, { method: "POST", body });
        ElMessage.success(t("case.sent", { n: req.items.length }));
        dialog.value = false;
        await load();
      } finally { busy.value = false; }
    }
    async function submitDraft(req) { await api(`/requests/${req.id}/submit`, { method: "POST" }); await load(); }
    const columns = window.innerWidth < 768 ? 1 : 2;  // a phone reads one pair per row
    onMounted(load);
    return { t, can, columns, dues, kase, data, load, unmask, dialog, form, resources, items, openNew, addValue, send, busy, submitDraft };
  },
  template: `
  <div>
    <p><router-link to="/cases">← {{ t('case.back') }}</router-link></p>
    <h2 class="page-title" data-test="case-title">{{ t('case.title') }} {{ kase?.case_no }}</h2>
    <el-card v-if="kase" shadow="never" style="margin-bottom:12px">
      <el-descriptions :column="columns" border size="small" class="case-desc">
        <el-descriptions-item :label="t('cases.debtor')">{{ kase.debtor.name }} <el-tag v-if="kase.debtor.is_synthetic" size="small" type="info">{{ t('cases.synthetic') }}</el-tag>
          <router-link :to="'/debtors/' + kase.debtor.id" data-test="debtor-file" style="margin-left:8px">{{ t('debtor.title') }} →</router-link></el-descriptions-item>
        <el-descriptions-item :label="t('cases.idNo')"><span data-test="debtor-id">{{ kase.debtor.id_no }}</span>
          <el-button v-if="kase.debtor.masked && can('pii:unmask')" link type="primary" data-test="unmask" @click="unmask">{{ t('cases.unmask') }}</el-button></el-descriptions-item>
        <el-descriptions-item :label="t('cases.procedure')">{{ kase.procedure }}</el-descriptions-item>
        <el-descriptions-item :label="t('cases.stage')">{{ kase.stage_label }}</el-descriptions-item>
        <el-descriptions-item :label="t('cases.accepted')">{{ kase.accepted_on }}</el-descriptions-item>
        <el-descriptions-item :label="t('case.address')">{{ kase.debtor.address }}</el-descriptions-item>
      </el-descriptions>
    </el-card>
    <case-decisions v-if="kase" :case-id="kase.id" />
    <template v-if="can('requests:write')">
      <el-alert v-for="r in data.reminders" :key="r.id" :type="r.kind === 'overdue' ? 'error' : 'warning'" :closable="false" show-icon style="margin-bottom:8px" data-test="reminder"
        :title="r.label + ' · ' + t('req.due') + ' ' + r.due_on" />
      <div class="toolbar">
        <h3 style="margin:0;flex:1">{{ t('case.requests') }}</h3>
        <el-button type="primary" data-test="new-request" @click="openNew">{{ t('case.new') }}</el-button>
      </div>
      <el-empty v-if="!data.requests.length" :description="t('case.none')" />
      <div v-for="req in data.requests" :key="req.id">
        <el-button v-if="req.items.some(i => i.state === 'draft')" size="small" type="primary" plain @click="submitDraft(req)">{{ t('case.send') }}</el-button>
        <request-card :req="req" @changed="load" />
      </div>
    </template>
    <el-dialog v-model="dialog" :title="t('case.new')" :width="columns === 1 ? '96%' : '640px'" class="req-dialog" data-test="request-dialog">
      <el-form label-position="top">
        <el-form-item :label="t('req.kind')"><el-radio-group v-model="form.kind" data-test="kind">
          <el-radio-button value="query">{{ t('case.kindQuery') }}</el-radio-button><el-radio-button value="verification" data-test="kind-verification">{{ t('case.kindVerify') }}</el-radio-button></el-radio-group></el-form-item>
        <el-form-item :label="t('case.resources')"><el-select v-model="form.resources" multiple filterable style="width:100%" data-test="resources">
          <el-option v-for="r in resources" :key="r.code" :value="r.code" :label="r.code + ' ' + r.name + '（' + r.provider_name + '）'" :data-test="'res-' + r.code" /></el-select></el-form-item>
        <template v-if="form.kind === 'verification'">
          <el-form-item :label="t('case.values')">
            <div v-for="(v, i) in form.values" :key="i" style="display:flex;flex-wrap:wrap;gap:6px;margin-bottom:6px;width:100%">
              <el-select v-model="v.resource" style="width:140px"><el-option v-for="c in form.resources" :key="c" :value="c" :label="c" /></el-select>
              <el-select v-model="v.item" style="width:160px" :placeholder="t('case.item')"><el-option v-for="it in (items[v.resource] || [])" :key="it.code" :value="it.code" :label="it.name" /></el-select>
              <el-input v-model="v.value" style="flex:1;min-width:140px" :placeholder="t('case.value')" :data-test="'value-' + i" />
            </div>
            <el-button size="small" @click="addValue" data-test="add-value">{{ t('case.addValue') }}</el-button>
          </el-form-item>
        </template>
        <el-form-item :label="t('case.purposeField')"><el-input v-model="form.purpose" :placeholder="t('case.purposeHint')" data-test="purpose" maxlength="500" /></el-form-item>
        <el-form-item :label="t('case.basis')"><el-input v-model="form.legal_basis" data-test="basis" maxlength="500" /></el-form-item>
        <el-form-item :label="t('case.due')"><el-date-picker v-model="form.due_on" type="date" value-format="YYYY-MM-DD" :placeholder="t('case.due')" style="width:100%" />
          <div class="muted">{{ t('case.dueHint') }}</div>
          <div v-if="!form.due_on" class="muted" data-test="default-due"><span v-for="c in form.resources" :key="c" style="margin-right:12px">{{ c }}: {{ dues[c] ? dues[c].due_on + ' (' + t('case.workingDays', { n: dues[c].working_days }) + ')' : '…' }}</span></div></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dialog = false">{{ t('common.cancel') }}</el-button>
        <el-button :loading="busy" @click="send(false)">{{ t('case.saveDraft') }}</el-button>
        <el-button type="primary" :loading="busy" data-test="send" @click="send(true)">{{ t('case.send') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
