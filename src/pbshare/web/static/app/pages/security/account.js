// My account: two-factor authentication (TOTP) enrolment with a QR code, recovery codes, my sessions' basics.
import { ref, reactive, onMounted } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { session, setUser } from "../../session.js";
import { guardComponents, confirmAction } from "../../guard.js";

register({
  "totp.regenAsk": ["将生成新的恢复码，原有恢复码全部作废。继续？", "New recovery codes replace the old ones, which stop working. Continue?"],
  "totp.disabled": ["已停用双因素认证", "Two-factor authentication is off"],
  "totp.codesFile": ["恢复码", "Recovery codes"],
  "account.title": ["我的账户", "My account"],
  "account.profile": ["基本信息", "Profile"],
  "account.unit": ["所属单位", "Unit"],
  "account.changePwd": ["修改密码", "Change password"],
  "totp.title": ["双因素认证（动态验证码）", "Two-factor authentication (TOTP)"],
  "totp.on": ["已启用", "On"],
  "totp.off": ["未启用", "Off"],
  "totp.required": ["您的角色要求启用双因素认证", "Your role requires two-factor authentication"],
  "totp.mustNow": ["请先完成绑定，绑定前其他功能不可用", "Enrol now: other functions stay closed until you do"],
  "totp.intro": ["登录时除密码外还需输入手机身份验证器应用（如微信小程序“腾讯身份验证器”、Google Authenticator、Microsoft Authenticator、FreeOTP）显示的 6 位数字。",
    "At login you will enter, besides your password, the 6 digits shown by an authenticator app on your phone (Google Authenticator, Microsoft Authenticator, FreeOTP, …)."],
  "totp.start": ["开始绑定", "Set up"],
  "totp.scan": ["1. 用身份验证器应用扫描二维码（无法扫码时手动输入密钥）", "1. Scan the QR code with the app (or type the key by hand)"],
  "totp.secret": ["密钥", "Key"],
  "totp.enter": ["2. 输入应用中显示的 6 位验证码", "2. Enter the 6-digit code the app shows"],
  "totp.confirm": ["确认绑定", "Confirm"],
  "totp.codes": ["恢复码（仅显示这一次）", "Recovery codes (shown only now)"],
  "totp.codesHelp": ["手机丢失时，每个恢复码可代替验证码登录一次。请打印或抄写后妥善保存，不要存放在手机上。",
    "If you lose the phone, each code logs you in once instead of a TOTP code. Print or write them down and keep them away from the phone."],
  "totp.codesLeft": ["剩余恢复码：{n} 个", "Recovery codes left: {n}"],
  "totp.regen": ["重新生成恢复码", "New recovery codes"],
  "totp.disable": ["停用双因素认证", "Turn off"],
  "totp.askCode": ["请输入身份验证器中当前的 6 位验证码", "Enter the current 6-digit code from the app"],
  "totp.done": ["双因素认证已启用，下次登录时需要验证码", "Two-factor authentication is on; the next login will ask for a code"],
});

export default {
  name: "AccountPage",
  components: { ...guardComponents },
  setup() {
    const status = ref(null);
    const enrol = ref(null);
    const codes = ref([]);
    const form = reactive({ code: "" });
    const busy = ref(false);
    async function load() { status.value = await api("/auth/totp"); }
    async function start() { enrol.value = await api("/auth/totp/enrol", { method: "POST" }); codes.value = []; }
    async function confirm() {
      busy.value = true;
      try {
        const out = await api("/auth/totp/confirm", { method: "POST", body: { code: form.code.trim() } });
        codes.value = out.recovery_codes; enrol.value = null; form.code = "";
        ElMessage.success(t("totp.done"));
        setUser({ ...(await api("/auth/me")), csrf_token: session.csrf });
        await load();
      } finally { busy.value = false; }
    }
    async function askCode(title) {
      const { value } = await ElMessageBox.prompt(t("totp.askCode"), title, { inputPattern: /^[0-9]{6}$/ });
      return value;
    }
    async function regen() {
      if (!(await confirmAction(t("totp.regenAsk"), { confirmText: t("totp.regen") }))) return;
      const code = await askCode(t("totp.regen"));
      codes.value = (await api("/auth/totp/recovery-codes", { method: "POST", body: { code } })).recovery_codes;
      await load();
    }
    async function disable() {
      const code = await askCode(t("totp.disable"));
      await api("/auth/totp/disable", { method: "POST", body: { code } });
      ElMessage.success(t("totp.disabled"));
      await load();
    }
    onMounted(load);
    return { t, session, status, enrol, codes, form, busy, start, confirm, regen, disable };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('account.title') }}</h2>
    <el-card shadow="never" style="margin-bottom:16px">
      <template #header>{{ t('account.profile') }}</template>
      <div>{{ session.user?.display_name }} （{{ session.user?.username }}）</div>
      <div class="muted">{{ t('account.unit') }}：{{ session.user?.unit_name }}</div>
      <el-button link type="primary" @click="$router.push('/password')" style="margin-top:8px">{{ t('account.changePwd') }}</el-button>
    </el-card>
    <el-card shadow="never" v-if="status">
      <template #header>
        {{ t('totp.title') }}
        <el-tag :type="status.enrolled ? 'success' : 'info'" size="small" style="margin-left:8px" data-test="totp-state">{{ status.enrolled ? t('totp.on') : t('totp.off') }}</el-tag>
      </template>
      <el-alert v-if="session.user?.totp_enrolment_required" type="warning" :title="t('totp.mustNow')" show-icon :closable="false" style="margin-bottom:12px" />
      <el-alert v-else-if="status.required && !status.enrolled" type="info" :title="t('totp.required')" show-icon :closable="false" style="margin-bottom:12px" />
      <p class="muted">{{ t('totp.intro') }}</p>
      <template v-if="!status.enrolled && !enrol">
        <el-button type="primary" @click="start" data-test="totp-start">{{ t('totp.start') }}</el-button>
      </template>
      <div v-if="enrol" style="display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start">
        <div>
          <div>{{ t('totp.scan') }}</div>
          <img :src="enrol.qr_data_url" alt="QR" width="200" height="200" style="background:#fff;margin-top:8px" data-test="totp-qr" />
          <div class="muted">{{ t('totp.secret') }}：<code data-test="totp-secret" style="word-break:break-all">{{ enrol.secret }}</code></div>
        </div>
        <el-form @submit.prevent="confirm" style="min-width:240px">
          <el-form-item :label="t('totp.enter')" label-position="top"><el-input v-model="form.code" name="totp-code" inputmode="numeric" maxlength="6" autocomplete="one-time-code" /></el-form-item>
          <el-button type="primary" native-type="submit" :loading="busy" data-test="totp-confirm">{{ t('totp.confirm') }}</el-button>
        </el-form>
      </div>
      <secret-dialog :model-value="codes.length ? codes.join('\\n') : null" @update:model-value="codes = []" :title="t('totp.codes')" :note="t('totp.codesHelp')"
        :filename="(session.user?.username || 'pbshare') + '-recovery-codes.txt'">
        <div data-test="recovery-codes" style="display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:6px;font-family:monospace">
          <span v-for="c in codes" :key="c">{{ c }}</span>
        </div>
      </secret-dialog>
      <div v-if="status.enrolled" style="margin-top:12px">
        <span class="muted">{{ t('totp.codesLeft', { n: status.recovery_codes_left }) }}</span>
        <el-button link type="primary" @click="regen" :data-confirm="t('totp.regenAsk')">{{ t('totp.regen') }}</el-button>
        <el-button v-if="!status.required" link type="danger" @click="disable" data-confirm="prompt">{{ t('totp.disable') }}</el-button>
      </div>
    </el-card>
  </div>`,
};
