// One resource: metadata, info items, consultation and publishing, version history with differences.
import { ref, reactive, computed, onMounted, watch } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, label, STATE_TAG, fmtTime, fieldLabel } from "./labels.js";
import { api } from "../../api.js";
import { can, session } from "../../session.js";
import { lang } from "../../i18n.js";

function today() { return new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10); }

export default {
  name: "ResourcePage",
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
    const consent = reactive({ open: false, unit_code: "", unit_name: "", agreed: true, decided_on: today(), comment: "" });
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
    const consult = () => act("consultation");
    async function publish() {
      const { value } = await ElMessageBox.prompt(t("cat.publishNote"), t("cat.publish"), { inputValue: "" });
      await act("publish", { note: value || null });
      ElMessage.success(t("cat.saved"));
    }
    async function withdraw() {
      const { value } = await ElMessageBox.prompt(t("cat.withdrawReason"), t("cat.withdraw"), { inputPattern: /.{2,}/ });
      await act("withdraw", { reason: value });
    }
    const reinstate = () => act("reinstate");
    async function remove() {
      await ElMessageBox.confirm(t("cat.confirmDelete"), t("cat.delete"), { type: "warning" });
      await api(`/catalog/resources/${code.value}`, { method: "DELETE" });
      router.push("/catalog");
    }
    function mayAnswer(c) { return can("catalog:consent") && (session.user.unit_code === "SZBA" || session.user.unit_code === c.unit_code); }
    function openConsent(c) { Object.assign(consent, { open: true, unit_code: c.unit_code, unit_name: c.unit_name, agreed: true, decided_on: today(), comment: "" }); }
    async function saveConsent() {
      res.value = await api(`/catalog/resources/${code.value}/consents`, { method: "POST", body: { unit_code: consent.unit_code, agreed: consent.agreed, decided_on: consent.decided_on, comment: consent.comment || null } });
      consent.open = false;
    }
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
    return { t, label, STATE_TAG, fmtTime, fieldLabel, res, doc, tab, versions, viewing, cmp, consent, consult, publish, withdraw, reinstate, remove, mayAnswer, openConsent, saveConsent, view, compare, show, can, attrLabel };
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
          <el-button v-if="res.state === 'draft' || res.state === 'revised'" type="warning" @click="consult" data-test="res-consult">{{ t('cat.toConsultation') }}</el-button>
          <el-button v-if="res.state === 'consultation'" type="success" :disabled="!res.can_publish" @click="publish" data-test="res-publish">{{ t('cat.publish') }}</el-button>
          <el-button v-if="res.state === 'published' || res.state === 'revised'" type="danger" plain @click="withdraw">{{ t('cat.withdraw') }}</el-button>
          <el-button v-if="res.state === 'withdrawn'" @click="reinstate">{{ t('cat.reinstate') }}</el-button>
          <el-button v-if="!res.version" type="danger" plain @click="remove">{{ t('cat.delete') }}</el-button>
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
            <el-table-column prop="recorded_by" :label="t('cat.recordedBy')" width="100" class-name="hide-mobile" label-class-name="hide-mobile" />
            <el-table-column :label="t('common.actions')" width="110"><template #default="{ row }">
              <el-button v-if="res.state === 'consultation' && mayAnswer(row)" link type="primary" @click="openConsent(row)" :data-test="'consent-' + row.unit_code">{{ t('cat.record') }}</el-button></template></el-table-column>
          </el-table>
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
      </el-form>
      <template #footer><el-button @click="consent.open = false">{{ t('common.cancel') }}</el-button><el-button type="primary" @click="saveConsent" data-test="consent-save">{{ t('common.save') }}</el-button></template>
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
