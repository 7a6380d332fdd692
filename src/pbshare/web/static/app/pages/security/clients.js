// API clients: units' systems that sign their requests (HMAC-SM3 shared secret or SM2 public key).
import { ref, reactive, computed, onMounted } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { guardComponents } from "../../guard.js";
import { pickerComponents } from "../../pickers.js";
import { tableComponents } from "../../tables.js";
import { fmtDateTime } from "../../format.js";

register({
  "clients.title": ["API 客户端", "API clients"],
  "clients.intro": ["数源单位的业务系统以自己的密钥签名调用平台接口：每个请求带时间戳、随机数和签名（X-PB-* 请求头），5 分钟外或重复的请求被拒绝。", "Units' systems call the platform signing each request with their own key (X-PB-* headers); requests outside 5 minutes or repeated are refused."],
  "clients.new": ["登记客户端", "Register a client"],
  "clients.unit": ["单位代码", "Unit code"],
  "clients.name": ["系统名称", "System name"],
  "clients.alg": ["签名算法", "Algorithm"],
  "clients.pub": ["SM2 公钥（十六进制）", "SM2 public key (hex)"],
  "clients.allow": ["IP 白名单（每行一个地址或网段，留空不限）", "IP allowlist (one address or CIDR per line; empty: any)"],
  "clients.rate": ["每分钟请求上限", "Requests per minute"],
  "clients.keys": ["密钥", "Keys"],
  "clients.valid": ["有效", "valid"],
  "clients.invalid": ["已失效", "invalid"],
  "clients.until": ["至 {d}", "until {d}"],
  "clients.rotate": ["轮换密钥", "Rotate key"],
  "clients.rotateAsk": ["新密钥立即生效，旧密钥在重叠期（小时）内仍有效：", "The new key works at once; the old one stays valid for this many hours:"],
  "clients.revokeKey": ["吊销", "Revoke"],
  "clients.revoke": ["停用客户端", "Revoke client"],
  "clients.revokeAsk": ["停用后该系统的所有密钥立即失效（历史记录保留）。继续？", "All of this system's keys stop working at once (history is kept). Continue?"],
  "clients.secret": ["共享密钥（仅显示这一次，请通过安全渠道交给对方系统管理员）", "Shared secret (shown only now; hand it to the unit's administrator over a safe channel)"],
  "clients.ids": ["客户端编号 X-PB-Client：{c}\n密钥编号 X-PB-Key：{k}", "Client id X-PB-Client: {c}\nKey id X-PB-Key: {k}"],
  "clients.revokeKeyAsk": ["吊销密钥 {k}：使用它签名的请求立即被拒绝。继续？", "Revoke key {k}: requests signed with it are refused at once. Continue?"],
  "clients.revoked": ["已停用客户端“{n}”", "Revoked the client “{n}”"],
  "clients.keyRevoked": ["已吊销密钥 {k}", "Revoked key {k}"],
  "clients.registered": ["已登记客户端“{n}”，请保存下方密钥", "Registered the client “{n}”; save its key below"],
  "clients.rotated": ["已为“{n}”生成新密钥", "New key for “{n}”"],
  "clients.secretLine": ["共享密钥", "Shared secret"],
  "clients.active": ["启用", "Active"],
  "clients.lastUsed": ["最近调用", "Last call"],
});

export default {
  name: "ApiClientsPage",
  components: { ...guardComponents, ...pickerComponents, ...tableComponents },
  setup() {
    const rows = ref([]);
    const dialog = ref(false);
    const issued = ref(null);
    const form = reactive({ unit_code: "", name: "", alg: "HMAC-SM3", public_key_hex: "", allow: "", rate_limit_per_minute: 600 });
    async function load() { rows.value = await api("/api-clients"); }
    function show(out) { issued.value = out; }
    async function create() {
      const body = { unit_code: form.unit_code, name: form.name, alg: form.alg, rate_limit_per_minute: form.rate_limit_per_minute,
        ip_allowlist: form.allow.split(/\s+/).filter(Boolean) };
      if (form.alg === "SM2-SM3") body.public_key_hex = form.public_key_hex.trim();
      const out = await api("/api-clients", { method: "POST", body });
      dialog.value = false; show(out); ElMessage.success(t("clients.registered", { n: form.name })); load();
    }
    async function rotate(row) {
      const { value } = await ElMessageBox.prompt(t("clients.rotateAsk"), t("clients.rotate"), { inputValue: "24", inputPattern: /^[0-9]{1,3}$/ });
      const body = { overlap_hours: Number(value) };
      const current = row.keys.filter((k) => k.valid).slice(-1)[0];
      if (current && current.alg === "SM2-SM3") {
        const pub = await ElMessageBox.prompt(t("clients.pub"), t("clients.rotate"), { inputPattern: /^(04)?[0-9a-fA-F]{128}$/ });
        body.public_key_hex = pub.value;
      }
      show(await api(`/api-clients/${row.id}/keys`, { method: "POST", body })); ElMessage.success(t("clients.rotated", { n: row.name })); load();
    }
    async function revokeKey(row, key) {
      await api(`/api-clients/${row.id}/keys/${key.id}`, { method: "DELETE" });
      ElMessage.success(t("clients.keyRevoked", { k: key.id.slice(-12) })); load();
    }
    async function revoke(row) {
      await api(`/api-clients/${row.id}`, { method: "DELETE" });
      ElMessage.success(t("clients.revoked", { n: row.name })); load();
    }
    const issuedText = computed(() => {
      const out = issued.value;
      if (!out) return null;
      const lines = [t("clients.ids", { c: out.client.id, k: out.key_id })];
      if (out.secret_hex) lines.push(`${t("clients.secretLine")}: ${out.secret_hex}`);
      return lines.join("\n");
    });
    const when = (d) => fmtDateTime(d);
    onMounted(load);
    return { t, can, rows, dialog, issued, issuedText, form, create, rotate, revokeKey, revoke, when };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('clients.title') }}</h2>
    <p class="muted">{{ t('clients.intro') }}</p>
    <div class="toolbar"><el-button v-if="can('security:manage')" type="primary" @click="dialog = true" data-test="client-new">{{ t('clients.new') }}</el-button></div>
    <list-table :data="rows" :name="t('clients.title')" stripe :empty-text="t('common.empty')" data-test="clients-table">
      <el-table-column prop="unit_code" sortable="custom" :label="t('clients.unit')" width="110" />
      <el-table-column prop="name" sortable="custom" :label="t('clients.name')" min-width="140" />
      <el-table-column :label="t('clients.keys')" min-width="260"><template #default="{ row }">
        <div v-for="k in row.keys" :key="k.id" style="font-size:12px">
          <code>{{ k.id.slice(-12) }}</code> {{ k.alg }}
          <el-tag size="small" :type="k.valid ? 'success' : 'info'">{{ k.valid ? t('clients.valid') : t('clients.invalid') }}</el-tag>
          <span v-if="k.valid && k.expires_at" class="muted"> {{ t('clients.until', { d: when(k.expires_at) }) }}</span>
          <guarded-button v-if="k.valid && can('security:manage')" link type="danger" size="small" @click="revokeKey(row, k)" :confirm="t('clients.revokeKeyAsk', { k: k.id.slice(-12) })" :confirm-text="t('clients.revokeKey')">{{ t('clients.revokeKey') }}</guarded-button>
        </div>
      </template></el-table-column>
      <el-table-column :label="t('clients.active')" width="80"><template #default="{ row }">{{ row.is_active ? '✔' : '—' }}</template></el-table-column>
      <el-table-column :label="t('clients.lastUsed')" width="170" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ when(row.last_used_at) }}</template></el-table-column>
      <el-table-column v-if="can('security:manage')" :label="t('common.actions')" width="170" fixed="right"><template #default="{ row }">
        <template v-if="row.is_active">
          <el-button link type="primary" @click="rotate(row)" :data-test="'rotate-' + row.name">{{ t('clients.rotate') }}</el-button>
          <guarded-button link type="danger" @click="revoke(row)" :confirm="t('clients.revokeAsk')" :confirm-text="t('clients.revoke')" :data-test="'revoke-' + row.name">{{ t('clients.revoke') }}</guarded-button>
        </template>
      </template></el-table-column>
    </list-table>
    <el-dialog v-model="dialog" :title="t('clients.new')" width="min(520px, 95vw)">
      <el-form label-position="top">
        <el-form-item :label="t('clients.unit')"><entity-picker kind="unit" v-model="form.unit_code" data-test="client-unit" /></el-form-item>
        <el-form-item :label="t('clients.name')"><el-input v-model="form.name" name="client-name" /></el-form-item>
        <el-form-item :label="t('clients.alg')"><el-radio-group v-model="form.alg"><el-radio value="HMAC-SM3">HMAC-SM3</el-radio><el-radio value="SM2-SM3">SM2-SM3</el-radio></el-radio-group></el-form-item>
        <el-form-item v-if="form.alg === 'SM2-SM3'" :label="t('clients.pub')"><el-input v-model="form.public_key_hex" type="textarea" :rows="2" /></el-form-item>
        <el-form-item :label="t('clients.allow')"><el-input v-model="form.allow" type="textarea" :rows="2" /></el-form-item>
        <el-form-item :label="t('clients.rate')"><el-input-number v-model="form.rate_limit_per_minute" :min="1" :max="100000" /></el-form-item>
      </el-form>
      <template #footer><el-button @click="dialog = false">{{ t('common.cancel') }}</el-button><el-button type="primary" @click="create" data-test="client-save">{{ t('common.save') }}</el-button></template>
    </el-dialog>
    <secret-dialog :model-value="issuedText" @update:model-value="issued = null" :title="t('clients.keys')" :note="t('clients.secret')" filename="api-client-key.txt" data-test="client-secret" />
  </div>`,
};
