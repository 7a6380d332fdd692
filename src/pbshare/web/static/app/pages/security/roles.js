// Roles and their permissions, read-only: the matrix a level-3 assessor asks to see.
import { ref, computed, onMounted } from "vue";
import { t, lang, register } from "../../i18n.js";
import { api } from "../../api.js";
import { labelOf } from "../../labels.js";

register({
  "roles.title": ["角色与权限", "Roles and permissions"],
  "roles.perm": ["权限", "Permission"],
  "roles.separated": ["三员分立：系统管理员、安全管理员、安全审计员互斥，同一用户只能担任其一", "Separation of duties: system admin, security admin and auditor are mutually exclusive"],
});

export default {
  name: "RolesPage",
  setup() {
    const matrix = ref({ roles: [], permissions: [] });
    onMounted(async () => { matrix.value = await api("/security/roles"); });
    const rows = computed(() => matrix.value.permissions.map((p) => {
      const row = { perm: p };
      for (const r of matrix.value.roles) row[r.code] = r.permissions.includes(p);
      return row;
    }));
    return { t, lang, matrix, rows, labelOf };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('roles.title') }}</h2>
    <el-alert type="info" :title="t('roles.separated')" :closable="false" show-icon style="margin-bottom:12px" />
    <el-table :data="rows" border size="small" style="width:100%" data-test="role-matrix">
      <el-table-column :label="t('roles.perm')" min-width="160" fixed><template #default="{ row }">{{ labelOf('perm', row.perm) }}</template></el-table-column>
      <el-table-column v-for="r in matrix.roles" :key="r.code" :label="lang === 'en' ? r.en : r.zh" min-width="110" align="center">
        <template #header><span :style="r.separated ? 'color:#c45656' : ''">{{ lang === 'en' ? r.en : r.zh }}</span></template>
        <template #default="{ row }"><span v-if="row[r.code]">✔</span></template>
      </el-table-column>
    </el-table>
  </div>`,
};
