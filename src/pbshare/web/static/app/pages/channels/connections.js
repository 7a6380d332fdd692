// Connections: each is one unit on one channel, with its state, health and traffic counts.
import { ref, reactive, computed, onMounted } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { guardComponents, confirmAction } from "../../guard.js";
import { pickerComponents } from "../../pickers.js";
import { tableComponents } from "../../tables.js";

register({
  "conn.title": ["接入连接", "Connections"],
  "conn.intro": ["每个连接是“单位 × 通道 × 设置 × 密钥”。草稿 → 联调测试（只收发 test 测试消息）→ 正式运行；暂停或终止后消息被拒收，终止时密钥吊销。", "A connection is unit × channel × settings × keys. Draft → joint testing (test messages only) → live; suspended or terminated connections refuse messages, and terminating revokes the keys."],
  "conn.new": ["新建连接", "New connection"],
  "conn.unit": ["单位代码", "Unit code"],
  "conn.channel": ["通道", "Channel"],
  "conn.name": ["名称", "Name"],
  "conn.state": ["状态", "State"],
  "conn.health": ["连通性", "Health"],
  "conn.traffic": ["流量（收/发/送达）", "Traffic (in/out/delivered)"],
  "conn.rejected": ["拒收", "Refused"],
  "conn.dead": ["死信", "Dead"],
  "conn.lastSeen": ["最近来信", "Last message"],
  "conn.settings": ["通道设置", "Channel settings"],
  "conn.settingsHelp": ["按通道填写：REST 推送地址 url（留空为对方拉取）；SOAP 对方 wsdl；套接字对方 host 与 port；消息队列无需填写", "Per channel: REST webhook url (empty: the unit pulls); SOAP the unit's wsdl; socket the unit's host and port; message queues need nothing"],
  "conn.sigAlg": ["签名算法", "Signature"],
  "conn.pub": ["单位 SM2 公钥（十六进制）", "Unit's SM2 public key (hex)"],
  "conn.encrypt": ["SM4-GCM 加密载荷", "Encrypt payloads (SM4-GCM)"],
  "conn.move": ["变更状态", "Change state"],
  "conn.check": ["检查连通", "Check"],
  "conn.testMsg": ["发测试消息", "Send test"],
  "conn.testSent": ["测试消息已进入发件箱，将由投递程序发送", "The test message is in the outbox; the dispatcher will send it"],
  "conn.rotate": ["更换密钥", "New keys"],
  "conn.creds": ["连接密钥（只显示这一次，请通过安全渠道交给对方单位的工程师）", "Connection keys (shown only now; hand them to the unit's engineer over a safe path)"],
  "conn.moveAsk": ["将连接“{n}”改为：", "Move connection “{n}” to:"],
  "conn.terminateAsk": ["终止后密钥立即吊销、消息一律拒收，且不可恢复。继续？", "Terminating revokes the keys and refuses every message, for good. Continue?"],
  "conn.never": ["从未", "never"],
  "conn.liveAsk": ["将连接“{n}”正式上线：此后收发正式业务数据，不再只是测试消息。继续？", "Put connection “{n}” live: from now on it carries real business data, not only test messages. Continue?"],
  "conn.suspendAsk": ["暂停连接“{n}”：暂停期间该单位的消息一律拒收，可随时恢复。继续？", "Suspend connection “{n}”: while suspended every message from the unit is refused; it can be resumed. Continue?"],
  "conn.moveDone": ["连接“{n}”已改为：{s}", "Connection “{n}” is now: {s}"],
  "conn.created": ["已创建连接“{n}”，请保存下方密钥", "Connection “{n}” created; save its keys below"],
  "conn.rotateAsk": ["为“{n}”更换密钥：旧密钥立即失效，对方系统须换用新密钥后才能继续收发。继续？", "New keys for “{n}”: the old keys stop working at once and the unit's system must switch to the new ones. Continue?"],
  "jt.open": ["联调测试", "Joint test"],
  "jt.title": ["联调测试：{n}", "Joint test: {n}"],
  "jt.intro": ["测试计划按共享目录逐个资源做一次往返：请求 → 答复、交付 → 回执、推送 → 回执，均为 test 测试消息，并按资源信息项核对。全部通过后方可上线。", "The test plan makes one round trip per resource in the catalog: request → answer, delivery → receipt, push → receipt, all test messages, checked against the resource's info items. The connection goes live once every step has passed."],
  "jt.start": ["运行测试计划", "Run the test plan"],
  "jt.refresh": ["刷新结果", "Refresh"],
  "jt.finish": ["结束并出具报告", "End and report"],
  "jt.excel": ["下载报告（Excel）", "Download report (Excel)"],
  "jt.none": ["尚未运行测试计划", "The test plan has not been run"],
  "jt.report": ["通过 {p}，未通过 {f}，等待 {w}", "{p} passed, {f} failed, {w} waiting"],
  "jt.kind": ["往返", "Round trip"],
  "jt.resource": ["资源", "Resource"],
  "jt.result": ["结果", "Result"],
  "jt.elapsed": ["耗时", "Time"],
  "jt.failures": ["问题", "Failures"],
  "jt.goLive": ["上线", "Go live"],
  "jt.override": ["管理员强制上线…", "Override and go live…"],
  "jt.overrideAsk": ["未通过联调测试而上线须写明理由（将记入审计日志）：", "Going live without a passed joint test needs a reason (it is audited):"],
  "jt.reasonShort": ["理由至少 4 个字", "At least 4 characters"],
  "jt.wentLive": ["连接已上线", "The connection is live"],
  "leave.title": ["终止连接（退出共享）：{n}", "Terminate the connection (leaving): {n}"],
  "leave.intro": ["终止后不可恢复。以下内容将被关闭：", "This cannot be undone. These will be closed:"],
  "leave.kept": ["保留可查：", "Kept and readable:"],
  "leave.reason": ["终止理由", "Why"],
  "leave.reasonHelp": ["例如：单位撤并、停止共享（至少 4 个字）", "e.g. the unit merged, stops sharing (at least 4 characters)"],
  "leave.confirm": ["确认终止", "Terminate"],
  "leave.done": ["连接已终止，已关闭 {n} 项", "The connection is terminated; {n} things closed"],
  "leave.kind.keys": ["密钥", "Keys"],
  "leave.kind.listener": ["监听", "Listener"],
  "leave.kind.outbox": ["待发消息", "Queued messages"],
  "leave.kind.api_client": ["API 客户端", "API client"],
  "leave.kind.subscription": ["订阅", "Subscription"],
  "leave.kind.catalog_receiver": ["目录接收单位", "Catalog receiver"],
  "leave.kind.unit_state": ["共享状态", "Sharing state"],
  "state.draft": ["草稿", "Draft"],
  "state.testing": ["联调测试", "Joint testing"],
  "state.live": ["正式运行", "Live"],
  "state.suspended": ["暂停", "Suspended"],
  "state.terminated": ["已终止", "Terminated"],
  "health.ok": ["正常", "OK"],
  "health.down": ["异常", "Down"],
  "health.unknown": ["未检查", "Unknown"],
});

const NEXT = { draft: ["testing", "terminated"], testing: ["live", "draft", "suspended", "terminated"],
  live: ["suspended", "testing", "terminated"], suspended: ["live", "testing", "terminated"], terminated: [] };
// A transport's health answer (exchange/channel.py Health.detail, English from the transport) in the page's
// language; what matches no pattern (an error's own text) is shown as it came.
register({
  "health.queues": ["入站 {i} 条等待处理，出站 {o} 条等待发送", "in {i} waiting, out {o} waiting"],
  "health.brokerReachable": ["消息服务器可连通", "broker reachable"],
  "health.reachable": ["{h} 可连通", "{h} reachable"],
  "health.listening": ["正在 {h} 监听", "listening on {h}"],
  "health.noListener": ["监听未运行", "listener not running"],
  "health.servedRest": ["入站与拉取由本平台网站提供", "inbound and pull served by the web application"],
  "health.servedAt": ["由本平台网站在 {p} 提供", "served at {p} by the web application"],
  "health.hubPull": ["从政务交换平台拉取", "pull from the hub"],
  "health.hubHttp": ["交换平台：HTTP {s}", "hub: HTTP {s}"],
  "health.broker": ["消息服务器 {u}", "broker {u}"],
  "health.wsdl": ["WSDL {u} 可读取", "WSDL {u} readable"],
});
const HEALTH = [
  [/^in (\d+) waiting, out (\d+) waiting$/, (m) => t("health.queues", { i: m[1], o: m[2] })],
  [/^broker reachable$/, () => t("health.brokerReachable")],
  [/^listening on (\S+)$/, (m) => t("health.listening", { h: m[1] })],
  [/^listener not running$/, () => t("health.noListener")],
  [/^inbound and pull served by the web application$/, () => t("health.servedRest")],
  [/^served at (\S+) by the web application$/, (m) => t("health.servedAt", { p: m[1] })],
  [/^pull from the hub$/, () => t("health.hubPull")],
  [/^hub: HTTP (\d+)$/, (m) => t("health.hubHttp", { s: m[1] })],
  [/^WSDL (\S+) readable$/, (m) => t("health.wsdl", { u: m[1] })],
  [/^broker (\S+)$/, (m) => t("health.broker", { u: m[1] })],
  [/^(\S+) reachable$/, (m) => t("health.reachable", { h: m[1] })],
];
export function healthText(detail) {
  if (!detail) return "-";
  for (const [rx, say] of HEALTH) { const m = detail.match(rx); if (m) return say(m); }
  return detail;
}
const STATE_TYPE = { draft: "info", testing: "warning", live: "success", suspended: "danger", terminated: "info" };

export default {
  name: "ConnectionsPage",
  components: { ...guardComponents, ...pickerComponents, ...tableComponents },
  setup() {
    const rows = ref([]);
    const channels = ref([]);
    const loading = ref(false);
    const dialog = ref(false);
    const issued = ref(null);
    const form = reactive({ unit_code: "", channel: "rest", name: "", url: "", wsdl: "", host: "", port: "",
      sig_alg: "HMAC-SM3", unit_public_key: "", encrypt: false });
    async function load() {
      loading.value = true;
      try { rows.value = await api("/exchange/connections"); } finally { loading.value = false; }
    }
    async function create() {
      const settings = {};
      if (form.channel === "rest" && form.url) settings.url = form.url;
      if (form.channel === "soap" && form.wsdl) settings.wsdl = form.wsdl;
      if (form.channel === "socket" && form.host) { settings.host = form.host; settings.port = Number(form.port); }
      const body = { unit_code: form.unit_code, channel: form.channel, name: form.name, settings,
        sig_alg: form.sig_alg, encrypt: form.encrypt };
      if (form.sig_alg === "SM2-SM3") body.unit_public_key = form.unit_public_key.trim();
      const out = await api("/exchange/connections", { method: "POST", body });
      dialog.value = false; issued.value = out.credentials; ElMessage.success(t("conn.created", { n: form.name })); load();
    }
    async function move(row, to) {
      if (to === "terminated") return openLeave(row); // its own dialog says what closes and asks for the reason
      if (to === "live") {
        const status = await api(`/exchange/connections/${row.id}/go-live`);
        if (!status.can_go_live) return openJointTest(row);
        if (!(await confirmAction(t("conn.liveAsk", { n: row.name }), { confirmText: t("jt.goLive") }))) return;
        await api(`/exchange/connections/${row.id}/go-live`, { method: "POST", body: {} });
        ElMessage.success(t("conn.moveDone", { n: row.name, s: t("state.live") }));
        return load();
      }
      if (to === "suspended" && !(await confirmAction(t("conn.suspendAsk", { n: row.name }), { confirmText: t("state.suspended") }))) return;
      await api(`/exchange/connections/${row.id}/state`, { method: "POST", body: { to } });
      ElMessage.success(t("conn.moveDone", { n: row.name, s: t("state." + to) }));
      load();
    }
    // joint testing ------------------------------------------------------------------------------
    const jt = reactive({ open: false, row: null, status: null, busy: false });
    async function jtLoad() {
      jt.status = await api(`/exchange/connections/${jt.row.id}/go-live`);
      if (jt.status.latest_report && jt.status.latest_report.state === "running") {
        jt.status.latest_report = await api(`/exchange/jointtests/${jt.status.latest_report.id}`);
        jt.status = await api(`/exchange/connections/${jt.row.id}/go-live`);
      }
    }
    async function openJointTest(row) { jt.row = row; jt.status = null; jt.open = true; await jtLoad(); }
    async function jtStart() {
      jt.busy = true;
      try { await api(`/exchange/connections/${jt.row.id}/jointtests`, { method: "POST" }); await jtLoad(); }
      finally { jt.busy = false; }
    }
    async function jtFinish() {
      await api(`/exchange/jointtests/${jt.status.latest_report.id}/finish`, { method: "POST" }); await jtLoad();
    }
    async function jtGoLive(override) {
      const body = {};
      if (override) {
        const { value } = await ElMessageBox.prompt(t("jt.overrideAsk"), t("jt.override"), {
          inputValidator: (v) => (v || "").trim().length >= 4 || t("jt.reasonShort"), inputType: "textarea" });
        body.override_reason = value.trim();
      }
      await api(`/exchange/connections/${jt.row.id}/go-live`, { method: "POST", body });
      ElMessage.success(t("jt.wentLive")); jt.open = false; load();
    }
    const jtExcel = computed(() => jt.status?.latest_report ? `/api/v1/exchange/jointtests/${jt.status.latest_report.id}/export.xlsx` : "");
    // leaving ------------------------------------------------------------------------------------
    const leave = reactive({ open: false, row: null, preview: null, reason: "" });
    async function openLeave(row) {
      leave.row = row; leave.reason = ""; leave.preview = await api(`/exchange/connections/${row.id}/termination`);
      leave.open = true;
    }
    async function confirmLeave() {
      const out = await api(`/exchange/connections/${leave.row.id}/termination`, { method: "POST",
        body: { reason: leave.reason.trim(), confirm: true } });
      ElMessage.success(t("leave.done", { n: out.closes.length })); leave.open = false; load();
    }
    async function check(row) {
      Object.assign(row, await api(`/exchange/connections/${row.id}/health`, { method: "POST" }));
    }
    async function sendTest(row) {
      await api(`/exchange/connections/${row.id}/test-message`, { method: "POST", body: {} });
      ElMessage.success(t("conn.testSent")); load();
    }
    async function rotate(row) {
      if (!(await confirmAction(t("conn.rotateAsk", { n: row.name }), { confirmText: t("conn.rotate") }))) return;
      issued.value = await api(`/exchange/connections/${row.id}/rotate-keys`, { method: "POST" });
    }
    const credsText = computed(() => issued.value ? Object.entries(issued.value).map(([k, v]) => `${k}: ${v}`).join("\n") : "");
    onMounted(async () => { channels.value = await api("/exchange/channels"); load(); });
    const CONFIRMED = { live: "conn.liveAsk", suspended: "conn.suspendAsk", terminated: "leave.intro" };
    return { t, healthText, CONFIRMED, rows, channels, loading, dialog, form, issued, credsText, NEXT, STATE_TYPE, load, create, move, check, sendTest, rotate,
      jt, openJointTest, jtLoad, jtStart, jtFinish, jtGoLive, jtExcel, leave, openLeave, confirmLeave };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('conn.title') }}</h2>
    <el-alert :title="t('conn.intro')" type="info" :closable="false" show-icon style="margin-bottom:12px" />
    <div class="toolbar">
      <el-button type="primary" data-test="conn-new" @click="dialog = true">{{ t('conn.new') }}</el-button>
      <el-button @click="load">{{ t('common.refresh') }}</el-button>
    </div>
    <list-table :data="rows" :name="t('conn.title')" v-loading="loading" stripe style="width:100%" :empty-text="t('common.empty')" data-test="conn-table">
      <el-table-column prop="name" sortable="custom" :label="t('conn.name')" min-width="160"><template #default="{ row }"><div>{{ row.name }}</div><div class="muted">{{ row.unit_code }} · {{ row.unit_name }}</div></template></el-table-column>
      <el-table-column prop="unit_name" :label="t('conn.unit')" sortable="custom" min-width="150" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column prop="channel_label" sortable="custom" :label="t('conn.channel')" min-width="120" />
      <el-table-column :label="t('conn.state')" sortable="custom" sort-by="state" width="110"><template #default="{ row }"><el-tag :type="STATE_TYPE[row.state]" :data-test="'state-' + row.id">{{ t('state.' + row.state) }}</el-tag></template></el-table-column>
      <el-table-column :label="t('conn.health')" width="100"><template #default="{ row }"><el-tooltip :content="healthText(row.health_detail)"><el-tag :type="row.health === 'ok' ? 'success' : row.health === 'down' ? 'danger' : 'info'" :data-test="'health-' + row.id">{{ t('health.' + row.health) }}</el-tag></el-tooltip></template></el-table-column>
      <el-table-column :label="t('conn.traffic')" min-width="130" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }"><span :data-test="'traffic-' + row.id">{{ row.traffic.inbound }} / {{ row.traffic.outbound }} / {{ row.traffic.delivered }}</span></template></el-table-column>
      <el-table-column :label="t('conn.rejected')" width="70" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ row.traffic.rejected }}</template></el-table-column>
      <el-table-column :label="t('conn.dead')" width="70"><template #default="{ row }"><router-link v-if="row.traffic.dead" to="/channels/dead-letters"><el-tag type="danger">{{ row.traffic.dead }}</el-tag></router-link><span v-else>0</span></template></el-table-column>
      <el-table-column :label="t('conn.lastSeen')" sortable="custom" sort-by="last_seen_at" min-width="150" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ row.last_seen_at ? new Date(row.last_seen_at).toLocaleString() : t('conn.never') }}</template></el-table-column>
      <el-table-column :label="t('common.actions')" min-width="230" fixed="right"><template #default="{ row }">
        <el-dropdown v-if="NEXT[row.state].length" trigger="click" @command="(to) => move(row, to)">
          <el-button link type="primary" :data-test="'move-' + row.id">{{ t('conn.move') }}</el-button>
          <template #dropdown><el-dropdown-menu><el-dropdown-item v-for="s in NEXT[row.state]" :key="s" :command="s" :data-test="'to-' + s" :data-confirm="CONFIRMED[s] ? t(CONFIRMED[s], { n: row.name }) : null">{{ t('state.' + s) }}</el-dropdown-item></el-dropdown-menu></template>
        </el-dropdown>
        <el-button link @click="check(row)" :data-test="'check-' + row.id">{{ t('conn.check') }}</el-button>
        <el-button v-if="row.state === 'testing'" link type="warning" @click="openJointTest(row)" :data-test="'jt-' + row.id">{{ t('jt.open') }}</el-button>
        <el-button v-if="row.state === 'testing'" link @click="sendTest(row)">{{ t('conn.testMsg') }}</el-button>
        <el-button v-if="row.state !== 'terminated'" link @click="rotate(row)" :data-confirm="t('conn.rotateAsk', { n: row.name })">{{ t('conn.rotate') }}</el-button>
      </template></el-table-column>
    </list-table>

    <el-dialog v-model="dialog" :title="t('conn.new')" width="min(560px, 95vw)">
      <el-form label-position="top" @submit.prevent>
        <el-form-item :label="t('conn.unit')"><entity-picker kind="unit" v-model="form.unit_code" data-test="conn-unit" /></el-form-item>
        <el-form-item :label="t('conn.channel')"><el-select v-model="form.channel" data-test="conn-channel"><el-option v-for="c in channels" :key="c.name" :label="c.label" :value="c.name" /></el-select></el-form-item>
        <el-form-item :label="t('conn.name')"><el-input v-model="form.name" data-test="conn-name" /></el-form-item>
        <el-form-item :label="t('conn.settings')">
          <div class="muted" style="margin-bottom:6px">{{ t('conn.settingsHelp') }}</div>
          <el-input v-if="form.channel === 'rest'" v-model="form.url" placeholder="https://unit.example/pbshare/inbox" />
          <el-input v-if="form.channel === 'soap'" v-model="form.wsdl" placeholder="https://unit.example/ws?wsdl" />
          <div v-if="form.channel === 'socket'" style="display:flex;gap:8px;width:100%"><el-input v-model="form.host" placeholder="host" /><el-input v-model="form.port" placeholder="port" style="width:120px" /></div>
        </el-form-item>
        <el-form-item :label="t('conn.sigAlg')"><el-radio-group v-model="form.sig_alg"><el-radio value="HMAC-SM3">HMAC-SM3</el-radio><el-radio value="SM2-SM3">SM2-SM3</el-radio></el-radio-group></el-form-item>
        <el-form-item v-if="form.sig_alg === 'SM2-SM3'" :label="t('conn.pub')"><el-input v-model="form.unit_public_key" type="textarea" /></el-form-item>
        <el-form-item><el-checkbox v-model="form.encrypt">{{ t('conn.encrypt') }}</el-checkbox></el-form-item>
      </el-form>
      <template #footer><el-button @click="dialog = false">{{ t('common.cancel') }}</el-button><el-button type="primary" data-test="conn-save" @click="create">{{ t('common.save') }}</el-button></template>
    </el-dialog>

    <el-dialog v-model="jt.open" :title="jt.row ? t('jt.title', { n: jt.row.name }) : ''" width="min(960px, 96vw)" data-test="jt-dialog">
      <el-alert :title="t('jt.intro')" type="info" :closable="false" style="margin-bottom:10px" />
      <div class="toolbar">
        <el-button type="primary" :loading="jt.busy" :disabled="jt.row?.state !== 'testing'" data-test="jt-start" @click="jtStart">{{ t('jt.start') }}</el-button>
        <el-button data-test="jt-refresh" @click="jtLoad">{{ t('jt.refresh') }}</el-button>
        <el-button v-if="jt.status?.latest_report?.state === 'running'" data-test="jt-finish" @click="jtFinish">{{ t('jt.finish') }}</el-button>
        <a v-if="jtExcel" :href="jtExcel" data-test="jt-excel"><el-button link type="primary">{{ t('jt.excel') }}</el-button></a>
      </div>
      <div v-if="jt.status && !jt.status.latest_report" class="muted">{{ t('jt.none') }}</div>
      <template v-if="jt.status?.latest_report">
        <div data-test="jt-summary" style="margin:6px 0"><el-tag :type="jt.status.latest_report.state === 'passed' ? 'success' : jt.status.latest_report.state === 'failed' ? 'danger' : 'warning'">{{ jt.status.latest_report.state_label }}</el-tag>
          {{ t('jt.report', { p: jt.status.latest_report.passed, f: jt.status.latest_report.failed, w: jt.status.latest_report.waiting }) }}</div>
        <el-table :data="jt.status.latest_report.steps" size="small" data-test="jt-steps">
          <el-table-column prop="kind_label" :label="t('jt.kind')" width="130" />
          <el-table-column :label="t('jt.resource')" min-width="170"><template #default="{ row }">{{ row.resource_code }} {{ row.resource_name }}</template></el-table-column>
          <el-table-column :label="t('jt.result')" width="90"><template #default="{ row }"><el-tag size="small" :type="row.state === 'passed' ? 'success' : row.state === 'failed' ? 'danger' : 'info'">{{ row.state_label }}</el-tag></template></el-table-column>
          <el-table-column :label="t('jt.elapsed')" width="80"><template #default="{ row }">{{ row.elapsed_ms == null ? '-' : (row.elapsed_ms / 1000).toFixed(1) + ' s' }}</template></el-table-column>
          <el-table-column :label="t('jt.failures')" min-width="260"><template #default="{ row }"><div v-for="(f, i) in row.failures" :key="i" style="color:#c45656">{{ f }}</div></template></el-table-column>
        </el-table>
      </template>
      <template #footer>
        <span data-test="jt-golive-wrap"><guarded-button type="success" data-test="jt-golive" :disabled="!jt.status"
          :disabled-reason="jt.status && !jt.status.can_go_live ? (jt.status.reason || t('jt.none')) : ''"
          :confirm="jt.row ? t('conn.liveAsk', { n: jt.row.name }) : ''" :confirm-text="t('jt.goLive')" @click="jtGoLive(false)">{{ t('jt.goLive') }}</guarded-button></span>
        <el-button v-if="jt.status && !jt.status.can_go_live && ['testing', 'suspended'].includes(jt.status.state)" type="danger" plain data-test="jt-override" data-confirm="dialog" @click="jtGoLive(true)">{{ t('jt.override') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="leave.open" :title="leave.row ? t('leave.title', { n: leave.row.name }) : ''" width="min(720px, 96vw)" data-test="leave-dialog">
      <template v-if="leave.preview">
        <el-alert :title="t('leave.intro')" type="error" :closable="false" show-icon style="margin-bottom:8px" />
        <el-table :data="leave.preview.closes" size="small" data-test="leave-closes">
          <el-table-column :label="t('jt.kind')" width="110"><template #default="{ row }">{{ t('leave.kind.' + row.kind) }}</template></el-table-column>
          <el-table-column prop="label" :label="t('conn.name')" min-width="140" />
          <el-table-column prop="detail" :label="t('jt.result')" min-width="260" />
        </el-table>
        <div style="margin-top:10px"><b>{{ t('leave.kept') }}</b><ul data-test="leave-kept"><li v-for="(k, i) in leave.preview.kept" :key="i">{{ k }}</li></ul></div>
        <el-form label-position="top" @submit.prevent><el-form-item :label="t('leave.reason')"><el-input v-model="leave.reason" :placeholder="t('leave.reasonHelp')" data-test="leave-reason" /></el-form-item></el-form>
      </template>
      <template #footer><el-button @click="leave.open = false">{{ t('common.cancel') }}</el-button><el-button type="danger" :disabled="leave.reason.trim().length < 4" data-test="leave-confirm" data-confirm="dialog" @click="confirmLeave">{{ t('leave.confirm') }}</el-button></template>
    </el-dialog>

    <secret-dialog :model-value="issued ? credsText : null" @update:model-value="issued = null" :title="t('conn.creds')" filename="connection-keys.txt" data-test="conn-creds" />
  </div>`,
};
