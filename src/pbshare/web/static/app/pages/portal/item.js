// One item in the unit portal: who is asked about (masked), what is wanted, accept / reject, answer by form or sheet.
import { ref, reactive, computed, onMounted } from "vue";
import { useRoute } from "vue-router";
import { ElMessageBox, ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import "./labels.js";
import { fmtDateTime } from "../../format.js";

export default {
  name: "PortalItem",
  setup() {
    const route = useRoute();
    const item = ref(null);
    const records = ref([]);
    const results = ref([]);
    const note = ref("");
    const busy = ref(false);
    const fileInput = ref(null);
    const id = computed(() => route.params.id);
    const canAnswer = computed(() => item.value && item.value.allowed.includes("answered"));
    function blank() { const r = {}; for (const it of item.value.info_items) r[it.code] = null; return r; }
    function reset() {
      records.value = item.value.kind === "query" ? [blank()] : [];
      results.value = item.value.check_values.map((v, i) => ({ index: i, result: null, note: "" }));
      note.value = "";
    }
    async function load() { item.value = await api(`/portal/items/${id.value}`); reset(); }
    async function showFull() {
      const { value } = await ElMessageBox.prompt(t("portal.purposeAsk"), t("portal.showFull"), { inputPattern: /.{4,}/ });
      item.value = await api(`/portal/items/${id.value}/unmask`, { method: "POST", body: { purpose: value } });
    }
    async function accept() { await api(`/portal/items/${id.value}/accept`, { method: "POST" }); await load(); }
    async function reject() {
      const { value } = await ElMessageBox.prompt(t("portal.rejectAsk"), t("portal.reject"), { inputPattern: /.{2,}/, inputErrorMessage: t("portal.reasonShort") });
      await api(`/portal/items/${id.value}/reject`, { method: "POST", body: { reason: value } });
      await load();
    }
    function clean(r) { const out = {}; for (const [k, v] of Object.entries(r)) if (v !== null && v !== "") out[k] = v; return out; }
    async function submit() {
      busy.value = true;
      try {
        const body = item.value.kind === "query"
          ? { records: records.value.map(clean).filter((r) => Object.keys(r).length), note: note.value || null }
          : { results: results.value.map((r) => ({ index: r.index, result: r.result, note: r.note || null })), note: note.value || null };
        item.value = await api(`/portal/items/${id.value}/answer`, { method: "POST", body });
        ElMessage.success(t("portal.sent"));
      } finally { busy.value = false; }
    }
    async function template() {
      const res = await api(`/portal/items/${id.value}/template`, { raw: true });
      const blob = await res.blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `${item.value.resource_code}-template.xlsx`;
      a.click();
      URL.revokeObjectURL(a.href);
    }
    async function upload(file) {
      if (!file) return;
      const form = new FormData();
      form.append("file", file);
      busy.value = true;
      try {
        const out = await api(`/portal/items/${id.value}/upload`, { method: "POST", form });
        item.value = out.item;
        ElMessage.success(t("portal.uploaded", { n: out.rows }));
      } finally { busy.value = false; }
    }
    const show = (v) => (v === true ? t("portal.yes") : v === false ? t("portal.no") : v ?? "");
    onMounted(load);
    return { t, fmtDateTime, item, records, results, note, busy, canAnswer, fileInput, showFull, accept, reject, submit, template, upload, blank, show };
  },
  template: `
  <div v-if="item" class="portal-item">
    <p><router-link to="/portal">← {{ t('portal.back') }}</router-link></p>
    <h2 class="page-title" data-test="item-title">{{ item.resource_code }} {{ item.resource_name }}</h2>
    <el-alert v-for="r in item.reminders" :key="r.id" :type="r.kind === 'overdue' ? 'error' : 'warning'" :closable="false" show-icon style="margin-bottom:8px" :title="r.label + ' · ' + t('portal.due') + ' ' + r.due_on" data-test="reminder" />
    <el-card shadow="never" style="margin-bottom:12px">
      <el-descriptions :column="1" border size="small">
        <el-descriptions-item :label="t('portal.kind')">{{ item.kind_label }}</el-descriptions-item>
        <el-descriptions-item :label="t('portal.state')"><el-tag size="small" data-test="state">{{ item.state_label }}</el-tag> <el-tag v-if="item.overdue" size="small" type="danger" effect="dark">{{ t('portal.overdue') }}</el-tag></el-descriptions-item>
        <el-descriptions-item :label="t('portal.due')">{{ item.due_on }}</el-descriptions-item>
        <el-descriptions-item :label="t('portal.case')">{{ item.case_no }}</el-descriptions-item>
        <el-descriptions-item :label="t('portal.subject')"><div v-for="s in item.subjects" :key="s.debtor_id">{{ s.name }} <span data-test="subject-id">{{ s.id_no }}</span>
          <el-button v-if="s.masked" link type="primary" data-test="show-full" @click="showFull">{{ t('portal.showFull') }}</el-button></div></el-descriptions-item>
        <el-descriptions-item :label="t('portal.purpose')">{{ item.purpose }}</el-descriptions-item>
        <el-descriptions-item :label="t('portal.basis')">{{ item.legal_basis }}</el-descriptions-item>
        <el-descriptions-item v-if="item.reject_reason" :label="t('portal.rejectedReason')">{{ item.reject_reason }}</el-descriptions-item>
      </el-descriptions>
      <div class="toolbar" style="margin-top:12px">
        <el-button v-if="item.allowed.includes('accepted')" type="primary" data-test="accept" @click="accept">{{ t('portal.accept') }}</el-button>
        <el-button v-if="item.allowed.includes('rejected')" type="danger" plain data-test="reject" @click="reject">{{ t('portal.reject') }}</el-button>
      </div>
    </el-card>

    <el-card v-if="canAnswer" shadow="never" style="margin-bottom:12px" data-test="answer-form">
      <el-tabs>
        <el-tab-pane :label="t('portal.answerForm')">
          <template v-if="item.kind === 'query'">
            <div v-for="(rec, n) in records" :key="n" style="border:1px dashed #ddd;border-radius:6px;padding:8px;margin-bottom:8px">
              <div style="display:flex;justify-content:space-between"><strong>{{ t('portal.record', { n: n + 1 }) }}</strong>
                <el-button link type="danger" @click="records.splice(n, 1)">{{ t('portal.removeRecord') }}</el-button></div>
              <el-form label-position="top" size="small">
                <el-form-item v-for="it in item.info_items" :key="it.code" :label="it.name">
                  <el-select v-if="it.type === 'enum'" v-model="rec[it.code]" clearable style="width:100%" :data-test="'f-' + it.code"><el-option v-for="v in it.values" :key="v" :value="v" :label="v" /></el-select>
                  <el-select v-else-if="it.type === 'boolean'" v-model="rec[it.code]" clearable style="width:100%" :data-test="'f-' + it.code"><el-option :value="true" :label="t('portal.yes')" /><el-option :value="false" :label="t('portal.no')" /></el-select>
                  <el-date-picker v-else-if="it.type === 'date'" v-model="rec[it.code]" type="date" value-format="YYYY-MM-DD" style="width:100%" :data-test="'f-' + it.code" />
                  <el-input v-else v-model="rec[it.code]" :maxlength="it.length || undefined" :inputmode="it.type === 'integer' || it.type === 'decimal' ? 'decimal' : 'text'" :data-test="'f-' + it.code" />
                </el-form-item>
              </el-form>
            </div>
            <el-button size="small" data-test="add-record" @click="records.push(blank())">{{ t('portal.addRecord') }}</el-button>
            <div class="muted" style="margin:6px 0">{{ t('portal.noRecordHint') }}</div>
          </template>
          <template v-else>
            <div v-for="r in results" :key="r.index" style="border:1px dashed #ddd;border-radius:6px;padding:8px;margin-bottom:8px">
              <div><strong>#{{ r.index + 1 }}</strong> {{ Object.entries(item.check_values[r.index]).map(([k, v]) => ((item.info_items.find(i => i.code === k) || {}).name || k) + '：' + v).join('；') }}</div>
              <el-radio-group v-model="r.result" :data-test="'result-' + r.index" style="margin:6px 0">
                <el-radio value="match">{{ t('portal.match') }}</el-radio><el-radio value="mismatch">{{ t('portal.mismatch') }}</el-radio><el-radio value="not_found">{{ t('portal.notFound') }}</el-radio>
              </el-radio-group>
              <el-input v-model="r.note" size="small" :placeholder="t('portal.note')" maxlength="500" />
            </div>
          </template>
          <el-input v-model="note" type="textarea" :rows="2" :placeholder="t('portal.note')" maxlength="500" style="margin:8px 0" />
          <el-button type="primary" :loading="busy" data-test="submit-answer" @click="submit">{{ t('portal.submit') }}</el-button>
        </el-tab-pane>
        <el-tab-pane :label="t('portal.answerUpload')">
          <p class="muted">{{ t('portal.uploadHint') }}</p>
          <div class="toolbar">
            <el-button data-test="download-template" @click="template">{{ t('portal.template') }}</el-button>
            <file-pick accept=".xlsx,.csv" :loading="busy" data-test="upload" @pick="upload" />
          </div>
        </el-tab-pane>
      </el-tabs>
    </el-card>

    <el-card v-if="item.answer" shadow="never" style="margin-bottom:12px" data-test="our-answer">
      <template #header>{{ t('portal.answer') }}</template>
      <div v-for="(r, n) in item.answer.records" :key="'r' + n" style="margin-bottom:6px"><strong>{{ t('portal.record', { n: n + 1 }) }}</strong>
        <div v-for="it in item.info_items" :key="it.code" v-show="r[it.code] !== undefined && r[it.code] !== null" class="muted">{{ it.name }}：{{ show(r[it.code]) }}</div></div>
      <div v-for="r in item.answer.results" :key="'v' + r.index">#{{ r.index + 1 }} {{ Object.values(r.values || {}).join(' / ') }} → <el-tag size="small">{{ r.label }}</el-tag> {{ r.note }}</div>
    </el-card>

    <el-card shadow="never">
      <template #header>{{ t('portal.history') }}</template>
      <el-timeline>
        <el-timeline-item v-for="(h, n) in item.history" :key="n" :timestamp="fmtDateTime(h.at)">{{ h.to_label }} · {{ h.actor }}<span v-if="h.note"> · {{ h.note }}</span></el-timeline-item>
      </el-timeline>
    </el-card>
  </div>`,
};
