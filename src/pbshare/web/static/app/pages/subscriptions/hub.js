// The government sharing hub: our resources registered in its catalog, our subscriptions through it.
import { ref, onMounted } from "vue";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { fmtDateTime } from "../../format.js";

export default {
  name: "HubPage",
  setup() {
    const regs = ref([]);
    const remote = ref([]);
    const code = ref("");
    async function load() { [regs.value, remote.value] = await Promise.all([api("/hub/registrations"), api("/hub/subscriptions")]); }
    async function register(codes) { regs.value = await api("/hub/registrations", { method: "POST", body: { codes } }); ElMessage.success(t("hub.done")); }
    async function subscribe() {
      if (!code.value.trim()) return ElMessage.error(t("hub.resourceCode"));
      remote.value = await api("/hub/subscriptions", { method: "POST", body: { resource_code: code.value.trim() } });
      code.value = ""; ElMessage.success(t("hub.done"));
    }
    onMounted(load);
    return { t, fmtDateTime, regs, remote, code, load, register, subscribe };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('hub.title') }}</h2>
    <el-alert :title="t('hub.intro')" type="info" :closable="false" show-icon style="margin-bottom:12px" />
    <div class="toolbar"><el-button type="primary" data-test="hub-register" @click="register([])">{{ t('hub.register') }}</el-button><el-button @click="load">{{ t('common.refresh') }}</el-button></div>
    <h3>{{ t('hub.registrations') }}</h3>
    <el-table :data="regs" stripe style="width:100%" :empty-text="t('common.empty')" data-test="hub-registrations">
      <el-table-column prop="resource_code" :label="t('sub.resource')" width="100" />
      <el-table-column prop="name" :label="t('sub.resource')" min-width="180" />
      <el-table-column :label="t('sub.state')" width="150"><template #default="{ row }"><el-tag :type="row.state === 'registered' ? 'success' : 'info'">{{ t('hub.state.' + row.state) }}</el-tag></template></el-table-column>
      <el-table-column :label="t('hub.registeredAt')" min-width="150"><template #default="{ row }">{{ fmtDateTime(row.registered_at) }}</template></el-table-column>
      <el-table-column :label="t('common.actions')" width="100"><template #default="{ row }"><el-button link type="primary" @click="register([row.resource_code])">{{ t('hub.registerOne') }}</el-button></template></el-table-column>
    </el-table>
    <h3>{{ t('hub.remote') }}</h3>
    <div class="toolbar"><el-input v-model="code" :placeholder="t('hub.resourceCode')" style="max-width:260px" data-test="hub-code" /><el-button type="primary" data-test="hub-subscribe" @click="subscribe">{{ t('hub.subscribe') }}</el-button></div>
    <el-table :data="remote" stripe style="width:100%" :empty-text="t('common.empty')" data-test="hub-subscriptions">
      <el-table-column prop="resource_code" :label="t('sub.resource')" width="100" />
      <el-table-column prop="publisher" :label="t('hub.publisher')" width="110" />
      <el-table-column :label="t('sub.state')" width="130"><template #default="{ row }"><el-tag :type="row.state === 'active' ? 'success' : (row.state === 'refused' ? 'danger' : 'info')">{{ t('hub.state.' + row.state) }}</el-tag></template></el-table-column>
      <el-table-column prop="note" :label="t('del.note')" min-width="200" show-overflow-tooltip />
    </el-table>
  </div>`,
};
