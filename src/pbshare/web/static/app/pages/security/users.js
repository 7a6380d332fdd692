import { ref, reactive, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t, lang, register } from "../../i18n.js";
import { api } from "../../api.js";
import { can } from "../../session.js";
import { guardComponents, confirmAction } from "../../guard.js";
import { pickerComponents } from "../../pickers.js";
import { tableComponents } from "../../tables.js";

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
  "users.state": ["状态", "State"],
  "users.locked": ["已锁定", "Locked"],
  "users.totp": ["双因素", "2FA"],
  "users.editRoles": ["修改角色", "Change roles"],
  "users.unlock": ["解锁", "Unlock"],
  "users.logout": ["强制下线", "Force logout"],
  "users.resetTotp": ["重置双因素", "Reset 2FA"],
  "users.more": ["更多", "More"],
  "users.sepNote": ["系统管理员、安全管理员、安全审计员三者互斥（三员分立）", "System admin, security admin and auditor are mutually exclusive (separation of duties)"],
  "users.unlocked": ["已解锁", "Unlocked"],
  "users.loggedOut": ["已结束 {n} 个会话", "{n} sessions ended"],
  "users.otp": ["{u} 的一次性密码", "One-time password of {u}"],
  "users.otpNote": ["请当面或通过安全渠道交给本人；首次登录时须改为自己的密码。", "Hand it to the person directly or over a safe channel; they must change it at the first login."],
  "users.createdOk": ["已创建用户 {u}", "Created user {u}"],
  "users.resetAsk": ["将为 {u} 生成新的一次性密码，其原密码立即失效并结束其所有会话。继续？", "A new one-time password for {u}: the old password stops working at once and every session ends. Continue?"],
  "users.logoutAsk": ["将结束 {u} 的所有会话，其须重新登录。继续？", "Every session of {u} ends; they must log in again. Continue?"],
  "users.rolesSaved": ["已修改 {u} 的角色", "Changed the roles of {u}"],
  "users.totpReset": ["已重置 {u} 的双因素认证", "Reset the two-factor authentication of {u}"],
  "users.confirmTotp": ["将删除该用户的身份验证器绑定和恢复码，用户下次登录后需重新绑定。继续？", "This removes the user's authenticator and recovery codes; they enrol again at the next login. Continue?"],
});

export default {
  name: "UsersPage",
  components: { ...guardComponents, ...pickerComponents, ...tableComponents },
  setup() {
    const rows = ref([]);
    const roles = ref([]);
    const dialog = ref(false);
    const rolesDialog = ref(false);
    const editing = reactive({ id: null, username: "", roles: [] });
    const form = reactive({ username: "", display_name: "", unit_code: "SZBA", roles: [] });
    const secret = ref(null);
    const secretFor = ref("");
    async function load() {
      rows.value = await api("/users");
      roles.value = await api("/auth/roles");
    }
    const roleLabel = (code) => { const r = roles.value.find((x) => x.code === code); return r ? (lang.value === "en" ? r.en : r.zh) : code; };
    const isLocked = (row) => row.locked_until && new Date(row.locked_until) > new Date();
    async function create() {
      const out = await api("/users", { method: "POST", body: { ...form } });
      dialog.value = false;
      ElMessage.success(t("users.createdOk", { u: form.username }));
      secretFor.value = form.username; secret.value = out.one_time_password;
      load();
    }
    function editRoles(row) { Object.assign(editing, { id: row.id, username: row.username, roles: [...row.roles] }); rolesDialog.value = true; }
    async function saveRoles() {
      await api(`/users/${editing.id}`, { method: "PATCH", body: { roles: editing.roles } });
      rolesDialog.value = false; ElMessage.success(t("users.rolesSaved", { u: editing.username })); load();
    }
    async function reset(row) {
      if (!(await confirmAction(t("users.resetAsk", { u: row.username }), { confirmText: t("users.reset") }))) return;
      const out = await api(`/users/${row.id}/reset-password`, { method: "POST" });
      secretFor.value = row.username; secret.value = out.one_time_password;
    }
    async function unlock(row) { await api(`/users/${row.id}/unlock`, { method: "POST" }); ElMessage.success(t("users.unlocked")); load(); }
    async function logout(row) {
      if (!(await confirmAction(t("users.logoutAsk", { u: row.username }), { confirmText: t("users.logout") }))) return;
      const out = await api(`/users/${row.id}/logout`, { method: "POST" }); ElMessage.success(t("users.loggedOut", { n: out.sessions_ended })); }
    async function resetTotp(row) {
      if (!(await confirmAction(t("users.confirmTotp"), { confirmText: t("users.resetTotp") }))) return;
      await api(`/users/${row.id}/totp/reset`, { method: "POST" }); ElMessage.success(t("users.totpReset", { u: row.username })); load();
    }
    function command(cmd, row) { ({ roles: editRoles, reset, unlock, logout, totp: resetTotp })[cmd](row); }
    async function toggle(row) { await api(`/users/${row.id}`, { method: "PATCH", body: { is_active: row.is_active } }); }
    onMounted(load);
    return { t, secret, secretFor, rows, roles, dialog, rolesDialog, editing, form, create, saveRoles, command, toggle, roleLabel, isLocked, can, lang };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('users.title') }}</h2>
    <div class="toolbar"><el-button v-if="can('users:write')" type="primary" @click="dialog = true" data-test="user-new">{{ t('users.new') }}</el-button></div>
    <list-table :data="rows" :name="t('users.title')" stripe :empty-text="t('common.empty')" data-test="users-table">
      <el-table-column prop="username" sortable="custom" :label="t('users.username')" min-width="120" />
      <el-table-column prop="display_name" sortable="custom" :label="t('users.name')" min-width="140" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column prop="unit_code" sortable="custom" :label="t('users.unit')" min-width="100" class-name="hide-mobile" label-class-name="hide-mobile" />
      <el-table-column :label="t('users.roles')" min-width="200"><template #default="{ row }"><el-tag v-for="r in row.roles" :key="r" size="small" style="margin-right:4px">{{ roleLabel(r) }}</el-tag></template></el-table-column>
      <el-table-column :label="t('users.state')" width="130"><template #default="{ row }">
        <el-tag v-if="isLocked(row)" type="danger" size="small" data-test="locked">{{ t('users.locked') }}</el-tag>
        <el-tag v-if="row.totp_enrolled" type="success" size="small" style="margin-left:4px">{{ t('users.totp') }}</el-tag>
      </template></el-table-column>
      <el-table-column :label="t('users.active')" width="80"><template #default="{ row }"><el-switch v-model="row.is_active" :disabled="!can('users:write')" @change="toggle(row)" /></template></el-table-column>
      <el-table-column v-if="can('users:write')" :label="t('common.actions')" width="170" fixed="right"><template #default="{ row }">
        <el-button v-if="isLocked(row) && can('security:manage')" link type="warning" @click="command('unlock', row)" :data-test="'unlock-' + row.username">{{ t('users.unlock') }}</el-button>
        <el-dropdown @command="(c) => command(c, row)">
          <el-button link type="primary">{{ t('users.more') }}</el-button>
          <template #dropdown><el-dropdown-menu>
            <el-dropdown-item command="roles">{{ t('users.editRoles') }}</el-dropdown-item>
            <el-dropdown-item command="reset" :data-confirm="t('users.resetAsk', { u: row.username })">{{ t('users.reset') }}</el-dropdown-item>
            <el-dropdown-item v-if="can('security:manage')" command="logout" :data-confirm="t('users.logoutAsk', { u: row.username })">{{ t('users.logout') }}</el-dropdown-item>
            <el-dropdown-item v-if="can('security:manage') && row.totp_enrolled" command="totp" :data-confirm="t('users.confirmTotp')">{{ t('users.resetTotp') }}</el-dropdown-item>
          </el-dropdown-menu></template>
        </el-dropdown>
      </template></el-table-column>
    </list-table>
    <el-dialog v-model="dialog" :title="t('users.new')" width="min(480px, 95vw)">
      <el-form label-position="top">
        <el-form-item :label="t('users.username')"><el-input v-model="form.username" /></el-form-item>
        <el-form-item :label="t('users.name')"><el-input v-model="form.display_name" /></el-form-item>
        <el-form-item :label="t('users.unit')"><entity-picker kind="unit" v-model="form.unit_code" data-test="user-unit" /></el-form-item>
        <el-form-item :label="t('users.roles')"><el-select v-model="form.roles" multiple style="width:100%"><el-option v-for="r in roles" :key="r.code" :value="r.code" :label="lang === 'en' ? r.en : r.zh" /></el-select></el-form-item>
        <div class="muted">{{ t('users.sepNote') }}</div>
      </el-form>
      <template #footer><el-button @click="dialog = false">{{ t('common.cancel') }}</el-button><el-button type="primary" @click="create">{{ t('common.save') }}</el-button></template>
    </el-dialog>
    <secret-dialog v-model="secret" :title="t('users.otp', { u: secretFor })" :note="t('users.otpNote')" :filename="secretFor + '-password.txt'" data-test="user-otp" />
    <el-dialog v-model="rolesDialog" :title="t('users.editRoles') + ' · ' + editing.username" width="min(480px, 95vw)">
      <el-select v-model="editing.roles" multiple style="width:100%" data-test="roles-select"><el-option v-for="r in roles" :key="r.code" :value="r.code" :label="lang === 'en' ? r.en : r.zh" /></el-select>
      <div class="muted" style="margin-top:8px">{{ t('users.sepNote') }}</div>
      <template #footer><el-button @click="rolesDialog = false">{{ t('common.cancel') }}</el-button><el-button type="primary" @click="saveRoles" data-test="roles-save">{{ t('common.save') }}</el-button></template>
    </el-dialog>
  </div>`,
};
