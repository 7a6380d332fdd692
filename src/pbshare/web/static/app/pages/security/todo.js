// Home-page to-do cards: what waits for a security admin (locked accounts, keys about to expire) and
// for an auditor (when the audit chain was last verified, destructions due).
import { ref, onMounted } from "vue";
import { t, register } from "../../i18n.js";
import { api } from "../../api.js";
import { fmt } from "../collect/labels.js";

register({
  "todo.locked": ["被锁定的账号", "Locked accounts"],
  "todo.keys": ["30 天内到期的密钥", "Keys expiring in 30 days"],
  "todo.chain": ["审计链上次校验", "Audit chain last verified"],
  "todo.never": ["从未校验", "Never"],
  "todo.since": ["此后新增记录", "Records since"],
  "todo.destroy": ["待销毁的到期数据", "Expired data due for destruction"],
  "todo.verifyHint": ["请在“审计日志”页校验审计链", "Verify the chain on the Audit log page"],
});

export const SecurityTodo = {
  name: "SecurityTodo",
  setup() {
    const data = ref(null);
    onMounted(async () => { data.value = await api("/security/todo", { quiet: true }).catch(() => null); });
    return { t, data, fmt };
  },
  template: `
  <div v-if="data" class="cards" data-test="security-todo">
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('todo.locked') }}</div><div class="num" data-test="todo-locked">{{ data.locked_accounts.length }}</div>
      <div v-for="u in data.locked_accounts.slice(0, 3)" :key="u.username" class="muted">{{ u.display_name }}（{{ u.username }}）→ {{ fmt(u.locked_until) }}</div>
      <router-link v-if="data.locked_accounts.length" to="/users">{{ t('nav.users') }} →</router-link></el-card>
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('todo.keys') }}</div><div class="num" data-test="todo-keys">{{ data.expiring_keys.length }}</div>
      <div v-for="k in data.expiring_keys.slice(0, 3)" :key="k.key_id" class="muted">{{ k.client }} → {{ fmt(k.expires_at) }}</div>
      <router-link v-if="data.expiring_keys.length" to="/security/api-clients">{{ t('nav.apiClients') }} →</router-link></el-card>
  </div>`,
};

export const AuditorTodo = {
  name: "AuditorTodo",
  setup() {
    const data = ref(null);
    onMounted(async () => { data.value = await api("/audit/todo", { quiet: true }).catch(() => null); });
    const due = () => (data.value ? data.value.destructions_pending.reduce((a, d) => a + d.count, 0) : 0);
    return { t, data, fmt, due };
  },
  template: `
  <div v-if="data" class="cards" data-test="auditor-todo">
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('todo.chain') }}</div>
      <div data-test="todo-chain">{{ data.last_verified_at ? fmt(data.last_verified_at) : t('todo.never') }} <el-tag v-if="data.last_result" size="small" :type="data.last_result === 'ok' ? 'success' : 'danger'">{{ data.last_result }}</el-tag></div>
      <div class="muted">{{ t('todo.since') }}: {{ data.records_since }}</div>
      <router-link to="/security/audit">{{ t('todo.verifyHint') }} →</router-link></el-card>
    <el-card shadow="never" class="stat"><div class="lbl">{{ t('todo.destroy') }}</div><div class="num" data-test="todo-destroy">{{ due() }}</div>
      <div v-for="d in data.destructions_pending" :key="d.policy" class="muted">{{ d.resource }}: {{ d.count }}</div></el-card>
  </div>`,
};
