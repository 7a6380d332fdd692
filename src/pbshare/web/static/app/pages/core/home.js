import { ref, onMounted, onBeforeUnmount, watch, nextTick } from "vue";
import * as echarts from "echarts";
import { t, lang } from "../../i18n.js";
import { api } from "../../api.js";
import { session, can } from "../../session.js";
import { domains } from "../../domains.js";

const STAGES = { accepted: ["已受理", "Accepted"], trial: ["审理中", "In trial"], declared: ["已宣告破产", "Declared"], probation: ["免责考察期", "Probation"], discharged: ["已免责", "Discharged"], closed: ["已终结", "Closed"] };

export default {
  name: "HomePage",
  setup() {
    const stats = ref(null);
    const roleNames = ref([]);
    const chartEl = ref(null);
    let chart = null;
    function draw() {
      if (!chartEl.value || !stats.value) return;
      chart = chart || echarts.init(chartEl.value);
      const keys = Object.keys(STAGES);
      chart.setOption({
        tooltip: {}, grid: { left: 40, right: 10, top: 20, bottom: 40 },
        xAxis: { type: "category", data: keys.map((k) => STAGES[k][lang.value === "en" ? 1 : 0]), axisLabel: { interval: 0, rotate: window.innerWidth < 600 ? 30 : 0 } },
        yAxis: { type: "value" },
        series: [{ type: "bar", data: keys.map((k) => stats.value[k] || 0), itemStyle: { color: "#3a7bd5" } }],
      });
    }
    async function loadRoles() {
      const roles = await api("/auth/roles", { quiet: true });
      const label = (code) => { const r = roles.find((x) => x.code === code); return r ? (lang.value === "en" ? r.en : r.zh) : code; };
      roleNames.value = (session.user?.roles || []).map(label);
    }
    async function load() {
      loadRoles();
      if (!can("cases:read")) return;
      stats.value = await api("/cases/stats/by-stage");
      await nextTick();
      draw();
    }
    const onResize = () => chart && chart.resize();
    onMounted(() => { load(); window.addEventListener("resize", onResize); });
    onBeforeUnmount(() => { window.removeEventListener("resize", onResize); chart && chart.dispose(); });
    watch(lang, () => { draw(); loadRoles(); });
    const total = () => Object.values(stats.value || {}).reduce((a, b) => a + b, 0);
    // what waits for this person, from each domain that offers a home widget (home: [{ component, perm }])
    const widgets = domains.flatMap((d) => d.home || []).filter((w) => !w.perm || can(w.perm));
    return { t, session, stats, chartEl, total, can, roleNames, widgets };
  },
  template: `
  <div>
    <h2 class="page-title" data-test="welcome">{{ t('home.welcome', { name: session.user?.display_name }) }}</h2>
    <div class="cards">
      <el-card shadow="never" class="stat"><div class="lbl">{{ t('home.unit') }}</div><div>{{ session.user?.unit_name }}</div></el-card>
      <el-card shadow="never" class="stat"><div class="lbl">{{ t('home.roles') }}</div><div data-test="roles">{{ roleNames.join('、') }}</div></el-card>
      <el-card v-if="stats" shadow="never" class="stat"><div class="lbl">{{ t('home.cases') }}</div><div class="num">{{ total() }}</div></el-card>
    </div>
    <component v-for="(w, i) in widgets" :key="i" :is="w.component" />
    <el-card v-if="can('cases:read')" shadow="never"><template #header>{{ t('home.byStage') }}</template><div ref="chartEl" class="chart"></div></el-card>
  </div>`,
};
