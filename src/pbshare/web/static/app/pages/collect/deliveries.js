// Deliveries received from units over the channels: where each landed, its counts and verdict.
import { ref, onMounted, onUnmounted } from "vue";
import { ElMessage } from "element-plus";
import { register, t } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { fmt } from "./labels.js";

register({
  "nav.deliveries": ["接收的数据", "Received deliveries"],
  "dlv.hint": ["各单位经交换通道报送的数据：平台按目录资源的信息项检查、入库（错误行进入隔离区），并向单位回执结果。测试消息只进入联调测试区。",
               "Data units sent over the exchange channels: checked against the resource's info items and landed (bad rows go to quarantine); the unit gets a receipt. Test messages land only in the joint-testing area."],
  "dlv.sender": ["报送单位", "Sender"],
  "dlv.resource": ["目录资源", "Resource"],
  "dlv.channel": ["通道", "Channel"],
  "dlv.received": ["接收时间", "Received"],
  "dlv.state": ["状态", "State"],
  "dlv.state.received": ["待入库", "Waiting to land"],
  "dlv.state.processed": ["已入库", "Landed"],
  "dlv.state.failed": ["入库失败", "Failed"],
  "dlv.result": ["结果", "Result"],
  "dlv.status.accepted": ["通过", "Accepted"],
  "dlv.status.accepted_with_warnings": ["通过（有警告）", "Accepted with warnings"],
  "dlv.status.rejected": ["拒收", "Rejected"],
  "dlv.status.refused": ["无法入库", "Refused"],
  "dlv.status.failed": ["失败", "Failed"],
  "dlv.counts": ["行数 {rows} · 入库 {loaded} · 隔离 {quarantined}", "{rows} rows · {loaded} loaded · {quarantined} quarantined"],
  "dlv.target": ["入库表", "Landed in"],
  "dlv.openRun": ["查看导入记录", "Open the run"],
  "dlv.landAgain": ["重新入库", "Land again"],
  "dlv.landQueued": ["已重新排队入库", "Queued to land again"],
  "dlv.test": ["测试", "Test"],
  "dlv.all": ["全部", "All"],
});

const STATUS_TYPE = { accepted: "success", accepted_with_warnings: "warning", rejected: "danger", refused: "danger", failed: "danger" };

export default {
  name: "DeliveriesPage",
  setup() {
    const rows = ref([]);
    const total = ref(0);
    const page = ref(1);
    const state = ref("");
    const loading = ref(false);
    let timer = null;
    async function load() {
      loading.value = true;
      try {
        const q = new URLSearchParams({ page: page.value, size: 20 });
        if (state.value) q.set("state", state.value);
        const data = await api(`/collect/deliveries?${q}`);
        rows.value = data.items; total.value = data.total;
      } finally { loading.value = false; }
    }
    async function landAgain(row) {
      await api(`/collect/deliveries/${row.envelope_id}/land`, { method: "POST" });
      ElMessage.success(t("dlv.landQueued"));
      load();
    }
    onMounted(() => { load(); timer = setInterval(load, 5000); });
    onUnmounted(() => clearInterval(timer));
    return { t, rows, total, page, state, loading, load, landAgain, fmt, can, STATUS_TYPE };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.deliveries') }}</h2>
    <el-alert type="info" :closable="false" show-icon :title="t('dlv.hint')" style="margin-bottom:12px" />
    <el-radio-group v-model="state" @change="page = 1; load()" style="margin-bottom:12px" data-test="delivery-state">
      <el-radio-button value="">{{ t('dlv.all') }}</el-radio-button>
      <el-radio-button value="received">{{ t('dlv.state.received') }}</el-radio-button>
      <el-radio-button value="processed">{{ t('dlv.state.processed') }}</el-radio-button>
      <el-radio-button value="failed">{{ t('dlv.state.failed') }}</el-radio-button>
    </el-radio-group>
    <el-table :data="rows" v-loading="loading" stripe :empty-text="t('common.empty')" data-test="deliveries-table">
      <el-table-column :label="t('dlv.received')" min-width="150"><template #default="{ row }">{{ fmt(row.received_at) }}</template></el-table-column>
      <el-table-column :label="t('dlv.sender')" width="110"><template #default="{ row }">{{ row.sender }} <el-tag v-if="row.test" size="small" type="info">{{ t('dlv.test') }}</el-tag></template></el-table-column>
      <el-table-column prop="resource" :label="t('dlv.resource')" width="100" />
      <el-table-column prop="channel" :label="t('dlv.channel')" width="80" />
      <el-table-column :label="t('dlv.state')" width="100"><template #default="{ row }">{{ t('dlv.state.' + row.state) }}</template></el-table-column>
      <el-table-column :label="t('dlv.result')" min-width="260"><template #default="{ row }">
        <template v-if="row.result">
          <el-tag size="small" :type="STATUS_TYPE[row.result.status] || 'info'">{{ t('dlv.status.' + row.result.status) }}</el-tag>
          <span v-if="row.result.rows !== undefined" style="margin-left:6px">{{ t('dlv.counts', row.result) }}</span>
          <div v-if="row.result.message" class="muted">{{ row.result.message }}</div>
          <div v-if="row.result.target" class="muted">{{ t('dlv.target') }}: {{ row.result.target }}</div>
        </template>
      </template></el-table-column>
      <el-table-column width="190"><template #default="{ row }">
        <router-link v-if="row.result && row.result.run_id" :to="'/collect/runs/' + row.result.run_id">{{ t('dlv.openRun') }}</router-link>
        <el-button v-if="row.state !== 'received' && can('collect:manage')" link type="primary" @click="landAgain(row)">{{ t('dlv.landAgain') }}</el-button>
      </template></el-table-column>
    </el-table>
    <el-pagination v-if="total > 20" layout="prev, pager, next, total" :total="total" :page-size="20" v-model:current-page="page" @current-change="load" />
  </div>`,
};
