// The import wizard: upload or pick a source → preview with problems flagged → mapping → target → run with progress.
import { ref, reactive, computed, onMounted, onBeforeUnmount } from "vue";
import { t } from "../../i18n.js";
import { api } from "../../api.js";
import { pickerComponents } from "../../pickers.js";
import { useFieldErrors } from "../../fielderrors.js";
import { can } from "../../session.js";
import { TYPES, statusType, skippedText } from "./labels.js";

export default {
  name: "ImportWizard",
  components: { ...pickerComponents },
  setup() {
    const step = ref(0);
    const narrow = window.innerWidth < 768;  // phones: labels above the fields
    const busy = ref(false);
    const topics = ref([]);
    const sources = ref([]);
    const upload = ref(null);
    const src = reactive({ kind: "file", encoding: "", delimiter: "", header_row: null, sheet: "",
      source_id: "", table: "", query: "", cursor_column: "", url: "", records_path: "", page_size: 100 });
    const target = reactive({ topic: "", table: "", title: "", mode: "append", key: [], resource_code: "" });
    const mapping = ref([]);
    const preview = ref(null);
    const profile = reactive({ save: false, name: "", title: "" });
    const run = ref(null);
    let timer = null;

    const sourceKind = computed(() => (src.kind === "file" ? (upload.value?.kind || "csv") : src.kind));
    function sourceSpec() {
      if (src.kind === "file") {
        const s = { upload_id: upload.value?.upload_id };
        if (src.encoding) s.encoding = src.encoding;
        if (src.delimiter) s.delimiter = src.delimiter === "\\t" ? "\t" : src.delimiter;
        if (src.header_row) s.header_row = src.header_row;
        if (src.sheet) s.sheet = src.sheet;
        return s;
      }
      if (src.kind === "database") {
        const s = { source_id: src.source_id };
        if (src.query) s.query = src.query; else s.table = src.table;
        if (src.cursor_column) s.cursor_column = src.cursor_column;
        return s;
      }
      return { url: src.url, records_path: src.records_path, page_size: src.page_size };
    }
    function spec(withMapping = true) {
      return { source_kind: sourceKind.value, source: sourceSpec(), mapping: withMapping ? mapping.value : [],
        target_topic: target.topic, target_table: target.table, target_title: target.title || null,
        mode: target.mode, key: target.key, resource_code: target.resource_code || null };
    }
    async function onFile(file) {
      if (!file) return;
      const form = new FormData();
      form.append("file", file);
      busy.value = true;
      try {
        upload.value = await api("/collect/uploads", { method: "POST", form });
        src.sheet = upload.value.sheets?.[0] || "";
        src.header_row = upload.value.header_row || null;
        if (!target.table) {
          const base = file.name.replace(/\.[^.]+$/, "").toLowerCase().replace(/[^a-z0-9_]/g, "_").replace(/^[^a-z]+/, "");
          target.table = base || "import_" + new Date().toISOString().slice(0, 10).replaceAll("-", "");
          target.title = file.name.replace(/\.[^.]+$/, "");
        }
      } finally { busy.value = false; }
    }
    async function doPreview(keepMapping) {
      busy.value = true;
      try {
        preview.value = await api("/collect/preview", { method: "POST", body: spec(keepMapping), fields: feSource });
        mapping.value = preview.value.mapping;
        if (preview.value.options?.header_row) src.header_row = preview.value.options.header_row;
        step.value = 1;
      } finally { busy.value = false; }
    }
    function addField() {
      mapping.value.push({ target: "", source: null, title: "", type: "string", required: false, pii: false,
        id_kind: null, trim: true, case: null, formats: [], value_map: {}, map_strict: false, default: null });
    }
    async function start() {
      busy.value = true;
      try {
        const body = { spec: spec(true) };
        if (profile.save) body.save_as = { ...spec(true), name: profile.name, title: profile.title || profile.name };
        run.value = await api("/collect/runs", { method: "POST", body, fields: feTarget });
        step.value = 4;
        poll();
      } finally { busy.value = false; }
    }
    async function poll() {
      clearTimeout(timer);
      run.value = await api(`/collect/runs/${run.value.id}`);
      if (run.value.status === "queued" || run.value.status === "running") timer = setTimeout(poll, 500);
    }
    function reset() {
      step.value = 0; upload.value = null; preview.value = null; mapping.value = []; run.value = null;
      target.table = ""; target.title = ""; target.key = [];
    }
    onMounted(async () => {
      topics.value = await api("/warehouse/topics");
      if (topics.value.length) target.topic = topics.value[0].name;
      if (can("metadata:read")) sources.value = await api("/metadata/sources", { quiet: true }).catch(() => []);
    });
    onBeforeUnmount(() => clearTimeout(timer));
    const rowClass = ({ row }) => (row.__reason ? "row-bad" : "");
    const percent = computed(() => Math.round(100 * (run.value?.status === "succeeded" ? 1 : run.value?.progress || 0)));
    const ready = computed(() => (src.kind === "file" ? !!upload.value : src.kind === "database" ? !!src.source_id && !!(src.table || src.query) : !!src.url) && !!target.topic && !!target.table);
    const feSource = useFieldErrors();  // a 422 lands at its field in the source step and in the target step
    const feTarget = useFieldErrors();
    return { t, feSource, feTarget, step, busy, topics, sources, upload, src, target, mapping, preview, profile, run, TYPES, statusType, skippedText,
      onFile, doPreview, addField, start, reset, rowClass, percent, ready, can, narrow };
  },
  template: `
  <div>
    <h2 class="page-title">{{ t('nav.import') }}</h2>
    <div style="overflow-x:auto;margin-bottom:16px"><el-steps :active="step" finish-status="success" simple style="min-width:520px">
      <el-step :title="t('col.step.source')" /><el-step :title="t('col.step.preview')" />
      <el-step :title="t('col.step.mapping')" /><el-step :title="t('col.step.target')" /><el-step :title="t('col.step.run')" />
    </el-steps>

    <el-card v-if="step === 0" v-loading="busy">
      <el-alert v-if="!topics.length" type="warning" :closable="false" :title="t('wh.noTopic')" style="margin-bottom:12px" />
      <el-radio-group v-model="src.kind" style="margin-bottom:12px">
        <el-radio-button value="file">{{ t('col.kind.file') }}</el-radio-button>
        <el-radio-button value="database">{{ t('col.kind.database') }}</el-radio-button>
        <el-radio-button value="api">{{ t('col.kind.api') }}</el-radio-button>
      </el-radio-group>
      <el-form :ref="feSource.form" :label-width="narrow ? 'auto' : '140px'" :label-position="narrow ? 'top' : 'left'">
        <template v-if="src.kind === 'file'">
          <el-form-item :label="t('col.chooseFile')">
            <file-pick accept=".csv,.txt,.tsv,.xlsx,.xls,.xlsm" data-test="import-file" :loading="busy" @pick="onFile" />
          </el-form-item>
          <template v-if="upload">
            <el-alert type="success" :closable="false" :title="t('col.uploaded', { name: upload.file_name, kb: Math.ceil(upload.size / 1024) })" style="margin-bottom:12px" />
            <el-form-item v-if="upload.kind === 'csv'" :label="t('col.encoding')">
              <el-select v-model="src.encoding" style="width:200px" :placeholder="t('col.auto') + ' (' + upload.encoding + ')'">
                <el-option value="" :label="t('col.auto') + ' (' + upload.encoding + ')'" /><el-option value="utf-8" label="UTF-8" /><el-option value="gb18030" label="GBK / GB18030" />
              </el-select>
            </el-form-item>
            <el-form-item v-if="upload.kind === 'csv'" :label="t('col.delimiter')">
              <el-select v-model="src.delimiter" style="width:200px" :placeholder="t('col.auto')">
                <el-option value="" :label="t('col.auto')" /><el-option value="," label="," /><el-option value="\\t" label="Tab" /><el-option value=";" label=";" /><el-option value="|" label="|" />
              </el-select>
            </el-form-item>
            <el-form-item v-if="upload.kind === 'excel'" :label="t('col.sheet')">
              <el-select v-model="src.sheet" style="width:200px"><el-option v-for="s in upload.sheets" :key="s" :value="s" :label="s" /></el-select>
            </el-form-item>
            <el-form-item :label="t('col.headerRow')"><el-input-number v-model="src.header_row" :min="1" :max="1000" data-test="header-row" /></el-form-item>
          </template>
        </template>
        <template v-else-if="src.kind === 'database'">
          <el-form-item :label="t('col.source')"><el-select v-model="src.source_id" style="width:260px"><el-option v-for="s in sources" :key="s.id" :value="s.id" :label="s.name" /></el-select></el-form-item>
          <el-form-item :label="t('col.table')"><el-input v-model="src.table" style="max-width:320px" /></el-form-item>
          <el-form-item :label="t('col.query')"><el-input v-model="src.query" type="textarea" :rows="3" /></el-form-item>
          <el-form-item :label="t('col.cursor')"><el-input v-model="src.cursor_column" style="max-width:240px" /></el-form-item>
        </template>
        <template v-else>
          <el-form-item :label="t('col.url')"><el-input v-model="src.url" placeholder="https://…" /></el-form-item>
          <el-form-item :label="t('col.recordsPath')"><el-input v-model="src.records_path" style="max-width:240px" /></el-form-item>
          <el-form-item :label="t('col.pageSize')"><el-input-number v-model="src.page_size" :min="1" :max="10000" /></el-form-item>
        </template>
        <el-form-item :label="t('col.topic')" prop="target_topic">
          <el-select v-model="target.topic" style="width:200px" data-test="target-topic"><el-option v-for="tp in topics" :key="tp.name" :value="tp.name" :label="tp.title + ' (' + tp.name + ')'" /></el-select>
        </el-form-item>
        <el-form-item :label="t('col.targetTable')" prop="target_table"><el-input v-model="target.table" style="max-width:260px" data-test="target-table" /></el-form-item>
        <el-form-item :label="t('col.resource')" prop="resource_code"><entity-picker kind="resource" v-model="target.resource_code" style="max-width:320px" data-test="target-resource" /></el-form-item>
      </el-form>
      <el-button type="primary" :disabled="!ready" data-test="to-preview" @click="doPreview(false)">{{ t('col.next') }}</el-button>
    </el-card>

    <el-card v-if="step === 1 && preview" v-loading="busy">
      <p class="muted">{{ t('col.previewHint', { n: preview.rows_checked }) }}</p>
      <el-alert :type="preview.rows_bad ? 'warning' : 'success'" :closable="false" data-test="preview-problems"
        :title="preview.rows_bad ? t('col.problems', { n: preview.rows_bad }) : t('col.noProblems')" style="margin-bottom:8px" />
      <el-table :data="preview.rows" max-height="420" size="small" :row-class-name="rowClass" data-test="preview-table" border>
        <el-table-column prop="__line" :label="t('col.line')" width="70" fixed />
        <el-table-column v-for="m in preview.mapping" :key="m.target" :prop="m.target" :label="m.title || m.target" min-width="120" show-overflow-tooltip />
        <el-table-column prop="__reason" :label="t('col.reason')" min-width="240" show-overflow-tooltip />
      </el-table>
      <div style="margin-top:12px"><el-button @click="step = 0">{{ t('col.back') }}</el-button><el-button type="primary" data-test="to-mapping" @click="step = 2">{{ t('col.next') }}</el-button></div>
    </el-card>

    <el-card v-if="step === 2" v-loading="busy">
      <el-table :data="mapping" size="small" border data-test="mapping-table">
        <el-table-column :label="t('col.target')" min-width="130"><template #default="{ row }"><el-input v-model="row.target" size="small" /></template></el-table-column>
        <el-table-column :label="t('col.sourceCol')" min-width="150"><template #default="{ row }"><el-select v-model="row.source" size="small" clearable><el-option v-for="c in preview.columns" :key="c" :value="c" :label="c" /></el-select></template></el-table-column>
        <el-table-column :label="t('col.titleCol')" min-width="120"><template #default="{ row }"><el-input v-model="row.title" size="small" /></template></el-table-column>
        <el-table-column :label="t('col.type')" width="120"><template #default="{ row }"><el-select v-model="row.type" size="small"><el-option v-for="ty in TYPES" :key="ty" :value="ty" :label="t('col.type.' + ty)" /></el-select></template></el-table-column>
        <el-table-column :label="t('col.idKind')" width="130"><template #default="{ row }"><el-select v-model="row.id_kind" size="small" clearable><el-option value="cn_ric" label="身份证 cn_ric" /><el-option value="uscc" label="USCC" /><el-option value="phone" label="phone" /></el-select></template></el-table-column>
        <el-table-column :label="t('col.required')" width="70"><template #default="{ row }"><el-checkbox v-model="row.required" /></template></el-table-column>
        <el-table-column :label="t('col.pii')" width="110"><template #default="{ row }"><el-checkbox v-model="row.pii" /></template></el-table-column>
        <el-table-column :label="t('col.default')" width="110"><template #default="{ row }"><el-input v-model="row.default" size="small" /></template></el-table-column>
        <el-table-column width="60"><template #default="{ $index }"><el-button link type="danger" @click="mapping.splice($index, 1)">✕</el-button></template></el-table-column>
      </el-table>
      <div style="margin-top:12px">
        <el-button @click="addField">{{ t('col.addField') }}</el-button>
        <el-button @click="step = 1">{{ t('col.back') }}</el-button>
        <el-button @click="doPreview(true)">{{ t('col.step.preview') }}</el-button>
        <el-button type="primary" data-test="to-target" @click="step = 3">{{ t('col.next') }}</el-button>
      </div>
    </el-card>

    <el-card v-if="step === 3" v-loading="busy">
      <el-form :ref="feTarget.form" :label-width="narrow ? 'auto' : '140px'" :label-position="narrow ? 'top' : 'left'">
        <el-form-item :label="t('col.topic')" prop="target_topic"><el-select v-model="target.topic" style="width:200px"><el-option v-for="tp in topics" :key="tp.name" :value="tp.name" :label="tp.title" /></el-select></el-form-item>
        <el-form-item :label="t('col.targetTable')" prop="target_table"><el-input v-model="target.table" style="max-width:260px" /></el-form-item>
        <el-form-item :label="t('col.targetTitle')" prop="target_title"><el-input v-model="target.title" style="max-width:260px" /></el-form-item>
        <el-form-item :label="t('col.mode')" prop="mode">
          <el-radio-group v-model="target.mode" data-test="mode">
            <el-radio value="append">{{ t('col.mode.append') }}</el-radio><el-radio value="replace">{{ t('col.mode.replace') }}</el-radio><el-radio value="upsert">{{ t('col.mode.upsert') }}</el-radio>
          </el-radio-group>
        </el-form-item>
        <el-form-item :label="t('col.key')" prop="key"><el-select v-model="target.key" multiple style="width:320px"><el-option v-for="m in mapping" :key="m.target" :value="m.target" :label="m.title || m.target" /></el-select></el-form-item>
        <el-form-item v-if="can('collect:manage')" :label="t('col.saveProfile')" data-test="save-profile"><el-switch v-model="profile.save" /></el-form-item>
        <template v-if="profile.save">
          <el-form-item :label="t('col.profileName')" prop="save_as.name" data-test="profile-name-item"><el-input v-model="profile.name" style="max-width:240px" data-test="profile-name" /></el-form-item>
          <el-form-item :label="t('col.profileTitle')" prop="save_as.title"><el-input v-model="profile.title" style="max-width:240px" /></el-form-item>
        </template>
      </el-form>
      <el-button @click="step = 2">{{ t('col.back') }}</el-button>
      <el-button type="primary" data-test="start-import" @click="start">{{ t('col.start') }}</el-button>
    </el-card>

    <el-card v-if="step === 4 && run">
      <el-progress :percentage="percent" :status="run.status === 'failed' ? 'exception' : run.status === 'succeeded' ? 'success' : ''" data-test="run-progress" />
      <p><el-tag :type="statusType(run.status)" data-test="run-status">{{ t('col.status.' + run.status) }}</el-tag></p>
      <el-descriptions :column="2" border size="small" data-test="run-counts">
        <el-descriptions-item :label="t('col.read')">{{ run.rows_read }}</el-descriptions-item>
        <el-descriptions-item :label="t('col.loaded')">{{ run.rows_loaded }}</el-descriptions-item>
        <el-descriptions-item :label="t('col.quarantined')"><span data-test="wizard-quarantined">{{ run.rows_quarantined }}</span></el-descriptions-item>
        <el-descriptions-item :label="t('col.duplicates')"><span data-test="wizard-duplicates">{{ run.rows_duplicate }}</span></el-descriptions-item>
        <el-descriptions-item :label="t('col.skipped')"><span data-test="wizard-skipped">{{ skippedText(run, t) }}</span></el-descriptions-item>
        <el-descriptions-item :label="t('col.seconds')">{{ run.seconds ? run.seconds.toFixed(1) : '-' }}</el-descriptions-item>
      </el-descriptions>
      <el-alert v-if="run.error" type="error" :closable="false" :title="run.error" style="margin-top:12px;white-space:pre-line" data-test="run-error" />
      <div style="margin-top:12px">
        <router-link :to="'/collect/runs/' + run.id"><el-button type="primary" data-test="view-run">{{ t('col.viewRun') }}</el-button></router-link>
        <el-button @click="reset">{{ t('col.again') }}</el-button>
      </div>
    </el-card>
  </div>`,
};
