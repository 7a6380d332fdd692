import { reactive, ref } from "vue";
import { useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { session, setUser } from "../../session.js";

export default {
  name: "PasswordPage",
  setup() {
    const form = reactive({ old: "", fresh: "", repeat: "" });
    const error = ref("");
    const busy = ref(false);
    const router = useRouter();
    async function submit() {
      error.value = "";
      if (form.fresh !== form.repeat) { error.value = t("pwd.mismatch"); return; }
      busy.value = true;
      try {
        const me = await api("/auth/password", { method: "POST", body: { old_password: form.old, new_password: form.fresh }, quiet: true });
        setUser({ ...me, csrf_token: me.csrf_token || session.csrf });
        ElMessage.success(t("pwd.done"));
        router.replace("/");
      } catch (e) { error.value = e.message; } finally { busy.value = false; }
    }
    return { form, error, busy, submit, t, session };
  },
  template: `
  <div class="login-wrap">
    <el-card class="login-card">
      <h1>{{ t('pwd.title') }}</h1>
      <div class="sub" v-if="session.user?.must_change_password">{{ t('pwd.first') }}</div>
      <el-form label-position="top" @submit.prevent="submit">
        <el-form-item :label="t('pwd.old')"><el-input v-model="form.old" type="password" name="old" show-password /></el-form-item>
        <el-form-item :label="t('pwd.new')"><el-input v-model="form.fresh" type="password" name="new" show-password /><div class="muted">{{ t('pwd.rule') }}</div></el-form-item>
        <el-form-item :label="t('pwd.repeat')"><el-input v-model="form.repeat" type="password" name="repeat" show-password /></el-form-item>
        <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" style="margin-bottom:12px" data-test="pwd-error" />
        <el-button type="primary" native-type="submit" :loading="busy" style="width:100%" data-test="pwd-submit">{{ t('common.save') }}</el-button>
      </el-form>
    </el-card>
  </div>`,
};
