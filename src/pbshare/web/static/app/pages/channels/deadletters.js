// Dead letters (sending gave up after the last retry, or the unit refused) with replay; refused inbound messages.
import { ref, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { fmtDateTime } from "../../format.js";

register({
  "dead.title": ["死信与拒收", "Dead letters and refusals"],
  "dead.intro": ["死信：多次重试仍发送失败、或被对方以错误消息拒收的消息；排除故障后可重发（信封编号不变，对方据此去重）。拒收：平台收到但不予接收的消息，原文连同原因保存。", "Dead letters: messages that failed after the last retry, or that the unit refused; fix the cause, then replay (same envelope id, so the unit removes duplicates). Refusals: messages the platform did not accept, kept with the reason."],
  "dead.tabDead": ["死信（发送）", "Dead letters (outgoing)"],
  "dead.tabRejected": ["拒收（接收）", "Refused (incoming)"],
  "dead.envelope": ["信封编号", "Envelope id"],
  "dead.receiver": ["接收单位", "Receiver"],
  "dead.type": ["类型", "Type"],
  "dead.state": ["状态", "State"],
  "dead.attempts": ["尝试次数", "Attempts"],
  "dead.error": ["最后错误", "Last error"],
  "dead.replay": ["重发", "Replay"],
  "dead.replayed": ["已重新进入发件箱", "Queued again"],
  "dead.code": ["原因代码", "Code"],
  "dead.message": ["原因", "Reason"],
  "dead.channel": ["通道", "Channel"],
  "dead.sender": ["发送方", "Sender"],
  "dead.received": ["收到时间", "Received"],
  "dead.size": ["字节", "Bytes"],
  "dead.raw": ["原文", "Raw"],
  "dead.state.dead": ["重试用尽", "Retries exhausted"],
  "dead.state.refused": ["对方拒收", "Refused by the unit"],
});

export default {
  name: "DeadLettersPage",
  setup() {
    const tab = ref("dead");
    const dead = ref([]);
    const rejected = ref([]);
    const raw = ref(null);
    const loading = ref(false);
    async function load() {
      loading.value = true;
      try {
        [dead.value, rejected.value] = await Promise.all([api("/exchange/dead-letters"), api("/exchange/rejected")]);
      } finally { loading.value = false; }
    }
    async function replay(row) {
      await api(`/exchange/dead-letters/${row.id}/replay`, { method: "POST" });
      ElMessage.success(t("dead.replayed")); load();
    }
    async function showRaw(row) { raw.value = (await api(`/exchange/rejected/${row.id}/raw`)).raw; }
    onMounted(load);
    return { t, fmtDateTime, tab, dead, rejected, raw, loading, load, replay, showRaw };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('dead.title') }}</h2>
    <el-alert :title="t('dead.intro')" type="info" :closable="false" show-icon style="margin-bottom:12px" />
    <div class="toolbar"><el-button @click="load">{{ t('common.refresh') }}</el-button></div>
    <el-tabs v-model="tab">
      <el-tab-pane :label="t('dead.tabDead') + ' (' + dead.length + ')'" name="dead">
        <el-table :data="dead" v-loading="loading" stripe style="width:100%" :empty-text="t('common.empty')" data-test="dead-table">
          <el-table-column prop="envelope_id" :label="t('dead.envelope')" min-width="200" class-name="hide-mobile" label-class-name="hide-mobile" />
          <el-table-column prop="receiver" :label="t('dead.receiver')" width="100" />
          <el-table-column prop="type" :label="t('dead.type')" width="90" />
          <el-table-column :label="t('dead.state')" width="110"><template #default="{ row }"><el-tag type="danger">{{ t('dead.state.' + row.state) }}</el-tag></template></el-table-column>
          <el-table-column prop="attempts" :label="t('dead.attempts')" width="80" />
          <el-table-column prop="last_error" :label="t('dead.error')" min-width="200" show-overflow-tooltip />
          <el-table-column :label="t('common.actions')" width="90"><template #default="{ row }"><el-button link type="primary" :data-test="'replay-' + row.id" @click="replay(row)">{{ t('dead.replay') }}</el-button></template></el-table-column>
        </el-table>
      </el-tab-pane>
      <el-tab-pane :label="t('dead.tabRejected') + ' (' + rejected.length + ')'" name="rejected">
        <el-table :data="rejected" v-loading="loading" stripe style="width:100%" :empty-text="t('common.empty')" data-test="rejected-table">
          <el-table-column prop="received_at" :label="t('dead.received')" min-width="150"><template #default="{ row }">{{ fmtDateTime(row.received_at) }}</template></el-table-column>
          <el-table-column prop="channel" :label="t('dead.channel')" width="80" />
          <el-table-column prop="sender" :label="t('dead.sender')" width="100" class-name="hide-mobile" label-class-name="hide-mobile" />
          <el-table-column prop="code" :label="t('dead.code')" width="150" />
          <el-table-column prop="message" :label="t('dead.message')" min-width="220" show-overflow-tooltip />
          <el-table-column prop="size" :label="t('dead.size')" width="80" class-name="hide-mobile" label-class-name="hide-mobile" />
          <el-table-column :label="t('common.actions')" width="80"><template #default="{ row }"><el-button link @click="showRaw(row)">{{ t('dead.raw') }}</el-button></template></el-table-column>
        </el-table>
      </el-tab-pane>
    </el-tabs>
    <el-dialog :model-value="raw !== null" @update:model-value="raw = null" :title="t('dead.raw')" width="min(720px, 95vw)">
      <pre class="mono" style="white-space:pre-wrap;word-break:break-all;max-height:60vh;overflow:auto">{{ raw }}</pre>
    </el-dialog>
  </div>`,
};
