// The unit portal's list: to do, overdue, answered, rejected, all — only this unit's items.
import { ref, reactive, onMounted } from "vue";
import { useRouter } from "vue-router";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import "./labels.js";

// The counts on the operator's home page (and on top of the list).
export const PortalCounts = {
  name: "PortalCounts",
  setup() {
    const counts = ref(null);
    onMounted(async () => { counts.value = await api("/portal/counts", { quiet: true }).catch(() => null); });
    return { t, counts };
  },
  template: `
  <div v-if="counts" class="cards" style="grid-template-columns:repeat(3, minmax(0, 1fr))" data-test="portal-counts">
    <el-card shadow="never" class="stat"><router-link to="/portal?view=todo" class="lbl">{{ t('portal.todo') }}</router-link><div class="num" data-test="count-todo">{{ counts.todo }}</div></el-card>
    <el-card shadow="never" class="stat"><router-link to="/portal?view=overdue" class="lbl">{{ t('portal.overdue') }}</router-link><div class="num" data-test="count-overdue" :style="counts.overdue ? 'color:#d03050' : ''">{{ counts.overdue }}</div></el-card>
    <el-card shadow="never" class="stat"><router-link to="/portal?view=answered" class="lbl">{{ t('portal.answered') }}</router-link><div class="num" data-test="count-answered">{{ counts.answered }}</div></el-card>
  </div>`,
};

export default {
  name: "PortalItems",
  components: { PortalCounts },
  setup() {
    const router = useRouter();
    const view = ref(router.currentRoute.value.query.view || "todo");
    const rows = ref([]);
    const total = ref(0);
    const loading = ref(false);
    const q = reactive({ page: 1, size: 20 });
    async function load() {
      loading.value = true;
      try {
        const data = await api(`/portal/items?view=${view.value}&page=${q.page}&size=${q.size}`);
        rows.value = data.items; total.value = data.total;
      } finally { loading.value = false; }
    }
    function pick(v) { view.value = v; q.page = 1; router.replace({ query: { view: v } }); load(); }
    const open = (row) => router.push(`/portal/items/${row.id}`);
    onMounted(load);
    return { t, view, rows, total, loading, q, load, pick, open };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('portal.title') }}</h2>
    <portal-counts />
    <el-tabs :model-value="view" @tab-change="pick">
      <el-tab-pane v-for="v in ['todo', 'overdue', 'answered', 'rejected', 'all']" :key="v" :name="v" :label="t('portal.' + v)" />
    </el-tabs>
    <el-empty v-if="!loading && !rows.length" :description="t('portal.empty')" />
    <div v-for="row in rows" :key="row.id" class="portal-row" :data-test="'portal-item-' + row.resource_code" @click="open(row)"
      style="background:#fff;border:1px solid #e6e6e6;border-radius:6px;padding:10px 12px;margin-bottom:8px;cursor:pointer">
      <div style="display:flex;flex-wrap:wrap;gap:6px;align-items:center">
        <el-tag size="small">{{ row.kind_label }}</el-tag>
        <strong>{{ row.resource_code }} {{ row.resource_name }}</strong>
        <el-tag size="small" type="warning">{{ row.state_label }}</el-tag>
        <el-tag v-if="row.overdue" size="small" type="danger" effect="dark">{{ t('portal.overdue') }}</el-tag>
      </div>
      <div class="muted">{{ t('portal.case') }} {{ row.case_no }} · {{ t('portal.due') }} {{ row.due_on }}</div>
    </div>
    <el-pagination v-if="total > q.size" layout="prev, pager, next" :small="true" :total="total" v-model:current-page="q.page" :page-size="q.size" @current-change="load" />
  </div>`,
};
