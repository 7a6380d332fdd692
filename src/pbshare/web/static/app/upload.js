// Choosing a file with Element Plus's upload instead of the browser's own input ("Choose File / No file chosen" in
// the browser's language): the button and the "no file chosen" line follow the page's language.
//
//   <file-pick accept=".csv,.xlsx" data-test="import-file" @pick="onFile" />            // a button and the file's name
//   <file-pick accept=".xlsx" :show-name="false" @pick="onImport"><el-button>导入</el-button></file-pick>  // own trigger
//
// ``pick`` hands over the browser's File; the page uploads it as before (FormData). The same file can be picked
// again. Tests set files on the inner input: page.set_input_files("[data-test=import-file] input[type=file]", path).
// Registered once for every page in main.js.
import { ref } from "vue";
import { t, register } from "./i18n.js";

register({
  "upload.choose": ["选择文件", "Choose a file"],
  "upload.none": ["未选择文件", "No file chosen"],
});

export const FilePick = {
  name: "FilePick",
  props: {
    accept: { type: String, default: "" },
    disabled: { type: Boolean, default: false },
    loading: { type: Boolean, default: false },
    label: { type: String, default: "" },
    showName: { type: Boolean, default: true },
  },
  emits: ["pick"],
  setup(props, { emit, expose }) {
    const up = ref(null);
    const name = ref("");
    function changed(file) {
      if (!file || !file.raw) return;
      name.value = file.name;
      up.value?.clearFiles();
      emit("pick", file.raw);
    }
    function reset() { name.value = ""; up.value?.clearFiles(); }
    expose({ reset });
    return { t, up, name, changed };
  },
  template: `
  <div class="file-pick" style="display:inline-flex;align-items:center;gap:8px;flex-wrap:wrap;max-width:100%">
    <el-upload ref="up" :auto-upload="false" :show-file-list="false" :accept="accept" :disabled="disabled || loading"
      :on-change="changed">
      <slot><el-button :disabled="disabled" :loading="loading">{{ label || t('upload.choose') }}</el-button></slot>
    </el-upload>
    <span v-if="showName" class="muted file-pick-name" style="overflow-wrap:anywhere">{{ name || t('upload.none') }}</span>
  </div>`,
};

export const uploadComponents = { FilePick };
