import { ref, reactive, onMounted } from "vue";
import { ElMessageBox } from "element-plus";
import { t, lang, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";

register({
  "users.title": ["用户管理", "Users"],
  "users.username": ["用户名", "User name"],
  "users.name": ["姓名", "Name"],
  "users.unit": ["单位代码", "Unit code"],
  "users.roles": ["角色", "Roles"],
  "users.active": ["启用", "Active"],
  "users.new": ["新建用户", "New user"],
  "users.created": ["用户已创建。一次性密码（仅显示一次）：{pwd}", "User created. One-time password (shown once): {pwd}"],
  "users.reset": ["重置密码", "Reset password"],
  "users.lastLogin": ["最近登录", "Last login"],
});

export default {
  name: "UsersPage",
  setup() {
    const rows = ref([]);
    const roles = ref([]);
    const dialog = ref(false);
    const form = reactive({ username: "", display_name: "", unit_code: "SZBA", roles: [] });
    async function load() {
      rows.value = await api("/users");
      roles.value = await api("/auth/roles");
    }
    const roleLabel = (code) => { const r = roles.value.find((x) => x.code === code); return r ? (lang.value === "en" ? r.en : r.zh) : code; };
    async function create() {
      const out = await api("/users", { method: "POST", body: { ...form } });
      dialog.value = false;
      await ElMessageBox.alert(t("users.created", { pwd: out.one_time_password }), t("users.new"));
      load();
    }
    async function reset(row) {
      const out = await api(`/users/${row.id}/reset-password`, { method: "POST" });
      await ElMessageBox.alert(t("users.created", { pwd: out.one_time_password }), t("users.reset"));
    }
    async function toggle(row) { await api(`/users/${row.id}`, { method: "PATCH", body: { is_active: row.is_active } }); }
    onMounted(load);
    return { t, rows, roles, dialog, form, create, reset, toggle, roleLabel, can, lang };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('users.title') }}</h2>
    <div class="toolbar"><el-button v-if="can('users:write')" type="primary" @click="dialog = true" data-test="user-new">{{ t('users.new') }}</el-button></div>
    <el-table :data="rows" stripe :empty-text="t('common.empty')">
      <el-table-column prop="username" :label="t('users.username')" min-width="120" />
      <el-table-column prop="display_name" :label="t('users.name')" min-width="140" />
      <el-table-column :label="t('users.roles')" min-width="200"><template #default="{ row }"><el-tag v-for="r in row.roles" :key="r" size="small" style="margin-right:4px">{{ roleLabel(r) }}</el-tag></template></el-table-column>
      <el-table-column :label="t('users.active')" width="90"><template #default="{ row }"><el-switch v-model="row.is_active" :disabled="!can('users:write')" @change="toggle(row)" /></template></el-table-column>
      <el-table-column v-if="can('users:write')" :label="t('common.actions')" width="120"><template #default="{ row }"><el-button link type="primary" @click="reset(row)">{{ t('users.reset') }}</el-button></template></el-table-column>
    </el-table>
    <el-dialog v-model="dialog" :title="t('users.new')" width="min(480px, 95vw)">
      <el-form label-position="top">
        <el-form-item :label="t('users.username')"><el-input v-model="form.username" /></el-form-item>
        <el-form-item :label="t('users.name')"><el-input v-model="form.display_name" /></el-form-item>
        <el-form-item :label="t('users.unit')"><el-input v-model="form.unit_code" /></el-form-item>
        <el-form-item :label="t('users.roles')"><el-select v-model="form.roles" multiple style="width:100%"><el-option v-for="r in roles" :key="r.code" :value="r.code" :label="lang === 'en' ? r.en : r.zh" /></el-select></el-form-item>
      </el-form>
      <template #footer><el-button @click="dialog = false">{{ t('common.cancel') }}</el-button><el-button type="primary" @click="create">{{ t('common.save') }}</el-button></template>
    </el-dialog>
  </div>`,
};
