// One resource: metadata, info items, consultation and publishing, version history with differences.
import { ref, reactive, computed, onMounted, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, label, STATE_TAG, fmtTime, fieldLabel } from "./labels.js";
import { api } from "../../api.js";
import { can, session } from "../../session.js";
import { lang, register } from "../../i18n.js";
import { guardComponents } from "../../guard.js";

register({
  "cat.consultAsk": ["将把“{n}”发给 {u} 征求意见。征求意见期间如再修改，本轮意见作废、须重新征求。继续？", "“{n}” goes to {u} for their opinion. Editing it during the consultation voids this round's opinions. Continue?"],
  "cat.consulted": ["已提交征求意见（第 {r} 轮），等待 {u} 反馈", "Sent to consultation (round {r}); waiting for {u}"],
  "cat.publishAsk": ["发布为第 {v} 版：立即在共享目录中生效，各单位按新版本交换数据。可填写发布说明（可选）：", "Publish as version {v}: it takes effect in the catalog at once and units exchange data by it. A note for this version (optional):"],
  "cat.publishWaiting": ["尚未同意：{u}。各方同意后才能发布", "Not agreed yet: {u}. Publishing needs every party's consent"],
  "cat.publishedV": ["已发布 v{v}", "Published v{v}"],
  "cat.withdrawAsk": ["撤销后该资源退出共享目录，各单位不能再按它交换数据。请写明撤销理由：", "Withdrawn, the resource leaves the catalog and units can no longer exchange data by it. Why is it withdrawn?"],
  "cat.withdrawn": ["已撤销“{n}”", "Withdrew “{n}”"],
  "cat.reinstated": ["已恢复为草稿", "Reinstated as a draft"],
  "cat.deleteAsk": ["将删除草稿“{n}”及其全部信息项，删除后无法恢复。继续？", "The draft “{n}” and all its items will be deleted; this cannot be undone. Continue?"],
  "cat.deletedRes": ["已删除草稿“{n}”", "Deleted the draft “{n}”"],
  "cat.consentSaved": ["已登记 {u} 的意见：{o}", "Recorded the opinion of {u}: {o}"],
  "cat.onBehalf": ["代为登记", "Recorded on behalf"],
  "cat.onBehalfHint": ["您不属于 {u}：将标注为“署代为登记”，须写明意见的来源（来函文号、会议纪要等），可附扫描件。", "You are not from {u}: the opinion is marked as recorded by the office on its behalf; say what it came in (a letter's number, minutes) and attach the scan if you have it."],
  "cat.evidence": ["依据", "Evidence"],
  "cat.evidenceHelp": ["例如：深规资函〔2026〕88号（至少 4 个字）", "e.g. the letter's number (at least 4 characters)"],
  "cat.evidenceFile": ["附件（可选，700 KB 以内）", "Attachment (optional, up to 700 KB)"],
  "cat.evidencePick": ["选择文件", "Choose a file"],
  "cat.evidenceTooBig": ["附件超过 700 KB，请压缩或只附关键页", "The attachment is over 700 KB; compress it or attach the key pages only"],
  "cat.evidenceDownload": ["查看附件", "Open attachment"],
  "cat.earlierRounds": ["以往各轮意见", "Earlier rounds"],
  "cat.noOpinions": ["本轮未收到意见", "No opinion was given in this round"],
});

function today() { return new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10); }

export default {
  name: "ResourcePage",
  components: { ...guardComponents },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const code = computed(() => route.params.code);
    const res = ref(null);
    const attrs = ref([]);
    const tab = ref("meta");
    const versions = ref([]);
    const viewing = ref(null);
    const cmp = reactive({ from: null, to: "draft", result: null });
    const consent = reactive({ open: false, unit_code: "", unit_name: "", agreed: true, decided_on: today(), comment: "",
      evidence: "", file: null, fileName: "" });
    const doc = computed(() => res.value?.document);
    async function load() {
      res.value = await api(`/catalog/resources/${code.value}`);
      versions.value = await api(`/catalog/resources/${code.value}/versions`);
      if (versions.value.length && cmp.from === null) cmp.from = versions.value[versions.value.length - 1].version;
      if (!attrs.value.length) attrs.value = await api("/catalog/attributes");
    }
    async function act(path, body) {
      res.value = await api(`/catalog/resources/${code.value}/${path}`, { method: "POST", body });
      versions.value = await api(`/catalog/resources/${code.value}/versions`);
    }
    const parties = computed(() => (res.value?.consents || []).map((c) => c.unit_name).join("、") || res.value?.provider_name || "");
    async function consult() {
      await act("consultation");
      ElMessage.success(t("cat.consulted", { r: res.value.consultation_round, u: res.value.consents.map((c) => c.unit_name).join("、") }));
    }
    const publishWaiting = computed(() => (res.value && res.value.state === "consultation" && !res.value.can_publish
      ? t("cat.publishWaiting", { u: res.value.consents.filter((c) => !c.agreed).map((c) => c.unit_name).join("、") }) : ""));
    async function publish() {
      let note;
      try {
        ({ value: note } = await ElMessageBox.prompt(t("cat.publishAsk", { v: res.value.version + 1 }), t("cat.publish"),
          { inputValue: "", confirmButtonText: t("cat.publish"), cancelButtonText: t("common.cancel") }));
      } catch (e) { return; }
      await act("publish", { note: note || null });
      ElMessage.success(t("cat.publishedV", { v: res.value.version }));
    }
    async function withdraw() {
      let reason;
      try {
        ({ value: reason } = await ElMessageBox.prompt(t("cat.withdrawAsk"), t("cat.withdraw"), { inputPattern: /.{2,}/,
          inputErrorMessage: t("cat.withdrawReason"), confirmButtonText: t("cat.withdraw"), confirmButtonClass: "el-button--danger", cancelButtonText: t("common.cancel") }));
      } catch (e) { return; }
      await act("withdraw", { reason });
      ElMessage.success(t("cat.withdrawn", { n: res.value.document.name }));
    }
    async function reinstate() { await act("reinstate"); ElMessage.success(t("cat.reinstated")); }
    async function remove() {
      const name = res.value.document.name;
      await api(`/catalog/resources/${code.value}`, { method: "DELETE" });
      ElMessage.success(t("cat.deletedRes", { n: name }));
      router.push("/catalog");
    }
    function mayAnswer(c) { return can("catalog:consent") && (session.user.unit_code === "SZBA" || session.user.unit_code === c.unit_code); }
    function openConsent(c) { Object.assign(consent, { open: true, unit_code: c.unit_code, unit_name: c.unit_name, agreed: true, decided_on: today(), comment: "", evidence: "", file: null, fileName: "" }); }
    const onBehalf = computed(() => consent.unit_code && session.user?.unit_code !== consent.unit_code);
    function pickEvidence(upload) {
      const f = upload.raw || upload;
      if (f.size > 700 * 1024) { ElMessage.error(t("cat.evidenceTooBig")); return; }
      const reader = new FileReader();
      reader.onload = () => { consent.file = String(reader.result).split(",", 2)[1]; consent.fileName = f.name; };
      reader.readAsDataURL(f);
    }
    async function saveConsent() {
      const body = { unit_code: consent.unit_code, agreed: consent.agreed, decided_on: consent.decided_on, comment: consent.comment || null };
      if (onBehalf.value) Object.assign(body, { evidence: consent.evidence.trim() || null, evidence_name: consent.fileName || null, evidence_base64: consent.file || null });
      res.value = await api(`/catalog/resources/${code.value}/consents`, { method: "POST", body });
      consent.open = false;
      ElMessage.success(t("cat.consentSaved", { u: consent.unit_name, o: t(consent.agreed ? "cat.agree" : "cat.disagree") }));
    }
    const evidenceUrl = (round, c) => `/api/v1/catalog/resources/${code.value}/consents/${round}/${c.unit_code}/evidence`;
    async function view(v) { viewing.value = await api(`/catalog/resources/${code.value}/versions/${v.version}`); }
    async function compare() {
      cmp.result = await api(`/catalog/resources/${code.value}/diff?from=${cmp.from}&to=${cmp.to}`);
    }
    const show = (v) => (v === null || v === undefined ? "—" : Array.isArray(v) ? v.join("; ") : typeof v === "object" ? JSON.stringify(v) : String(v));
    const attrLabel = (c) => { const a = attrs.value.find((x) => x.code === c); return a ? (lang.value === "en" ? a.label_en : a.label_zh) : c; };
    onMounted(load);
    watch(code, load);
    // Re-read the history when its tab opens, so a version published a moment ago is listed.
    watch(tab, async (name) => { if (name === "versions") versions.value = await api(`/catalog/resources/${code.value}/versions`); });
    return { t, label, STATE_TAG, fmtTime, fieldLabel, res, doc, tab, versions, viewing, cmp, consent, consult, publish, withdraw, reinstate, remove, mayAnswer, openConsent, saveConsent, parties, publishWaiting, onBehalf, pickEvidence, evidenceUrl, session, view, compare, show, can, attrLabel };
  },
  template: `
  <div v-if="res">
    <div class="toolbar" style="justify-content:space-between">
      <h2 class="page-title" style="margin:0" data-test="res-title">{{ doc.code }} {{ doc.name }}
        <el-tag :type="STATE_TAG[res.state]" data-test="res-state">{{ label('state', res.state) }}</el-tag>
        <span v-if="res.version" class="muted">{{ t('cat.inEffect', { v: res.version }) }}</span>
      </h2>
      <div class="toolbar" style="margin:0">
        <el-button @click="$router.push('/catalog')">{{ t('cat.back') }}</el-button>
        <template v-if="can('catalog:write')">
          <el-button v-if="res.state !== 'withdrawn'" @click="$router.push('/catalog/r/' + doc.code + '/edit')" data-test="res-edit">{{ t('cat.edit') }}</el-button>
          <guarded-button v-if="res.state === 'draft' || res.state === 'revised'" type="warning" @click="consult" data-test="res-consult"
            :confirm="t('cat.consultAsk', { n: doc.name, u: parties })" :confirm-text="t('cat.toConsultation')">{{ t('cat.toConsultation') }}</guarded-button>
          <span v-if="res.state === 'consultation'" data-test="res-publish-wrap"><guarded-button type="success" :disabled-reason="publishWaiting" @click="publish" data-test="res-publish"
            :data-confirm="t('cat.publishAsk', { v: res.version + 1 })">{{ t('cat.publish') }}</guarded-button></span>
          <el-button v-if="res.state === 'published' || res.state === 'revised'" type="danger" plain @click="withdraw" :data-confirm="t('cat.withdrawAsk')" data-test="res-withdraw">{{ t('cat.withdraw') }}</el-button>
          <el-button v-if="res.state === 'withdrawn'" @click="reinstate">{{ t('cat.reinstate') }}</el-button>
          <guarded-button v-if="!res.version" type="danger" plain @click="remove" data-test="res-delete"
            :confirm="t('cat.deleteAsk', { n: doc.name })" :confirm-title="t('cat.delete')" :confirm-text="t('cat.delete')">{{ t('cat.delete') }}</guarded-button>
        </template>
      </div>
    </div>
    <el-alert v-if="res.state === 'revised'" type="info" :closable="false" :title="t('cat.revisedHint', { v: res.version })" style="margin-bottom:12px" />
    <el-tabs v-model="tab">
      <el-tab-pane :label="t('cat.metadata')" name="meta">
        <el-descriptions :column="2" border size="small" class="res-meta">
          <el-descriptions-item :label="t('cat.code')">{{ doc.code }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.classification')">{{ doc.classification || doc.code.slice(0, -3) }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.name')" :span="2">{{ doc.name }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.abstract')" :span="2">{{ show(doc.abstract) }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.provider')">{{ res.provider_name }} ({{ doc.provider }})</el-descriptions-item>
          <el-descriptions-item :label="t('cat.direction')">{{ label('direction', doc.direction) }}</el-descriptions-item>
          <el-descriptions-item v-if="doc.receivers.length" :label="t('cat.receivers')" :span="2">{{ doc.receivers.join('、') }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.shareType')">{{ label('share_type', doc.share_type) }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.shareCondition')">{{ show(doc.share_condition) }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.method')">{{ doc.method.map((m) => label('method', m)).join('、') }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.openScope')">{{ label('open_scope', doc.open_scope) }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.frequency')">{{ label('frequency', doc.frequency) }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.format')">{{ label('format', doc.format) }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.key')">{{ doc.key.join(', ') }}</el-descriptions-item>
          <el-descriptions-item :label="t('cat.publishDate')">{{ show(res.publish_date) }}</el-descriptions-item>
          <el-descriptions-item v-if="doc.related.length" :label="t('cat.related')" :span="2">{{ doc.related.join('、') }}</el-descriptions-item>
          <el-descriptions-item v-for="(v, k) in doc.attributes" :key="k" :label="attrLabel(k)" :span="2">{{ show(v) }}</el-descriptions-item>
        </el-descriptions>
      </el-tab-pane>
      <el-tab-pane :label="t('cat.items') + ' (' + doc.items.length + ')'" name="items">
        <el-table :data="doc.items" size="small" stripe data-test="res-items">
          <el-table-column prop="code" :label="t('cat.itemCode')" min-width="120" />
          <el-table-column prop="name" :label="t('cat.itemName')" min-width="140" />
          <el-table-column :label="t('cat.itemType')" width="90"><template #default="{ row }">{{ label('type', row.type) }}</template></el-table-column>
          <el-table-column prop="length" :label="t('cat.length')" width="70" />
          <el-table-column :label="t('cat.pii')" width="150"><template #default="{ row }"><el-tag v-if="row.pii" type="danger" size="small">{{ t('cat.pii') }}</el-tag> <span v-if="row.id_kind" class="muted">{{ label('id_kind', row.id_kind) }}</span></template></el-table-column>
          <el-table-column :label="t('cat.values')" min-width="160" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ (row.values || []).join('、') }}</template></el-table-column>
          <el-table-column prop="description" :label="t('cat.description')" min-width="120" class-name="hide-mobile" label-class-name="hide-mobile" />
        </el-table>
      </el-tab-pane>
      <el-tab-pane :label="t('cat.consultation')" name="consult">
        <div v-if="!res.consents.length" class="muted" style="padding:12px 0">{{ t('cat.noConsultation') }}</div>
        <template v-else>
          <p><el-tag size="small">{{ t('cat.round', { n: res.consultation_round }) }}</el-tag>
            <span v-if="res.state === 'consultation'" style="margin-left:8px">{{ res.can_publish ? t('cat.allAgreed') : t('cat.waiting') }}</span></p>
          <el-table :data="res.consents" size="small" data-test="consents">
            <el-table-column prop="unit_name" :label="t('cat.party')" min-width="180" />
            <el-table-column :label="t('cat.role')" width="110"><template #default="{ row }">{{ label('role', row.role) }}</template></el-table-column>
            <el-table-column :label="t('cat.opinion')" width="90"><template #default="{ row }">
              <el-tag v-if="row.agreed === true" type="success" size="small">{{ t('cat.agree') }}</el-tag>
              <el-tag v-else-if="row.agreed === false" type="danger" size="small">{{ t('cat.disagree') }}</el-tag>
              <el-tag v-else type="info" size="small">{{ t('cat.pending') }}</el-tag></template></el-table-column>
            <el-table-column prop="decided_on" :label="t('cat.decidedOn')" width="110" />
            <el-table-column prop="comment" :label="t('cat.comment')" min-width="140" />
            <el-table-column :label="t('cat.recordedBy')" min-width="130"><template #default="{ row }">{{ row.recorded_by }}
              <el-tooltip v-if="row.on_behalf" :content="t('cat.evidence') + '：' + (row.evidence || '')"><el-tag size="small" type="warning" data-test="on-behalf">{{ t('cat.onBehalf') }}</el-tag></el-tooltip>
              <a v-if="row.evidence_name" :href="evidenceUrl(res.consultation_round, row)" style="margin-left:4px" data-test="evidence-link">{{ t('cat.evidenceDownload') }}</a></template></el-table-column>
            <el-table-column :label="t('common.actions')" width="110"><template #default="{ row }">
              <el-button v-if="res.state === 'consultation' && mayAnswer(row)" link type="primary" @click="openConsent(row)" :data-test="'consent-' + row.unit_code">{{ t('cat.record') }}</el-button></template></el-table-column>
          </el-table>
          <div v-if="res.earlier_rounds && res.earlier_rounds.length" style="margin-top:16px" data-test="earlier-rounds">
            <h4 style="margin:6px 0">{{ t('cat.earlierRounds') }}</h4>
            <el-collapse>
              <el-collapse-item v-for="r in res.earlier_rounds" :key="r.round" :name="r.round" :title="t('cat.round', { n: r.round })" :data-test="'round-' + r.round">
                <div v-if="!r.consents.length" class="muted">{{ t('cat.noOpinions') }}</div>
                <el-table v-else :data="r.consents" size="small">
                  <el-table-column prop="unit_name" :label="t('cat.party')" min-width="160" />
                  <el-table-column :label="t('cat.opinion')" width="90"><template #default="{ row }">
                    <el-tag v-if="row.agreed" type="success" size="small">{{ t('cat.agree') }}</el-tag><el-tag v-else type="danger" size="small">{{ t('cat.disagree') }}</el-tag></template></el-table-column>
                  <el-table-column prop="decided_on" :label="t('cat.decidedOn')" width="110" />
                  <el-table-column prop="comment" :label="t('cat.comment')" min-width="140" />
                  <el-table-column :label="t('cat.recordedBy')" min-width="130"><template #default="{ row }">{{ row.recorded_by }}
                    <el-tooltip v-if="row.on_behalf" :content="t('cat.evidence') + '：' + (row.evidence || '')"><el-tag size="small" type="warning">{{ t('cat.onBehalf') }}</el-tag></el-tooltip>
                    <a v-if="row.evidence_name" :href="evidenceUrl(r.round, row)" style="margin-left:4px">{{ t('cat.evidenceDownload') }}</a></template></el-table-column>
                </el-table>
              </el-collapse-item>
            </el-collapse>
          </div>
        </template>
      </el-tab-pane>
      <el-tab-pane :label="t('cat.versions')" name="versions">
        <el-table :data="versions" size="small" data-test="versions">
          <el-table-column prop="version" :label="t('cat.version')" width="70" />
          <el-table-column :label="t('cat.publishedAt')" min-width="150"><template #default="{ row }">{{ fmtTime(row.published_at) }}</template></el-table-column>
          <el-table-column prop="published_by" :label="t('cat.publishedBy')" width="110" />
          <el-table-column prop="note" :label="t('cat.note')" min-width="140" />
          <el-table-column :label="t('common.actions')" width="80"><template #default="{ row }"><el-button link type="primary" @click="view(row)">{{ t('cat.view') }}</el-button></template></el-table-column>
        </el-table>
        <div v-if="versions.length" class="toolbar" style="margin-top:12px">
          <strong>{{ t('cat.compareTitle') }}</strong>
          <span>{{ t('cat.from') }}</span>
          <el-select v-model="cmp.from" style="width:110px" data-test="cmp-from"><el-option v-for="v in versions" :key="v.version" :label="'v' + v.version" :value="v.version" /></el-select>
          <span>{{ t('cat.to') }}</span>
          <el-select v-model="cmp.to" style="width:140px" data-test="cmp-to"><el-option :label="t('cat.draft')" value="draft" /><el-option v-for="v in versions" :key="v.version" :label="'v' + v.version" :value="v.version" /></el-select>
          <el-button type="primary" @click="compare" data-test="cmp-run">{{ t('cat.compare') }}</el-button>
        </div>
        <div v-if="cmp.result" data-test="diff">
          <p v-if="!cmp.result.fields.length && !cmp.result.items.length" class="muted">{{ t('cat.noDiff') }}</p>
          <el-table v-if="cmp.result.fields.length" :data="cmp.result.fields" size="small">
            <el-table-column :label="t('cat.field')" width="150"><template #default="{ row }">{{ fieldLabel(row.field) }}</template></el-table-column>
            <el-table-column :label="t('cat.before')"><template #default="{ row }">{{ show(row.before) }}</template></el-table-column>
            <el-table-column :label="t('cat.after')"><template #default="{ row }">{{ show(row.after) }}</template></el-table-column>
          </el-table>
          <el-table v-if="cmp.result.items.length" :data="cmp.result.items" size="small" style="margin-top:8px">
            <el-table-column prop="code" :label="t('cat.itemCode')" width="140" />
            <el-table-column prop="name" :label="t('cat.itemName')" width="150" />
            <el-table-column :label="t('cat.change')" width="80"><template #default="{ row }"><el-tag size="small" :type="row.change === 'added' ? 'success' : row.change === 'removed' ? 'danger' : 'warning'">{{ t('cat.' + row.change) }}</el-tag></template></el-table-column>
            <el-table-column :label="t('cat.field')"><template #default="{ row }"><div v-for="f in row.fields" :key="f.field">{{ fieldLabel(f.field) }}: {{ show(f.before) }} → {{ show(f.after) }}</div></template></el-table-column>
          </el-table>
        </div>
      </el-tab-pane>
    </el-tabs>

    <el-dialog v-model="consent.open" :title="t('cat.recordTitle', { u: consent.unit_name })" width="460px" style="max-width:96vw">
      <el-form label-width="80px">
        <el-form-item :label="t('cat.opinion')"><el-radio-group v-model="consent.agreed" data-test="consent-opinion"><el-radio :value="true">{{ t('cat.agree') }}</el-radio><el-radio :value="false">{{ t('cat.disagree') }}</el-radio></el-radio-group></el-form-item>
        <el-form-item :label="t('cat.decidedOn')"><el-date-picker v-model="consent.decided_on" type="date" value-format="YYYY-MM-DD" /></el-form-item>
        <el-form-item :label="t('cat.comment')"><el-input v-model="consent.comment" type="textarea" data-test="consent-comment" /></el-form-item>
        <template v-if="onBehalf">
          <el-alert type="warning" :closable="false" show-icon :title="t('cat.onBehalfHint', { u: consent.unit_name })" style="margin-bottom:10px" data-test="on-behalf-hint" />
          <el-form-item :label="t('cat.evidence')"><el-input v-model="consent.evidence" :placeholder="t('cat.evidenceHelp')" data-test="consent-evidence" /></el-form-item>
          <el-form-item :label="t('cat.evidenceFile')">
            <el-upload :auto-upload="false" :show-file-list="false" :on-change="pickEvidence" data-test="consent-file"><el-button size="small">{{ t('cat.evidencePick') }}</el-button></el-upload>
            <span v-if="consent.fileName" class="muted" style="margin-left:8px">{{ consent.fileName }}</span>
          </el-form-item>
        </template>
      </el-form>
      <template #footer><el-button @click="consent.open = false">{{ t('common.cancel') }}</el-button><el-button type="primary" @click="saveConsent" :disabled="onBehalf && consent.evidence.trim().length < 4" data-test="consent-save">{{ t('common.save') }}</el-button></template>
    </el-dialog>
    <el-dialog :model-value="!!viewing" @update:model-value="viewing = null" :title="viewing ? 'v' + viewing.version + ' ' + viewing.document.name : ''" width="760px" style="max-width:96vw">
      <template v-if="viewing">
        <p class="muted">{{ fmtTime(viewing.published_at) }} · {{ viewing.published_by }} · {{ viewing.note }}</p>
        <el-table :data="viewing.document.items" size="small">
          <el-table-column prop="code" :label="t('cat.itemCode')" />
          <el-table-column prop="name" :label="t('cat.itemName')" />
          <el-table-column :label="t('cat.itemType')"><template #default="{ row }">{{ label('type', row.type) }}</template></el-table-column>
          <el-table-column prop="length" :label="t('cat.length')" width="70" />
        </el-table>
      </template>
    </el-dialog>
  </div>`,
};
