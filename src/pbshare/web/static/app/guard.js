// Guarded actions, written once for every page:
// - confirmAction(): asks before something that cannot simply be undone, in the user's language, saying what will
//   happen, with the confirm button in danger style; resolves true only when the person confirms.
// - <guarded-button confirm="…">: an el-button that carries data-confirm (the shared browser check looks for it on
//   every destructive button), asks, then emits click. With disabled-reason="…" it is disabled and its tooltip says why.
// - <secret-dialog v-model="secret">: a secret shown once, with copy and download, saying it will not be shown again.
// Pages list them in `components: { ...guardComponents }`.
import { ref, computed } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { t, register } from "./i18n.js";

register({
  "guard.title": ["请确认", "Please confirm"],
  "guard.go": ["确定", "Confirm"],
  "guard.cancel": ["取消", "Cancel"],
  "guard.delete": ["确认删除", "Delete"],
  "guard.deleteAsk": ["将删除“{n}”，删除后无法恢复。继续？", "“{n}” will be deleted; this cannot be undone. Continue?"],
  "guard.deleted": ["已删除“{n}”", "Deleted “{n}”"],
  "guard.trashAsk": ["将删除“{n}”（移入回收站，可从回收站恢复）。继续？", "“{n}” will be deleted (moved to the trash, where it can be restored). Continue?"],
  "secret.once": ["只显示这一次：关闭后无法再次查看，请立即复制或下载，并通过安全渠道交给对方。", "Shown only this once: after closing it cannot be seen again. Copy or download it now and hand it over a safe channel."],
  "secret.copy": ["复制", "Copy"],
  "secret.copied": ["已复制到剪贴板", "Copied to the clipboard"],
  "secret.copyFailed": ["浏览器不允许复制，请选中文字后按 Ctrl+C，或点“下载”", "The browser refused to copy; select the text and press Ctrl+C, or use Download"],
  "secret.download": ["下载", "Download"],
  "secret.close": ["我已保存，关闭", "I have saved it; close"],
});

/** Ask before acting. Resolves true when the person confirms, false when they cancel or close the box. */
export async function confirmAction(message, { title, confirmText, danger = true } = {}) {
  try {
    await ElMessageBox.confirm(message, title || t("guard.title"), {
      type: "warning",
      confirmButtonText: confirmText || t("guard.go"),
      cancelButtonText: t("guard.cancel"),
      confirmButtonClass: danger ? "el-button--danger" : "",
      customClass: "guard-confirm",
      autofocus: false,
    });
    return true;
  } catch (e) {
    return false;
  }
}

/** Ask before deleting ``name``; true when confirmed. */
export function confirmDelete(name) {
  return confirmAction(t("guard.deleteAsk", { n: name }), { title: t("guard.delete"), confirmText: t("guard.delete") });
}

export const GuardedButton = {
  name: "GuardedButton",
  inheritAttrs: false,
  props: {
    confirm: { type: String, default: "" }, // what will happen; empty: no question (e.g. a button only disabled with a reason)
    confirmTitle: { type: String, default: "" },
    confirmText: { type: String, default: "" },
    disabledReason: { type: String, default: "" }, // non-empty: the button is disabled and the tooltip says why
    disabled: { type: Boolean, default: false },
  },
  emits: ["click"],
  setup(props, { emit }) {
    const busy = ref(false);
    async function run(ev) {
      if (busy.value) return;
      if (props.confirm) {
        busy.value = true;
        try {
          if (!(await confirmAction(props.confirm, { title: props.confirmTitle, confirmText: props.confirmText }))) return;
        } finally { busy.value = false; }
      }
      emit("click", ev);
    }
    return { run, t };
  },
  template: `
  <el-tooltip v-if="disabledReason" :content="disabledReason" placement="top">
    <span class="guard-disabled" tabindex="0" :data-disabled-reason="disabledReason"><el-button v-bind="$attrs" disabled :data-confirm="confirm || $attrs['data-confirm'] || null"><slot /></el-button></span>
  </el-tooltip>
  <el-button v-else v-bind="$attrs" :disabled="disabled" :data-confirm="confirm || $attrs['data-confirm'] || null" @click="run"><slot /></el-button>`,
};

/** A secret shown once: v-model holds the text (or an object shown as "key: value" lines); null closes it.
 *  The default slot may lay the secret out differently (copy and download still use the text). */
export const SecretDialog = {
  name: "SecretDialog",
  props: {
    modelValue: { type: [String, Object], default: null },
    title: { type: String, default: "" },
    filename: { type: String, default: "secret.txt" },
    note: { type: String, default: "" }, // what the secret is for and whom to hand it to
  },
  emits: ["update:modelValue"],
  setup(props, { emit }) {
    const text = computed(() => {
      const v = props.modelValue;
      if (v == null) return "";
      if (typeof v === "string") return v;
      return Object.entries(v).filter(([, x]) => x != null && x !== "").map(([k, x]) => `${k}: ${Array.isArray(x) ? x.join(" ") : x}`).join("\n");
    });
    async function copy() {
      try {
        await navigator.clipboard.writeText(text.value);
        ElMessage.success(t("secret.copied"));
      } catch (e) {
        ElMessage.warning(t("secret.copyFailed"));
      }
    }
    function download() {
      const url = URL.createObjectURL(new Blob([text.value + "\n"], { type: "text/plain;charset=utf-8" }));
      const a = document.createElement("a");
      a.href = url; a.download = props.filename; document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }
    function close() { emit("update:modelValue", null); }
    return { t, text, copy, download, close };
  },
  template: `
  <el-dialog :model-value="modelValue != null" :before-close="close" :title="title" width="min(640px, 95vw)" :close-on-click-modal="false" data-test="secret-dialog">
    <el-alert type="warning" :closable="false" show-icon :title="t('secret.once')" style="margin-bottom:10px" data-test="secret-once" />
    <p v-if="note" class="muted">{{ note }}</p>
    <slot><pre class="mono" data-test="secret-text" data-raw style="white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:10px;border-radius:4px">{{ text }}</pre></slot>
    <template #footer>
      <el-button data-test="secret-copy" @click="copy">{{ t('secret.copy') }}</el-button>
      <el-button data-test="secret-download" @click="download">{{ t('secret.download') }}</el-button>
      <el-button type="primary" data-test="secret-close" @click="close">{{ t('secret.close') }}</el-button>
    </template>
  </el-dialog>`,
};

export const guardComponents = { GuardedButton, SecretDialog };

/** A Vue plugin registering the components app-wide (app.use(guardPlugin)). */
export const guardPlugin = { install(app) { for (const [n, c] of Object.entries(guardComponents)) app.component(n, c); } };
