// Subscriptions: register one (filters, channel), approve or refuse conditional ones with a reason, end one.
import { ref, reactive, computed, onMounted } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, lang } from "../../i18n.js";
import { api } from "../../api.js";
import { can, session } from "../../session.js";

const RESOURCES = [
  { code: "801001", events: ["case_accepted", "administrator_appointed", "public_display_started", "public_display_ended"] },
  { code: "801002", events: ["restriction_decided", "restriction_lifted"] },
  { code: "801003", events: ["discharge_decided"] },
];
const EVENT_LABELS = {
  case_accepted: ["案件受理", "Case accepted"], administrator_appointed: ["指定管理人", "Administrator appointed"],
  restriction_decided: ["决定行为限制", "Restriction decided"], restriction_lifted: ["解除行为限制", "Restriction lifted"],
  discharge_decided: ["免责裁定", "Discharge decided"], public_display_started: ["开始公示", "Display started"],
  public_display_ended: ["结束公示", "Display ended"],
};
export function eventLabel(e) { const l = EVENT_LABELS[e]; return l ? (lang.value.startsWith("en") ? l[1] : l[0]) : e; }

export default {
  name: "SubscriptionsPage",
  setup() {
    const rows = ref([]);
    const units = ref([]);
    const loading = ref(false);
    const dialog = ref(false);
    const manager = computed(() => can("catalog:write"));
    const form = reactive({ unit_code: "", resource_code: "801002", channel: "rest", districts: "", procedures: [], events: [], purpose: "" });
    const events = computed(() => (RESOURCES.find((r) => r.code === form.resource_code) || { events: [] }).events);
    async function load() {
      loading.value = true;
      try { rows.value = await api("/subscriptions"); } finally { loading.value = false; }
    }
    async function openNew() {
      if (!units.value.length) units.value = await api("/catalog/units").catch(() => []);
      Object.assign(form, { unit_code: manager.value ? "" : session.user?.unit_code, resource_code: "801002", channel: "rest",
        districts: "", procedures: [], events: [], purpose: "" });
      dialog.value = true;
    }
    async function save() {
      if (!form.unit_code || !form.resource_code || !form.channel || form.purpose.trim().length < 4) return ElMessage.error(t("sub.needFields"));
      const districts = form.districts.split(/[\s,，、]+/).filter(Boolean);
      const sub = await api("/subscriptions", { method: "POST", body: { unit_code: form.unit_code, resource_code: form.resource_code,
        channel: form.channel, purpose: form.purpose, filters: { districts, procedures: form.procedures, events: form.events } } });
      ElMessage.success(t("sub.created", { s: sub.state_label }));
      dialog.value = false; load();
    }
    async function ask(title) {
      const { value } = await ElMessageBox.prompt(t("sub.reasonPrompt"), title, { inputPattern: /\S{2,}/, inputErrorMessage: t("sub.reasonPrompt") });
      return value;
    }
    async function decide(row, approve) {
      const reason = await ask(approve ? t("sub.approve") : t("sub.reject"));
      await api(`/subscriptions/${row.id}/decision`, { method: "POST", body: { approve, reason } });
      ElMessage.success(t("sub.decided")); load();
    }
    async function end(row) {
      const reason = await ask(t("sub.end"));
      await api(`/subscriptions/${row.id}/end`, { method: "POST", body: { reason } });
      ElMessage.success(t("sub.decided")); load();
    }
    function filtersText(f) {
      return [...(f.districts || []), ...(f.procedures || []), ...(f.events || []).map(eventLabel)].join("、") || "—";
    }
    onMounted(load);
    return { t, rows, units, loading, dialog, form, events, manager, RESOURCES, load, openNew, save, decide, end, filtersText, eventLabel };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('sub.title') }}</h2>
    <el-alert :title="t('sub.intro')" type="info" :closable="false" show-icon style="margin-bottom:12px" />
    <div class="toolbar">
      <el-button type="primary" data-test="new-subscription" @click="openNew">{{ t('sub.new') }}</el-button>
      <el-button @click="load">{{ t('common.refresh') }}</el-button>
    </div>
    <el-table :data="rows" v-loading="loading" stripe style="width:100%" :empty-text="t('sub.none')" data-test="subscriptions">
      <el-table-column :label="t('sub.unit')" min-width="150"><template #default="{ row }">{{ row.unit_name }} <span class="muted">{{ row.unit_code }}</span></template></el-table-column>
      <el-table-column :label="t('sub.resource')" min-width="170"><template #default="{ row }">{{ row.resource_code }} {{ row.resource_name }}
        <el-tag size="small" :type="row.share_type === 'conditional' ? 'warning' : 'success'">{{ row.share_type === 'conditional' ? t('sub.conditional') : t('sub.unconditional') }}</el-tag></template></el-table-column>
      <el-table-column prop="channel" :label="t('sub.channel')" width="80" />
      <el-table-column :label="t('sub.filters')" min-width="140" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ filtersText(row.filters) }}</template></el-table-column>
      <el-table-column prop="purpose" :label="t('sub.purpose')" min-width="140" show-overflow-tooltip class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column :label="t('sub.state')" width="110"><template #default="{ row }"><el-tag :type="{active:'success',pending:'warning',rejected:'danger'}[row.state] || 'info'" :data-test="'state-' + row.unit_code">{{ row.state_label }}</el-tag></template></el-table-column>
      <el-table-column :label="t('sub.decision')" min-width="140" show-overflow-tooltip class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ row.decision_reason || '—' }}</template></el-table-column>
      <el-table-column :label="t('sub.sent') + ' / ' + t('sub.acked')" width="100"><template #default="{ row }">{{ row.sent }} / {{ row.acknowledged }}</template></el-table-column>
      <el-table-column :label="t('common.actions')" width="170"><template #default="{ row }">
        <template v-if="manager && row.state === 'pending'">
          <el-button link type="primary" :data-test="'approve-' + row.unit_code" @click="decide(row, true)">{{ t('sub.approve') }}</el-button>
          <el-button link type="danger" @click="decide(row, false)">{{ t('sub.reject') }}</el-button>
        </template>
        <el-button v-if="row.state === 'active' || row.state === 'pending'" link @click="end(row)">{{ t('sub.end') }}</el-button>
      </template></el-table-column>
    </el-table>
    <el-dialog v-model="dialog" :title="t('sub.new')" width="min(600px, 96vw)" data-test="subscription-dialog">
      <el-form label-position="top">
        <el-form-item :label="t('sub.unit')"><el-select v-model="form.unit_code" filterable :disabled="!manager" style="width:100%" data-test="sub-unit">
          <el-option v-for="u in units.filter(u => u.code !== 'SZBA')" :key="u.code" :value="u.code" :label="u.name + ' ' + u.code" /></el-select></el-form-item>
        <el-form-item :label="t('sub.resource')"><el-radio-group v-model="form.resource_code" @change="form.events = []" data-test="sub-resource">
          <el-radio-button v-for="r in RESOURCES" :key="r.code" :value="r.code">{{ r.code }}</el-radio-button></el-radio-group></el-form-item>
        <el-form-item :label="t('sub.channel')"><el-select v-model="form.channel" style="width:100%" data-test="sub-channel">
          <el-option v-for="c in ['rest','amqp','mqtt','nats','soap','socket','govhub']" :key="c" :value="c" :label="c" /></el-select></el-form-item>
        <el-form-item :label="t('sub.districts')"><el-input v-model="form.districts" :placeholder="t('sub.districtsHint')" data-test="sub-districts" /></el-form-item>
        <el-form-item :label="t('sub.procedures')"><el-checkbox-group v-model="form.procedures">
          <el-checkbox v-for="p in ['清算','重整','和解']" :key="p" :value="p">{{ p }}</el-checkbox></el-checkbox-group></el-form-item>
        <el-form-item :label="t('sub.events')"><el-checkbox-group v-model="form.events">
          <el-checkbox v-for="e in events" :key="e" :value="e">{{ eventLabel(e) }}</el-checkbox></el-checkbox-group>
          <div class="muted">{{ t('sub.anyEvent') }}: —</div></el-form-item>
        <el-form-item :label="t('sub.purpose')"><el-input v-model="form.purpose" :placeholder="t('sub.purposeHint')" maxlength="500" data-test="sub-purpose" /></el-form-item>
      </el-form>
      <template #footer><el-button @click="dialog = false">{{ t('common.cancel') }}</el-button><el-button type="primary" data-test="sub-save" @click="save">{{ t('common.save') }}</el-button></template>
    </el-dialog>
  </div>`,
};
