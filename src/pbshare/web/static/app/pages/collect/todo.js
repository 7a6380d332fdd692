// Home-page to-do card for a data admin: deliveries that failed or wait to land, quarantines to fix,
// rejected quality reports.
import { ref, onMounted } from "vue";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";

register({
  "todo.deliveriesFailed": ["入库失败的交付数据", "Deliveries that failed to land"],
  "todo.deliveriesWaiting": ["等待入库", "waiting to land"],
  "todo.quarantines": ["隔离区待修正", "Quarantined rows to fix"],
  "todo.rejected": ["被拒收的交付（质量）", "Rejected deliveries (quality)"],
});

export const DataAdminTodo = {
  name: "DataAdminTodo",
  setup() {
    const data = ref(null);
    onMounted(async () => { data.value = await api("/collect/todo", { quiet: true }).catch(() => null); });
    const open = () => (data.value ? data.value.quarantines.reduce((a, q) => a + q.rows, 0) : 0);
    return { t, data, open };
  },
  template: `
  <div v-if="data" class="cards" data-test="data-admin-todo">
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('todo.deliveriesFailed') }}</div><div class="num" data-test="todo-deliveries-failed">{{ data.deliveries_failed }}</div>
      <div class="muted">{{ data.deliveries_waiting }} {{ t('todo.deliveriesWaiting') }}</div>
      <router-link to="/collect/deliveries">{{ t('nav.deliveries') }} →</router-link></el-card>
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('todo.quarantines') }}</div><div class="num" data-test="todo-quarantine">{{ open() }}</div>
      <div v-for="q in data.quarantines.slice(0, 3)" :key="q.run_id" class="muted"><router-link :to="'/collect/runs/' + q.run_id">{{ q.target }}</router-link>: {{ q.rows }}</div></el-card>
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('todo.rejected') }}</div><div class="num" data-test="todo-rejected">{{ data.rejected_reports }}</div>
      <div v-for="r in data.rejected.slice(0, 3)" :key="r.id" class="muted"><router-link :to="'/quality/reports/' + r.id">{{ r.unit_code }} · {{ r.resource_code || r.target }}</router-link></div></el-card>
  </div>`,
};
