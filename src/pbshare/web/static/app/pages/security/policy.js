// Security policy (passwords, lockout, sessions, second factor, throttling) and retention of personal data.
import { ref, onMounted } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, lang, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";

register({
  "policy.title": ["安全策略", "Security policy"],
  "policy.password": ["密码", "Passwords"],
  "policy.password_min_length": ["最短长度", "Minimum length"],
  "policy.password_min_classes": ["至少包含几类字符（大写、小写、数字、符号）", "Character classes needed (upper, lower, digit, symbol)"],
  "policy.password_history": ["不得重复最近几次密码", "Recent passwords that cannot be reused"],
  "policy.password_max_age_days": ["密码有效天数（0 为不过期）", "Password expires after days (0: never)"],
  "policy.login": ["登录与会话", "Login and sessions"],
  "policy.lockout_threshold": ["连续失败几次锁定账户", "Failed logins before locking"],
  "policy.lockout_minutes": ["锁定分钟数", "Lock for minutes"],
  "policy.session_idle_minutes": ["会话空闲超时（分钟）", "Idle session timeout (minutes)"],
  "policy.login_ip_max_failures": ["同一地址在时间窗内最多失败次数", "Failures allowed per address in the window"],
  "policy.login_ip_window_minutes": ["地址限流时间窗（分钟）", "Address throttling window (minutes)"],
  "policy.totp": ["双因素认证", "Two-factor authentication"],
  "policy.totp_required_roles": ["必须启用的角色", "Roles that must use it"],
  "policy.totp_required_for_all": ["所有用户必须启用", "Everyone must use it"],
  "policy.totp_grace_days": ["新账户绑定宽限天数", "Days a new account has to enrol"],
  "policy.audit": ["审计", "Audit"],
  "policy.audit_online_days": ["审计日志在线保存天数（不少于 180）", "Days audit records stay online (at least 180)"],
  "policy.saved": ["安全策略已保存（已记入审计日志）", "Policy saved (recorded in the audit log)"],
  "retention.title": ["个人信息保存期限", "Retention of personal data"],
  "retention.rule": ["规则", "Rule"],
  "retention.days": ["保存天数", "Keep days"],
  "retention.active": ["启用", "Active"],
  "retention.dry": ["试运行（只统计）", "Dry run (count only)"],
  "retention.run": ["立即执行销毁", "Destroy expired data now"],
  "retention.runAsk": ["到期的个人信息将被永久删除，只留下销毁记录（内容、数量、时间、执行人）。继续？", "Expired personal data will be deleted for good, leaving only a destruction record (what, how many, when, by whom). Continue?"],
  "retention.result": ["{p}：到期 {n} 条", "{p}: {n} expired"],
});

const NUMBERS = [
  ["policy.password", ["password_min_length", "password_min_classes", "password_history", "password_max_age_days"]],
  ["policy.login", ["lockout_threshold", "lockout_minutes", "session_idle_minutes", "login_ip_max_failures", "login_ip_window_minutes"]],
  ["policy.audit", ["audit_online_days"]],
];

export default {
  name: "PolicyPage",
  setup() {
    const policy = ref(null);
    const roles = ref([]);
    const retention = ref([]);
    const results = ref([]);
    async function load() {
      policy.value = await api("/security/policy");
      roles.value = await api("/auth/roles");
      retention.value = await api("/security/retention");
    }
    async function save() {
      policy.value = await api("/security/policy", { method: "PUT", body: policy.value });
      ElMessage.success(t("policy.saved"));
    }
    async function saveRetention(row) { await api(`/security/retention/${row.code}`, { method: "PUT", body: { keep_days: row.keep_days, is_active: row.is_active } }); }
    async function run(dry) {
      if (!dry) await ElMessageBox.confirm(t("retention.runAsk"), t("retention.run"), { type: "warning" });
      const out = await api(`/security/retention/run?dry_run=${dry}`, { method: "POST" });
      results.value = out.outcomes;
    }
    onMounted(load);
    return { t, lang, can, policy, roles, retention, results, NUMBERS, save, saveRetention, run };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('policy.title') }}</h2>
    <el-form v-if="policy" label-position="top" :disabled="!can('security:manage')" data-test="policy-form">
      <el-card v-for="[group, fields] in NUMBERS" :key="group" shadow="never" style="margin-bottom:12px">
        <template #header>{{ t(group) }}</template>
        <el-row :gutter="16">
          <el-col v-for="f in fields" :key="f" :xs="24" :sm="12" :md="8">
            <el-form-item :label="t('policy.' + f)"><el-input-number v-model="policy[f]" :min="0" :data-test="'policy-' + f" /></el-form-item>
          </el-col>
        </el-row>
      </el-card>
      <el-card shadow="never" style="margin-bottom:12px">
        <template #header>{{ t('policy.totp') }}</template>
        <el-form-item :label="t('policy.totp_required_roles')"><el-select v-model="policy.totp_required_roles" multiple style="width:100%"><el-option v-for="r in roles" :key="r.code" :value="r.code" :label="lang === 'en' ? r.en : r.zh" /></el-select></el-form-item>
        <el-form-item :label="t('policy.totp_required_for_all')"><el-switch v-model="policy.totp_required_for_all" /></el-form-item>
        <el-form-item :label="t('policy.totp_grace_days')"><el-input-number v-model="policy.totp_grace_days" :min="0" :max="90" /></el-form-item>
      </el-card>
      <el-button v-if="can('security:manage')" type="primary" @click="save" data-test="policy-save">{{ t('common.save') }}</el-button>
    </el-form>
    <h3 style="margin-top:24px">{{ t('retention.title') }}</h3>
    <el-table :data="retention" stripe>
      <el-table-column :label="t('retention.rule')" min-width="260"><template #default="{ row }">{{ lang === 'en' ? row.label_en : row.label_zh }}</template></el-table-column>
      <el-table-column :label="t('retention.days')" width="170"><template #default="{ row }"><el-input-number v-model="row.keep_days" :min="30" size="small" :disabled="!can('security:manage')" @change="saveRetention(row)" /></template></el-table-column>
      <el-table-column :label="t('retention.active')" width="80"><template #default="{ row }"><el-switch v-model="row.is_active" :disabled="!can('security:manage')" @change="saveRetention(row)" /></template></el-table-column>
    </el-table>
    <div class="toolbar" style="margin-top:12px" v-if="can('security:manage')">
      <el-button @click="run(true)" data-test="retention-dry">{{ t('retention.dry') }}</el-button>
      <el-button type="danger" @click="run(false)" :data-confirm="t('retention.runAsk')" data-test="retention-run">{{ t('retention.run') }}</el-button>
    </div>
    <div v-for="r in results" :key="r.policy" class="muted">{{ t('retention.result', { p: r.policy, n: r.expired }) }}</div>
  </div>`,
};
