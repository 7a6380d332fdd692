// Corrections (纠错): the office raises them on a delivery, an answer or rows and follows them to closure;
// a unit operator sees its own in the portal and answers with corrected rows. One page, two routes.
import { ref, reactive, computed, onMounted, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { fmtDateTime } from "../../format.js";

register({
  "corr.title": ["纠错", "Corrections"],
  "corr.portalTitle": ["纠错通知", "Correction requests"],
  "corr.intro": ["请数源单位更正其交付数据、查询答复或问题数据行；单位以交付消息（correlation_id 填纠错消息 id）或在门户中提交更正数据，更正前后的比对结果随纠错单留存，核对后关闭。", "Ask a source unit to correct a delivery, an answer or rows; it answers with a delivery whose correlation_id is the correction's envelope id, or in its portal. The comparison of before and after is kept with the correction; close it once checked."],
  "corr.portalIntro": ["平台请本单位更正以下数据。请按说明修正后提交，或由本单位系统以交付消息答复（correlation_id 填纠错消息 id）。", "The office asks your unit to correct the data below. Correct it and submit here, or have your system answer with a delivery whose correlation_id is the correction envelope's id."],
  "corr.new": ["发起纠错", "Raise a correction"],
  "corr.unit": ["单位", "Unit"],
  "corr.subject": ["对象", "About"],
  "corr.subjectId": ["对象编号（交付消息 id / 请求事项 id / 质量报告 id）", "Id (delivery envelope / request item / quality report)"],
  "corr.resource": ["资源", "Resource"],
  "corr.state": ["状态", "State"],
  "corr.what": ["问题说明", "What is wrong"],
  "corr.rule": ["未通过的规则", "Rule that failed"],
  "corr.lines": ["问题行号（逗号分隔，可不填）", "Row lines (comma separated, optional)"],
  "corr.created": ["发起", "Raised"],
  "corr.rows": ["问题数据行", "Rows"],
  "corr.rules": ["规则", "Rules"],
  "corr.events": ["处理经过", "History"],
  "corr.comparison": ["更正前后比对", "Before → after"],
  "corr.noComparison": ["单位尚未更正", "The unit has not answered yet"],
  "corr.notLanded": ["更正数据已收到，正在入库比对…", "The corrected data came; landing and comparing…"],
  "corr.counts": ["新增 {a}，变更 {c}，删除 {r}，未变 {u}", "{a} added, {c} changed, {r} removed, {u} unchanged"],
  "corr.openComparison": ["查看比对明细", "Open the comparison"],
  "corr.close": ["核对无误，关闭", "Checked: close"],
  "corr.withdraw": ["撤回", "Withdraw"],
  "corr.withdrawAsk": ["撤回理由", "Why withdraw it"],
  "corr.raise": ["发送给单位", "Send to the unit"],
  "corr.sent": ["纠错单已发出", "The correction is sent"],
  "corr.answer": ["提交更正数据", "Submit corrected data"],
  "corr.addRow": ["添加一行", "Add a row"],
  "corr.answered": ["更正数据已提交", "The corrected data is submitted"],
  "corr.all": ["全部", "All"],
  "corr.kind.delivery": ["交付数据", "Delivery"],
  "corr.kind.answer": ["查询答复", "Answer"],
  "corr.kind.rows": ["问题数据行", "Rows"],
  "corrstate.suggested": ["建议发起", "Suggested"],
  "corrstate.sent": ["已发送", "Sent"],
  "corrstate.waiting": ["待单位处理", "In the portal"],
  "corrstate.answered": ["已更正，待核对", "Answered"],
  "corrstate.closed": ["已关闭", "Closed"],
  "corrstate.withdrawn": ["已撤回", "Withdrawn"],
  "nav.corrections": ["纠错", "Corrections"],
  "nav.portalCorrections": ["纠错通知", "Corrections"],
});

const STATE_TYPE = { suggested: "warning", sent: "primary", waiting: "warning", answered: "success", closed: "info", withdrawn: "info" };
const fmt = (v) => fmtDateTime(v);

function page(portal) {
  return {
    name: portal ? "PortalCorrections" : "CorrectionsPage",
    setup() {
      const route = useRoute();
      const router = useRouter();
      const base = portal ? "/portal/corrections" : "/exchange/corrections";
      const rows = ref([]);
      const state = ref(route.query.state || "");
      const loading = ref(false);
      const current = ref(null);
      const items = ref([]);
      const answerRows = ref([]);
      const dialog = ref(false);
      const form = reactive({ subject_kind: route.query.kind || "delivery", subject_id: route.query.subject || "",
        what: "", rule: "", lines: "" });
      async function load() {
        loading.value = true;
        try { rows.value = await api(base + (state.value && !portal ? `?state=${state.value}` : "")); }
        finally { loading.value = false; }
      }
      async function open(id) {
        current.value = await api(`${base}/${id}`);
        if (portal && current.value.resource_code && ["sent", "waiting", "answered"].includes(current.value.state)) {
          const res = await api(`/catalog/resources/${current.value.resource_code}`, { quiet: true }).catch(() => null);
          items.value = res ? res.document.items : [];
          answerRows.value = (current.value.rows.length ? current.value.rows : [{}]).map((r) => ({ ...(r.key || {}) }));
        }
      }
      watch(() => route.params.id, (id) => { if (id) open(id); else current.value = null; });
      const go = (row) => router.push((portal ? "/portal/corrections/" : "/corrections/") + row.id);
      async function raise() {
        const lines = form.lines.split(/[,，\s]+/).map((x) => parseInt(x, 10)).filter((n) => n > 0);
        const body = { subject_kind: form.subject_kind, subject_id: form.subject_id.trim(), what: form.what.trim(),
          rows: lines.map((line) => ({ line })) };
        if (form.rule.trim()) body.rule = form.rule.trim();
        const c = await api("/exchange/corrections", { method: "POST", body });
        dialog.value = false; ElMessage.success(t("corr.sent")); load(); go(c);
      }
      async function raiseSuggested() {
        const c = await api(`/exchange/corrections/from-report/${current.value.quality_report_id}`, { method: "POST", body: {} });
        ElMessage.success(t("corr.sent")); current.value = c; load();
      }
      async function close() {
        current.value = await api(`/exchange/corrections/${current.value.id}/close`, { method: "POST", body: {} }); load();
      }
      async function withdraw() {
        const reason = window.prompt(t("corr.withdrawAsk")) || "";
        if (reason.trim().length < 2) return;
        current.value = await api(`/exchange/corrections/${current.value.id}/withdraw`, { method: "POST", body: { reason } });
        load();
      }
      async function answer() {
        const clean = answerRows.value.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== "" && v != null)))
          .filter((r) => Object.keys(r).length);
        current.value = await api(`/portal/corrections/${current.value.id}/answer`, { method: "POST", body: { rows: clean } });
        ElMessage.success(t("corr.answered")); load();
      }
      const comp = computed(() => current.value?.comparison || {});
      onMounted(() => { load(); if (route.params.id) open(route.params.id); if (route.query.subject && !portal) dialog.value = true; });
      return { t, portal, rows, state, loading, current, items, answerRows, dialog, form, comp, STATE_TYPE, fmt,
        load, open, go, raise, raiseSuggested, close, withdraw, answer };
    },
    template: `
    <div>
      <h2 class="page-title">{{ portal ? t('corr.portalTitle') : t('corr.title') }}</h2>
      <el-alert :title="portal ? t('corr.portalIntro') : t('corr.intro')" type="info" :closable="false" show-icon style="margin-bottom:12px" />
      <div class="toolbar" v-if="!portal">
        <el-button type="primary" data-test="corr-new" @click="dialog = true">{{ t('corr.new') }}</el-button>
        <el-select v-model="state" clearable :placeholder="t('corr.all')" style="width:160px" @change="load" data-test="corr-state">
          <el-option v-for="s in ['suggested','sent','waiting','answered','closed','withdrawn']" :key="s" :value="s" :label="t('corrstate.' + s)" />
        </el-select>
        <el-button @click="load">{{ t('common.refresh') }}</el-button>
      </div>
      <el-table :data="rows" v-loading="loading" stripe :empty-text="t('common.empty')" data-test="corr-table" @row-click="go" style="cursor:pointer">
        <el-table-column :label="t('corr.created')" min-width="150"><template #default="{ row }">{{ fmt(row.created_at) }}</template></el-table-column>
        <el-table-column v-if="!portal" :label="t('corr.unit')" min-width="140"><template #default="{ row }">{{ row.unit_code }} {{ row.unit_name }}</template></el-table-column>
        <el-table-column :label="t('corr.subject')" width="100"><template #default="{ row }">{{ t('corr.kind.' + row.subject_kind) }}</template></el-table-column>
        <el-table-column prop="resource_code" :label="t('corr.resource')" width="90" />
        <el-table-column :label="t('corr.what')" min-width="220" show-overflow-tooltip><template #default="{ row }">{{ row.what }}</template></el-table-column>
        <el-table-column :label="t('corr.state')" width="130"><template #default="{ row }"><el-tag :type="STATE_TYPE[row.state]" :data-test="'corr-state-' + row.id">{{ t('corrstate.' + row.state) }}</el-tag></template></el-table-column>
      </el-table>

      <el-drawer :model-value="!!current" @update:model-value="(v) => { if (!v) $router.push(portal ? '/portal/corrections' : '/corrections'); }" size="min(760px, 100%)" :title="t('corr.title')" data-test="corr-drawer">
        <template v-if="current">
          <el-descriptions :column="2" border size="small">
            <el-descriptions-item :label="t('corr.unit')">{{ current.unit_code }} {{ current.unit_name }}</el-descriptions-item>
            <el-descriptions-item :label="t('corr.state')"><el-tag :type="STATE_TYPE[current.state]" data-test="corr-current-state">{{ t('corrstate.' + current.state) }}</el-tag></el-descriptions-item>
            <el-descriptions-item :label="t('corr.subject')">{{ t('corr.kind.' + current.subject_kind) }} · <span class="mono">{{ current.subject_id }}</span></el-descriptions-item>
            <el-descriptions-item :label="t('corr.resource')">{{ current.resource_code || '-' }}</el-descriptions-item>
          </el-descriptions>
          <h4>{{ t('corr.what') }}</h4><div style="white-space:pre-wrap" data-test="corr-what">{{ current.what }}</div>
          <template v-if="current.rules.length"><h4>{{ t('corr.rules') }}</h4>
            <ul><li v-for="(r, i) in current.rules" :key="i">{{ r.name }}<span v-if="r.failed" class="muted"> · {{ r.failed }}</span></li></ul></template>
          <template v-if="current.rows.length"><h4>{{ t('corr.rows') }}</h4>
            <el-table :data="current.rows" size="small" max-height="220"><el-table-column prop="line" label="#" width="60" />
              <el-table-column label="key" min-width="200"><template #default="{ row }"><span class="mono">{{ JSON.stringify(row.key || {}) }}</span></template></el-table-column>
              <el-table-column prop="reason" :label="t('corr.what')" min-width="200" /></el-table></template>
          <h4>{{ t('corr.comparison') }}</h4>
          <div data-test="corr-comparison">
            <span v-if="!current.answered_at" class="muted">{{ t('corr.noComparison') }}</span>
            <span v-else-if="comp.added === undefined && comp.landed !== true && !comp.portal" class="muted">{{ t('corr.notLanded') }}</span>
            <template v-else>
              <span>{{ t('corr.counts', { a: comp.added ?? 0, c: comp.changed ?? 0, r: comp.removed ?? 0, u: comp.unchanged ?? 0 }) }}</span>
              <router-link v-if="comp.comparison_id && !portal" :to="'/compare/' + comp.comparison_id" style="margin-left:8px" data-test="corr-open-comparison">{{ t('corr.openComparison') }}</router-link>
            </template>
          </div>
          <template v-if="portal && ['sent', 'waiting', 'answered'].includes(current.state) && items.length">
            <h4>{{ t('corr.answer') }}</h4>
            <el-table :data="answerRows" size="small" data-test="corr-answer-table">
              <el-table-column v-for="it in items" :key="it.code" :label="it.name" min-width="130"><template #default="{ row }"><el-input v-model="row[it.code]" size="small" :data-test="'corr-cell-' + it.code" /></template></el-table-column>
            </el-table>
            <div class="toolbar" style="margin-top:8px"><el-button @click="answerRows.push({})">{{ t('corr.addRow') }}</el-button>
              <el-button type="primary" data-test="corr-answer" @click="answer">{{ t('corr.answer') }}</el-button></div>
          </template>
          <h4>{{ t('corr.events') }}</h4>
          <el-timeline><el-timeline-item v-for="(e, i) in current.events" :key="i" :timestamp="fmt(e.at)">{{ e.state_label }} · {{ e.actor }}<span v-if="e.note" class="muted"> · {{ e.note }}</span></el-timeline-item></el-timeline>
          <div class="toolbar" v-if="!portal">
            <el-button v-if="current.state === 'suggested' && current.quality_report_id" type="primary" data-test="corr-raise-suggested" @click="raiseSuggested">{{ t('corr.raise') }}</el-button>
            <el-button v-if="current.state === 'answered'" type="success" data-test="corr-close" @click="close">{{ t('corr.close') }}</el-button>
            <el-button v-if="['suggested','sent','waiting','answered'].includes(current.state)" @click="withdraw">{{ t('corr.withdraw') }}</el-button>
          </div>
        </template>
      </el-drawer>

      <el-dialog v-model="dialog" :title="t('corr.new')" width="min(600px, 95vw)">
        <el-form label-position="top" @submit.prevent>
          <el-form-item :label="t('corr.subject')"><el-radio-group v-model="form.subject_kind">
            <el-radio value="delivery">{{ t('corr.kind.delivery') }}</el-radio><el-radio value="answer">{{ t('corr.kind.answer') }}</el-radio><el-radio value="rows">{{ t('corr.kind.rows') }}</el-radio></el-radio-group></el-form-item>
          <el-form-item :label="t('corr.subjectId')"><el-input v-model="form.subject_id" data-test="corr-subject" /></el-form-item>
          <el-form-item :label="t('corr.what')"><el-input v-model="form.what" type="textarea" :rows="3" data-test="corr-what-input" /></el-form-item>
          <el-form-item :label="t('corr.rule')"><el-input v-model="form.rule" /></el-form-item>
          <el-form-item :label="t('corr.lines')"><el-input v-model="form.lines" placeholder="2, 5" /></el-form-item>
        </el-form>
        <template #footer><el-button @click="dialog = false">{{ t('common.cancel') }}</el-button><el-button type="primary" data-test="corr-send" :disabled="!form.subject_id.trim() || form.what.trim().length < 2" @click="raise">{{ t('corr.raise') }}</el-button></template>
      </el-dialog>
    </div>`,
  };
}

export default page(false);
export const PortalCorrections = page(true);
