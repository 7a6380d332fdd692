// Pipelines: a list, and an editor whose steps are reordered by dragging (HTML5 drag and drop, no library).
import { ref, reactive, onMounted } from "vue";
import { useRouter } from "vue-router";
import { ElMessage } from "element-plus";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { guardComponents } from "../../guard.js";
import { tableComponents } from "../../tables.js";
import { can } from "../../session.js";
import { kindLabel, paramLabel } from "./labels.js";

function blankStep(kind) {
  return { kind, name: "", params: {}, on_error: "stop", retries: 0, retry_delay_s: 5, timeout_s: 3600 };
}

export default {
  name: "PipelinesPage",
  components: { ...guardComponents, ...tableComponents },
  setup() {
    const router = useRouter();
    const rows = ref([]);
    const kinds = ref([]);
    const form = reactive({ open: false, id: null, name: "", description: "", steps: [] });
    const dragging = ref(null);
    async function load() {
      const [p, k] = await Promise.all([api("/jobs/pipelines"), kinds.value.length ? kinds.value : api("/jobs/step-kinds")]);
      rows.value = p; kinds.value = k;
    }
    function kindOf(code) { return kinds.value.find((k) => k.code === code) || { params: [] }; }
    function edit(p) {
      if (p) Object.assign(form, { open: true, id: p.id, name: p.name, description: p.description || "", steps: JSON.parse(JSON.stringify(p.steps)) });
      else Object.assign(form, { open: true, id: null, name: "", description: "", steps: [] });
    }
    function addStep() {
      const st = blankStep(kinds.value[0]?.code || "sql");
      for (const p of kindOf(st.kind).params) if (p.default !== null && p.default !== undefined) st.params[p.name] = p.default;
      form.steps.push(st);
    }
    function kindChanged(st) {
      st.params = {};
      for (const p of kindOf(st.kind).params) if (p.default !== null && p.default !== undefined) st.params[p.name] = p.default;
    }
    function dragStart(i, ev) { dragging.value = i; ev.dataTransfer.effectAllowed = "move"; ev.dataTransfer.setData("text/plain", String(i)); }
    function drop(i) {
      const from = dragging.value;
      dragging.value = null;
      if (from === null || from === i) return;
      const [moved] = form.steps.splice(from, 1);
      form.steps.splice(i, 0, moved);
    }
    function move(i, d) {
      const j = i + d;
      if (j < 0 || j >= form.steps.length) return;
      const [moved] = form.steps.splice(i, 1);
      form.steps.splice(j, 0, moved);
    }
    async function save() {
      const body = { name: form.name, description: form.description || null, steps: form.steps.map((s) => ({ ...s, name: s.name || null, retries: Number(s.retries) || 0, retry_delay_s: Number(s.retry_delay_s) || 0, timeout_s: Number(s.timeout_s) || 3600 })) };
      if (form.id) await api(`/jobs/pipelines/${form.id}`, { method: "PUT", body });
      else await api("/jobs/pipelines", { method: "POST", body });
      ElMessage.success(t("jobs.saved"));
      form.open = false;
      load();
    }
    async function remove(p) {
      await api(`/jobs/pipelines/${p.id}`, { method: "DELETE" });
      ElMessage.success(t("guard.deleted", { n: p.name }));
      load();
    }
    async function runNow(p) {
      const run = await api(`/jobs/pipelines/${p.id}/run`, { method: "POST" });
      ElMessage.success(t("jobs.started"));
      router.push("/jobs/runs/" + run.id);
    }
    onMounted(load);
    return { t, can, rows, kinds, form, dragging, kindOf, edit, addStep, kindChanged, dragStart, drop, move, save, remove, runNow, kindLabel, paramLabel, router };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.pipelines') }}</h2>
    <div class="toolbar"><el-button v-if="can('jobs:manage')" type="primary" data-test="new-pipeline" @click="edit(null)">{{ t('jobs.newPipeline') }}</el-button></div>
    <list-table :data="rows" :name="t('nav.pipelines')" data-test="pipelines-table" :empty-text="t('jobs.noPipelines')">
      <el-table-column :label="t('jobs.name')" prop="name" sortable="custom" min-width="160" />
      <el-table-column :label="t('jobs.steps')" min-width="260">
        <template #default="{ row }"><span class="muted">{{ row.steps.map((s) => s.name || kindLabel(kinds, s.kind)).join(' → ') }}</span></template>
      </el-table-column>
      <el-table-column width="330" fixed="right">
        <template #default="{ row }">
          <el-button v-if="can('jobs:manage')" size="small" type="primary" :data-test="'run-' + row.name" @click="runNow(row)">{{ t('jobs.runNow') }}</el-button>
          <el-button v-if="can('jobs:manage')" size="small" :data-test="'schedule-' + row.name" @click="router.push({ path: '/jobs/schedules', query: { pipeline: row.id } })">{{ t('jobs.schedule') }}</el-button>
          <el-button v-if="can('jobs:manage')" size="small" :data-test="'edit-' + row.name" @click="edit(row)">{{ t('jobs.edit') }}</el-button>
          <guarded-button v-if="can('jobs:manage')" size="small" type="danger" link @click="remove(row)" :confirm="t('guard.deleteAsk', { n: row.name })" :confirm-text="t('guard.delete')" :data-test="'pipeline-delete-' + row.name">{{ t('jobs.delete') }}</guarded-button>
        </template>
      </el-table-column>
    </list-table>
    <el-dialog v-model="form.open" :title="form.id ? t('jobs.editPipeline') : t('jobs.newPipeline')" width="min(860px, 96vw)" top="4vh">
      <el-form label-width="100px" size="small">
        <el-form-item :label="t('jobs.name')"><el-input v-model="form.name" data-test="pipeline-name" /></el-form-item>
        <el-form-item :label="t('jobs.description')"><el-input v-model="form.description" type="textarea" :rows="2" /></el-form-item>
        <el-form-item :label="t('jobs.steps')">
          <div style="width:100%">
            <div class="muted" style="margin-bottom:6px">{{ t('jobs.stepsHint') }}</div>
            <div v-for="(st, i) in form.steps" :key="i" class="job-step" :class="{ dragging: dragging === i }" draggable="true"
                 :data-test="'step-' + i" @dragstart="dragStart(i, $event)" @dragover.prevent @drop.prevent="drop(i)"
                 style="border:1px solid var(--el-border-color);border-radius:6px;padding:8px;margin-bottom:8px;background:var(--el-bg-color)">
              <div style="display:flex;gap:6px;align-items:center;flex-wrap:wrap">
                <span style="cursor:grab;font-size:18px" :title="t('jobs.stepsHint')" data-test="drag-handle">⠿</span>
                <b>{{ i + 1 }}.</b>
                <el-select v-model="st.kind" style="width:200px" :data-test="'step-kind-' + i" @change="kindChanged(st)">
                  <el-option v-for="k in kinds" :key="k.code" :value="k.code" :label="kindLabel(kinds, k.code)" />
                </el-select>
                <el-input v-model="st.name" style="width:180px" :placeholder="t('jobs.stepName')" :data-test="'step-name-' + i" />
                <el-button link @click="move(i, -1)" :disabled="i === 0">↑</el-button>
                <el-button link @click="move(i, 1)" :disabled="i === form.steps.length - 1">↓</el-button>
                <el-button link type="danger" @click="form.steps.splice(i, 1)">✕</el-button>
              </div>
              <div v-for="p in kindOf(st.kind).params" :key="p.name" style="display:flex;gap:6px;align-items:center;margin-top:6px;flex-wrap:wrap">
                <span style="min-width:160px" class="muted">{{ paramLabel(p) }}<span v-if="p.required" style="color:var(--el-color-danger)"> *</span></span>
                <el-input v-if="p.kind === 'textarea'" v-model="st.params[p.name]" type="textarea" :rows="3" style="flex:1;min-width:240px" :data-test="'param-' + i + '-' + p.name" />
                <el-switch v-else-if="p.kind === 'bool'" v-model="st.params[p.name]" :data-test="'param-' + i + '-' + p.name" />
                <el-select v-else-if="p.kind === 'choice'" v-model="st.params[p.name]" style="width:140px"><el-option v-for="c in p.choices" :key="c" :value="c" :label="c" /></el-select>
                <el-input-number v-else-if="p.kind === 'number'" v-model="st.params[p.name]" :min="0" :step="1" :data-test="'param-' + i + '-' + p.name" />
                <el-input v-else v-model="st.params[p.name]" style="flex:1;min-width:200px" :data-test="'param-' + i + '-' + p.name" />
              </div>
              <div style="display:flex;gap:10px;align-items:center;margin-top:6px;flex-wrap:wrap" class="muted">
                {{ t('jobs.onError') }}
                <el-select v-model="st.on_error" style="width:150px"><el-option value="stop" :label="t('jobs.onError.stop')" /><el-option value="continue" :label="t('jobs.onError.continue')" /></el-select>
                {{ t('jobs.retries') }} <el-input-number v-model="st.retries" :min="0" :max="10" style="width:100px" />
                {{ t('jobs.timeout') }} <el-input-number v-model="st.timeout_s" :min="1" :max="86400" style="width:130px" />
              </div>
            </div>
            <el-button data-test="add-step" @click="addStep">{{ t('jobs.addStep') }}</el-button>
          </div>
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="form.open = false">{{ t('jobs.cancel') }}</el-button>
        <el-button type="primary" data-test="save-pipeline" @click="save">{{ t('jobs.save') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
