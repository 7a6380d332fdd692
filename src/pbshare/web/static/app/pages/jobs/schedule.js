// Schedules: the picker (hourly at minute m / daily at hh:mm / weekly on weekdays / monthly on day d or the last
// day / cron), the next ten fire times before saving, enable, disable, run now.
import { ref, reactive, watch, onMounted } from "vue";
import { useRoute, useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t, lang } from "../../i18n.js";
import { api } from "../../api.js";
import { guardComponents } from "../../guard.js";
import { can } from "../../session.js";
import { fmtTime } from "./labels.js";

const WEEKDAYS = [["一", "Mon"], ["二", "Tue"], ["三", "Wed"], ["四", "Thu"], ["五", "Fri"], ["六", "Sat"], ["日", "Sun"]];

export const SchedulePicker = {
  name: "SchedulePicker",
  props: { modelValue: { type: Object, required: true } },
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const p = reactive({ kind: "daily", minute: 0, time: "02:00", weekdays: [1], day: 1, cron: "0 2 * * *", ...props.modelValue });
    const preview = ref(null);
    const problem = ref("");
    let timer = null;
    function picker() {
      if (p.kind === "hourly") return { kind: "hourly", minute: Number(p.minute) };
      if (p.kind === "daily") return { kind: "daily", time: p.time };
      if (p.kind === "weekly") return { kind: "weekly", weekdays: [...p.weekdays].sort(), time: p.time };
      if (p.kind === "monthly") return { kind: "monthly", day: p.day === "last" ? "last" : Number(p.day), time: p.time };
      return { kind: "cron", cron: p.cron };
    }
    async function refresh() {
      const value = picker();
      emit("update:modelValue", value);
      try {
        preview.value = await api("/jobs/schedules/preview", { method: "POST", body: { picker: value }, quiet: true });
        problem.value = "";
      } catch (e) {
        preview.value = null;
        problem.value = e.message;
      }
    }
    watch(p, () => { clearTimeout(timer); timer = setTimeout(refresh, 250); }, { deep: true });
    onMounted(refresh);
    const days = Array.from({ length: 31 }, (_, i) => i + 1);
    return { t, lang, p, preview, problem, days, WEEKDAYS, fmtTime };
  },
  template: `
  <div data-test="schedule-picker">
    <el-radio-group v-model="p.kind" size="small" data-test="picker-kind">
      <el-radio-button value="hourly" data-test="kind-hourly">{{ t('jobs.kind.hourly') }}</el-radio-button>
      <el-radio-button value="daily" data-test="kind-daily">{{ t('jobs.kind.daily') }}</el-radio-button>
      <el-radio-button value="weekly" data-test="kind-weekly">{{ t('jobs.kind.weekly') }}</el-radio-button>
      <el-radio-button value="monthly" data-test="kind-monthly">{{ t('jobs.kind.monthly') }}</el-radio-button>
      <el-radio-button value="cron" data-test="kind-cron">{{ t('jobs.kind.cron') }}</el-radio-button>
    </el-radio-group>
    <div style="margin-top:10px;display:flex;gap:8px;align-items:center;flex-wrap:wrap">
      <template v-if="p.kind === 'hourly'">{{ t('jobs.atMinute') }} <el-input-number v-model="p.minute" :min="0" :max="59" size="small" data-test="picker-minute" /></template>
      <template v-if="p.kind === 'weekly'">
        <el-checkbox-group v-model="p.weekdays" size="small" data-test="picker-weekdays">
          <el-checkbox-button v-for="(w, i) in WEEKDAYS" :key="i" :value="i + 1">{{ lang === 'en' ? w[1] : '周' + w[0] }}</el-checkbox-button>
        </el-checkbox-group>
      </template>
      <template v-if="p.kind === 'monthly'">
        {{ t('jobs.day') }}
        <el-select v-model="p.day" size="small" style="width:120px" data-test="picker-day">
          <el-option value="last" :label="t('jobs.lastDay')" data-test="picker-day-last" />
          <el-option v-for="d in days" :key="d" :value="d" :label="String(d)" />
        </el-select>
      </template>
      <template v-if="['daily', 'weekly', 'monthly'].includes(p.kind)">{{ t('jobs.atTime') }} <el-input v-model="p.time" size="small" style="width:90px" placeholder="02:00" data-test="picker-time" /></template>
      <template v-if="p.kind === 'cron'"><el-input v-model="p.cron" size="small" style="width:200px" data-test="picker-cron" /> <span class="muted">{{ t('jobs.cronHint') }}</span></template>
    </div>
    <div class="muted" style="margin-top:6px">{{ t('jobs.timezone') }}</div>
    <el-alert v-if="problem" type="error" :closable="false" :title="problem" style="margin-top:8px" data-test="picker-problem" />
    <div v-if="preview" style="margin-top:8px" data-test="picker-preview">
      <div><b>{{ preview.description }}</b> <code class="muted">{{ preview.cron }}</code></div>
      <div class="muted">{{ t('jobs.nextTen') }}:</div>
      <ol style="margin:4px 0 0 18px;padding:0"><li v-for="n in preview.next" :key="n" data-test="next-fire">{{ fmtTime(n) }}</li></ol>
    </div>
  </div>`,
};

export default {
  name: "SchedulesPage",
  components: { SchedulePicker, ...guardComponents },
  setup() {
    const route = useRoute();
    const router = useRouter();
    const rows = ref([]);
    const pipelines = ref([]);
    const form = reactive({ open: false, id: null, pipeline_id: "", picker: { kind: "daily", time: "02:00" }, catch_up: "skip", enabled: true, key: 0 });
    async function load() {
      [rows.value, pipelines.value] = await Promise.all([api("/jobs/schedules"), api("/jobs/pipelines")]);
    }
    function edit(s, pipelineId) {
      if (s) Object.assign(form, { open: true, id: s.id, pipeline_id: s.pipeline_id, picker: { ...s.picker }, catch_up: s.catch_up, enabled: s.enabled });
      else Object.assign(form, { open: true, id: null, pipeline_id: pipelineId || pipelines.value[0]?.id || "", picker: { kind: "daily", time: "02:00" }, catch_up: "skip", enabled: true });
      form.key += 1;
    }
    async function save() {
      const body = { pipeline_id: form.pipeline_id, picker: form.picker, catch_up: form.catch_up, enabled: form.enabled, timezone: "Asia/Shanghai" };
      if (form.id) await api(`/jobs/schedules/${form.id}`, { method: "PUT", body });
      else await api("/jobs/schedules", { method: "POST", body });
      ElMessage.success(t("jobs.saved"));
      form.open = false;
      load();
    }
    async function toggle(s) {
      await api(`/jobs/schedules/${s.id}/${s.enabled ? "enable" : "disable"}`, { method: "POST" });
      load();
    }
    async function runNow(s) {
      const run = await api(`/jobs/pipelines/${s.pipeline_id}/run`, { method: "POST" });
      ElMessage.success(t("jobs.started"));
      router.push("/jobs/runs/" + run.id);
    }
    async function remove(s) {
      await api(`/jobs/schedules/${s.id}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: s.pipeline_name + " · " + s.description }));
      load();
    }
    onMounted(async () => {
      await load();
      if (route.query.pipeline && can("jobs:manage")) edit(null, route.query.pipeline);
    });
    return { t, can, rows, pipelines, form, edit, save, toggle, runNow, remove, fmtTime };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.schedules') }}</h2>
    <div class="toolbar"><el-button v-if="can('jobs:manage')" type="primary" data-test="new-schedule" @click="edit(null)">{{ t('jobs.newSchedule') }}</el-button></div>
    <el-table :data="rows" data-test="schedules-table" :empty-text="t('jobs.noSchedules')">
      <el-table-column :label="t('jobs.pipeline')" prop="pipeline_name" min-width="140" />
      <el-table-column :label="t('jobs.when')" prop="description" min-width="160" />
      <el-table-column :label="t('jobs.nextFire')" min-width="170"><template #default="{ row }">{{ row.enabled ? fmtTime(row.next[0]) : '—' }}</template></el-table-column>
      <el-table-column :label="t('jobs.catchUp')" width="130"><template #default="{ row }">{{ t('jobs.catchUp.' + row.catch_up) }}</template></el-table-column>
      <el-table-column :label="t('jobs.enabled')" width="80"><template #default="{ row }"><el-switch v-model="row.enabled" :disabled="!can('jobs:manage')" @change="toggle(row)" /></template></el-table-column>
      <el-table-column width="250"><template #default="{ row }">
        <el-button v-if="can('jobs:manage')" size="small" type="primary" data-test="schedule-run-now" @click="runNow(row)">{{ t('jobs.runNow') }}</el-button>
        <el-button v-if="can('jobs:manage')" size="small" @click="edit(row)">{{ t('jobs.edit') }}</el-button>
        <guarded-button v-if="can('jobs:manage')" size="small" type="danger" link @click="remove(row)" :confirm="t('guard.deleteAsk', { n: row.pipeline_name + ' · ' + row.description })" :confirm-text="t('guard.delete')" :data-test="'schedule-delete-' + row.id">{{ t('jobs.delete') }}</guarded-button>
      </template></el-table-column>
    </el-table>
    <el-dialog v-model="form.open" :title="form.id ? t('jobs.editSchedule') : t('jobs.newSchedule')" width="min(640px, 96vw)" top="5vh">
      <el-form label-width="120px" size="small">
        <el-form-item :label="t('jobs.pipeline')">
          <el-select v-model="form.pipeline_id" data-test="schedule-pipeline" style="width:100%"><el-option v-for="p in pipelines" :key="p.id" :value="p.id" :label="p.name" /></el-select>
        </el-form-item>
        <el-form-item :label="t('jobs.when')"><schedule-picker :key="form.key" v-model="form.picker" /></el-form-item>
        <el-form-item :label="t('jobs.catchUp')">
          <el-radio-group v-model="form.catch_up"><el-radio value="skip">{{ t('jobs.catchUp.skip') }}</el-radio><el-radio value="once">{{ t('jobs.catchUp.once') }}</el-radio></el-radio-group>
        </el-form-item>
        <el-form-item :label="t('jobs.enabled')"><el-switch v-model="form.enabled" /></el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="form.open = false">{{ t('jobs.cancel') }}</el-button>
        <el-button type="primary" data-test="save-schedule" @click="save">{{ t('jobs.save') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
