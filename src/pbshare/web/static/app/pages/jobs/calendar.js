// Upcoming runs on a month calendar (Asia/Shanghai days), from every enabled schedule.
import { ref, watch, onMounted, computed } from "vue";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { localDay, fmtTime } from "./labels.js";
import { fmtTime as clockTime } from "../../format.js";

export default {
  name: "JobCalendarPage",
  setup() {
    const day = ref(new Date());
    const entries = ref([]);
    async function load() {
      const d = day.value;
      const start = new Date(Date.UTC(d.getFullYear(), d.getMonth(), 1) - 8 * 3600e3 - 7 * 86400e3);
      const end = new Date(Date.UTC(d.getFullYear(), d.getMonth() + 1, 1) + 7 * 86400e3);
      entries.value = await api(`/jobs/calendar?start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(end.toISOString())}`);
    }
    const byDay = computed(() => {
      const out = {};
      for (const e of entries.value) (out[localDay(e.at)] ||= []).push(e);
      return out;
    });
    const upcoming = computed(() => entries.value.filter((e) => new Date(e.at) > new Date()).slice(0, 10));
    const time = (iso) => clockTime(iso);
    watch(() => `${day.value.getFullYear()}-${day.value.getMonth()}`, load);
    onMounted(load);
    return { t, day, byDay, upcoming, time, fmtTime };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.jobCalendar') }}</h2>
    <div class="muted">{{ t('jobs.timezone') }}</div>
    <el-calendar v-model="day" data-test="job-calendar">
      <template #date-cell="{ data }">
        <div style="font-size:12px">{{ data.day.slice(8) }}</div>
        <div v-for="e in (byDay[data.day] || []).slice(0, 3)" :key="e.at + e.schedule_id" style="font-size:11px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis" data-test="calendar-entry">
          {{ time(e.at) }} {{ e.pipeline_name }}</div>
        <div v-if="(byDay[data.day] || []).length > 3" class="muted" style="font-size:11px">+{{ byDay[data.day].length - 3 }}</div>
      </template>
    </el-calendar>
    <h3>{{ t('jobs.upcoming') }}</h3>
    <ol><li v-for="e in upcoming" :key="e.at + e.schedule_id">{{ fmtTime(e.at) }} · {{ e.pipeline_name }}</li></ol>
  </div>`,
};
