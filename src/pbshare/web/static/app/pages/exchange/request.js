// One request and its items (查询/核查): used on the case page, on its own page, and the handler's home counts.
import { ref, onMounted, computed } from "vue";
import { useRoute } from "vue-router";
import { ElMessageBox, ElMessage } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { fmtDate, fmtDateTime } from "../../format.js";

register({
  "req.title": ["请求", "Request"],
  "req.kind": ["类型", "Kind"],
  "req.unit": ["单位", "Unit"],
  "req.resource": ["资源", "Resource"],
  "req.state": ["状态", "State"],
  "req.due": ["答复期限", "Due"],
  "req.route": ["发送方式", "Sent by"],
  "req.overdue": ["已逾期", "Overdue"],
  "req.purpose": ["用途", "Purpose"],
  "req.legalBasis": ["法律依据", "Legal basis"],
  "req.createdBy": ["发起人", "Asked by"],
  "req.answer": ["答复", "Answer"],
  "req.noRecords": ["单位答复：未查到记录", "The unit answered: no records"],
  "req.answeredBy": ["答复人", "Answered by"],
  "req.channel": ["渠道", "Channel"],
  "req.message": ["消息编号", "Message id"],
  "req.withdraw": ["撤回", "Withdraw"],
  "req.check": ["核验", "Mark checked"],
  "req.close": ["办结", "Close"],
  "req.withdrawAsk": ["撤回后单位将不再处理该事项，确定撤回？", "The unit will no longer handle this item. Withdraw it?"],
  "req.rejected": ["退回理由", "Reason given"],
  "req.values": ["核查值", "Values checked"],
  "req.result": ["结果", "Result"],
  "req.portal": ["单位门户", "Unit portal"],
  "req.todoTitle": ["我的查询核查", "My requests to units"],
  "req.todoOverdue": ["逾期未答复", "Overdue"],
  "req.todoAnswered": ["已答复待核验", "Answered, to check"],
  "req.todoWaiting": ["等待单位答复", "Waiting on units"],
  "req.done": ["已完成", "Done"],
  "req.showFull": ["查看完整答复", "Show the answer in full"],
  "req.compared": ["与 {d} 的答复相比：新增 {a} 条，减少 {r} 条，未变 {u} 条", "Against the answer of {d}: {a} added, {r} removed, {u} unchanged"],
});

// The answer of one item: records in a table (identifiers masked), or a result per value checked.
export const AnswerView = {
  name: "AnswerView",
  props: { item: Object },
  setup(props) {
    const columns = computed(() => {
      const keys = [];
      for (const r of props.item.answer?.records || []) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
      return keys;
    });
    const show = (v) => (v === true ? "是" : v === false ? "否" : v ?? "");
    return { t, fmtDateTime, fmtDate, columns, show };
  },
  template: `
  <div class="answer" data-test="answer">
    <div class="muted">{{ t('req.answeredBy') }}: {{ item.answer.answered_by }} · {{ t('req.channel') }}: {{ item.answer.channel }}
      <span v-if="item.answer.message_id"> · {{ t('req.message') }}: {{ item.answer.message_id }}</span>
      · {{ fmtDateTime(item.answer.answered_at) }}</div>
    <template v-if="item.kind === 'verification'">
      <el-table :data="item.answer.results" size="small" style="width:100%">
        <el-table-column :label="t('req.values')" min-width="160"><template #default="{ row }">{{ Object.values(row.values || {}).join(' / ') || ('#' + row.index) }}</template></el-table-column>
        <el-table-column :label="t('req.result')" width="110"><template #default="{ row }"><el-tag :type="row.result === 'match' ? 'success' : row.result === 'mismatch' ? 'danger' : 'info'" size="small" :data-test="'result-' + row.index">{{ row.label }}</el-tag></template></el-table-column>
        <el-table-column prop="note" label="" min-width="120" />
      </el-table>
    </template>
    <template v-else>
      <div v-if="!item.answer.records.length" class="muted">{{ t('req.noRecords') }}</div>
      <div v-else style="overflow-x:auto"><el-table :data="item.answer.records" size="small" style="width:100%">
        <el-table-column v-for="c in columns" :key="c" :label="c" min-width="120"><template #default="{ row }">{{ show(row[c]) }}</template></el-table-column>
      </el-table></div>
    </template>
    <div v-if="item.answer.note" class="muted">{{ item.answer.note }}</div>
    <div v-if="item.answer.compared" class="muted" data-test="compared">{{ t('req.compared', { d: fmtDate(item.answer.compared.answered_at), a: item.answer.compared.added, r: item.answer.compared.removed, u: item.answer.compared.unchanged }) }}</div>
  </div>`,
};

// One request with its items and the handler's actions on them.
export const RequestCard = {
  name: "RequestCard",
  components: { AnswerView },
  props: { req: Object },
  emits: ["changed"],
  setup(props, { emit }) {
    async function showFull(item) {
      const { value } = await ElMessageBox.prompt(t("cases.purpose"), t("req.showFull"), { inputPattern: /.{4,}/ });
      const full = await api(`/requests/items/${item.id}/unmask`, { method: "POST", body: { purpose: value } });
      item.answer = full.answer;
    }
    async function act(item, action) {
      if (action === "withdraw") await ElMessageBox.confirm(t("req.withdrawAsk"), t("req.withdraw"), { type: "warning" });
      await api(`/requests/items/${item.id}/${action}`, { method: "POST" });
      ElMessage.success(t("req.done"));
      emit("changed");
    }
    const stateType = (s) => ({ answered: "success", checked: "success", closed: "info", rejected: "danger", withdrawn: "info" }[s] || "warning");
    return { t, fmtDateTime, act, stateType, showFull, can };
  },
  template: `
  <el-card shadow="never" class="req-card" :data-test="'request-' + req.id" style="margin-bottom:12px">
    <template #header>
      <div style="display:flex;flex-wrap:wrap;gap:8px;align-items:center">
        <el-tag size="small">{{ req.kind_label }}</el-tag>
        <strong>{{ req.purpose }}</strong>
        <span class="muted">{{ t('req.legalBasis') }}: {{ req.legal_basis }} · {{ t('req.createdBy') }}: {{ req.created_by }} · {{ fmtDateTime(req.created_at) }}</span>
      </div>
    </template>
    <div v-for="item in req.items" :key="item.id" class="req-item" :data-test="'item-' + item.resource_code" style="border-bottom:1px solid #eee;padding:8px 0">
      <div style="display:flex;flex-wrap:wrap;gap:8px;align-items:center">
        <strong>{{ item.unit_name }}</strong>
        <span>{{ item.resource_code }} {{ item.resource_name }}</span>
        <el-tag :type="stateType(item.state)" size="small" data-test="item-state">{{ item.state_label }}</el-tag>
        <el-tag v-if="item.overdue" type="danger" size="small" effect="dark">{{ t('req.overdue') }}</el-tag>
        <span class="muted">{{ t('req.due') }} {{ item.due_on }} · {{ t('req.route') }}: {{ item.route === 'portal' ? t('req.portal') : item.route }}</span>
        <span style="flex:1"></span>
        <el-button v-if="item.allowed.includes('checked')" size="small" type="primary" data-test="check" @click="act(item, 'check')">{{ t('req.check') }}</el-button>
        <el-button v-if="item.allowed.includes('closed')" size="small" data-test="close" @click="act(item, 'close')">{{ t('req.close') }}</el-button>
        <el-button v-if="item.allowed.includes('withdrawn')" size="small" type="danger" plain data-test="withdraw" @click="act(item, 'withdraw')">{{ t('req.withdraw') }}</el-button>
      </div>
      <div v-if="item.reject_reason" class="muted">{{ t('req.rejected') }}: {{ item.reject_reason }}</div>
      <div v-if="req.kind === 'verification' && !item.answer" class="muted">{{ t('req.values') }}: {{ req.check_values.filter(c => c.resource === item.resource_code).map(c => Object.values(c.values).join(' / ')).join('；') }}</div>
      <answer-view v-if="item.answer" :item="item" />
      <el-button v-if="item.answer && item.answer.masked && can('pii:unmask')" link type="primary" size="small" data-test="answer-full" @click="showFull(item)">{{ t('req.showFull') }}</el-button>
    </div>
  </el-card>`,
};

// The handler's to-do counts on the home page.
export const HandlerTodo = {
  name: "HandlerTodo",
  setup() {
    const counts = ref(null);
    onMounted(async () => { counts.value = await api("/requests/counts", { quiet: true }).catch(() => null); });
    return { t, counts };
  },
  template: `
  <div v-if="counts" class="cards" style="grid-template-columns:repeat(3, minmax(0, 1fr))" data-test="handler-todo">
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('req.todoOverdue') }}</div><div class="num" data-test="todo-overdue">{{ counts.overdue }}</div></el-card>
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('req.todoAnswered') }}</div><div class="num" data-test="todo-answered">{{ counts.answered }}</div></el-card>
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('req.todoWaiting') }}</div><div class="num">{{ counts.todo }}</div></el-card>
  </div>`,
};

export default {
  name: "RequestPage",
  components: { RequestCard },
  setup() {
    const route = useRoute();
    const req = ref(null);
    async function load() { req.value = await api(`/requests/${route.params.id}`); }
    onMounted(load);
    return { t, fmtDateTime, req, load };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('req.title') }}</h2>
    <p v-if="req"><router-link :to="'/cases/' + req.case_id">← {{ t('cases.title') }}</router-link></p>
    <request-card v-if="req" :req="req" @changed="load" />
  </div>`,
};
