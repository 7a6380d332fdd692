import { reactive, ref } from "vue";
import { useRoute, useRouter } from "vue-router";
import { t, lang, setLang } from "../../i18n.js";
import { api } from "../../api.js";
import { setUser } from "../../session.js";

export default {
  name: "LoginPage",
  setup() {
    const form = reactive({ username: "", password: "", totp: "" });
    const needTotp = ref(false);
    const busy = ref(false);
    const error = ref("");
    const router = useRouter();
    const route = useRoute();
    async function submit() {
      error.value = "";
      if (!form.username || !form.password) { error.value = t("login.required"); return; }
      busy.value = true;
      try {
        const body = { username: form.username, password: form.password };
        if (form.totp) body.totp = form.totp;
        const me = await api("/auth/login", { method: "POST", body, quiet: true });
        setUser(me);
        router.replace(me.must_change_password ? "/password" : (route.query.next || "/"));
      } catch (e) {
        if (e.code === "totp_required") needTotp.value = true;
        error.value = e.message || t("common.network");
      } finally { busy.value = false; }
    }
    return { form, busy, error, needTotp, submit, t, lang, setLang };
  },
  template: `
  <div class="login-wrap">
    <el-card class="login-card">
      <div style="display:flex;justify-content:space-between;align-items:flex-start">
        <div><h1>{{ t('app.title') }}</h1><div class="sub">{{ t('login.subtitle') }}</div></div>
        <el-select :model-value="lang" size="small" style="width:110px" data-test="login-lang" @change="setLang">
          <el-option label="简体中文" value="zh-CN" /><el-option label="English" value="en" />
        </el-select>
      </div>
      <el-form label-position="top" @submit.prevent="submit">
        <el-form-item :label="t('login.username')"><el-input v-model="form.username" name="username" autocomplete="username" /></el-form-item>
        <el-form-item :label="t('login.password')"><el-input v-model="form.password" name="password" type="password" show-password autocomplete="current-password" /></el-form-item>
        <el-form-item v-if="needTotp" :label="t('login.totp')"><el-input v-model="form.totp" name="totp" inputmode="numeric" autocomplete="one-time-code" /></el-form-item>
        <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" style="margin-bottom:12px" data-test="login-error" />
        <el-button type="primary" native-type="submit" :loading="busy" style="width:100%" data-test="login-submit">{{ t('login.submit') }}</el-button>
      </el-form>
    </el-card>
  </div>`,
};
