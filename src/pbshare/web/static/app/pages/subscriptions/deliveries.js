// Per subscriber: what was pushed, when, acknowledged or not, how late.
import { ref, onMounted } from "vue";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { fmtDateTime } from "../../format.js";

export default {
  name: "SubscriptionDeliveriesPage",
  setup() {
    const summary = ref([]);
    const rows = ref([]);
    const unit = ref("");
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try {
        const q = unit.value ? `?unit=${encodeURIComponent(unit.value)}` : "";
        [summary.value, rows.value] = await Promise.all([api("/subscriptions/subscribers"), api(`/subscriptions/deliveries${q}`)]);
      } finally { loading.value = false; }
    }
    function when(v) { return fmtDateTime(v); }
    function pick(row) { unit.value = unit.value === row.unit_code ? "" : row.unit_code; load(); }
    onMounted(load);
    return { t, summary, rows, unit, loading, load, when, pick };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('del.title') }}</h2>
    <el-alert :title="t('del.intro')" type="info" :closable="false" show-icon style="margin-bottom:12px" />
    <div class="toolbar"><el-button @click="load">{{ t('common.refresh') }}</el-button><el-tag v-if="unit" closable @close="unit = ''; load()">{{ unit }}</el-tag></div>
    <h3>{{ t('del.summary') }}</h3>
    <el-table :data="summary" v-loading="loading" stripe style="width:100%" :empty-text="t('common.empty')" data-test="subscribers" @row-click="pick">
      <el-table-column :label="t('sub.unit')" min-width="160"><template #default="{ row }">{{ row.unit_name }} <span class="muted">{{ row.unit_code }}</span></template></el-table-column>
      <el-table-column prop="sent" :label="t('sub.sent')" width="80" />
      <el-table-column :label="t('sub.acked')" width="90"><template #default="{ row }"><span :data-test="'acked-' + row.unit_code">{{ row.acknowledged }}</span></template></el-table-column>
      <el-table-column prop="waiting" :label="t('del.waiting')" width="80" />
      <el-table-column prop="failed" :label="t('del.failed')" width="80" />
      <el-table-column :label="t('del.maxLate')" width="120"><template #default="{ row }">{{ row.max_late_seconds ?? '—' }}</template></el-table-column>
      <el-table-column :label="t('del.avgLate')" width="120" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ row.avg_late_seconds ?? '—' }}</template></el-table-column>
    </el-table>
    <h3>{{ t('del.list') }}</h3>
    <el-table :data="rows" v-loading="loading" stripe style="width:100%" :empty-text="t('del.none')" data-test="deliveries">
      <el-table-column prop="unit_code" :label="t('sub.unit')" width="100" />
      <el-table-column prop="resource_code" :label="t('sub.resource')" width="80" />
      <el-table-column prop="case_no" :label="t('del.case')" min-width="180" show-overflow-tooltip />
      <el-table-column prop="event_label" :label="t('del.event')" width="120" />
      <el-table-column :label="t('del.eventAt')" min-width="150" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ when(row.event_at) }}</template></el-table-column>
      <el-table-column :label="t('del.sentAt')" min-width="150"><template #default="{ row }">{{ when(row.sent_at) }}</template></el-table-column>
      <el-table-column :label="t('sub.state')" width="110"><template #default="{ row }"><el-tag :type="row.acknowledged ? 'success' : (['dead','refused','not_sent'].includes(row.state) ? 'danger' : 'warning')">{{ row.acknowledged ? t('del.ack') : t('del.notAck') }}</el-tag></template></el-table-column>
      <el-table-column :label="t('del.ackAt')" min-width="150" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ when(row.acknowledged_at) }}</template></el-table-column>
      <el-table-column :label="t('del.late')" width="100"><template #default="{ row }">{{ row.late_seconds ?? '—' }}</template></el-table-column>
      <el-table-column prop="attempts" :label="t('del.attempts')" width="70" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column prop="note" :label="t('del.note')" min-width="160" show-overflow-tooltip class-name="hide-mobile" label-class-name="hide-mobile" />
    </el-table>
  </div>`,
};
