// Errors shown at the form field they are about, under the field's own label, scrolled into view.
//
//   const fe = useFieldErrors();                       // in setup(); <el-form :ref="fe.form"> in the template
//   await api("/things", { method: "POST", body, fields: fe });   // a field's error lands on its el-form-item
//
// The server names a field three ways: FastAPI's 422 detail [{loc: ["body", "save_as", "name"], msg}], our
// envelope's detail {field: "due_on"} (with the error's message) or [{field, reason}]. A path is matched to an
// el-form-item by its prop: "save_as.name", then "save_as.name" without list indices ("items.11.values" →
// "items[11].values" / "items.11.values"), then the last name ("name"); ``map`` renames a server path to a prop:
// useFieldErrors({ map: { "save_as.name": "saveName" } }). What matches no field is left to a toast.
import { ref } from "vue";

const WHERE = new Set(["body", "query", "path", "header", "cookie"]);

/** [{path: "save_as.name", message}] from an ApiError's detail (empty when it names no field). */
export function fieldProblems(err) {
  const detail = err?.detail;
  const out = [];
  const add = (path, message, label) => {
    if (path === undefined || path === null || path === "") return;
    out.push({ path: String(path), message: message || err.message, label });
  };
  if (Array.isArray(detail)) {
    for (const d of detail) {
      if (!d || typeof d !== "object") continue;
      if (Array.isArray(d.loc)) {
        const loc = d.loc.filter((p, i) => !(i === 0 && WHERE.has(p)));
        const path = loc.map(String).join(".");
        add(path, d.msg, d.label);
      } else if (d.field !== undefined) add(d.field, d.reason || d.message || d.msg, d.label);
    }
  } else if (detail && typeof detail === "object" && typeof detail.field === "string") {
    add(detail.field, err.message);
  }
  return out;
}

function candidates(path, map) {
  const out = [];
  if (map[path]) out.push(map[path]);
  out.push(path);
  const parts = path.split(".");
  out.push(parts.map((p, i) => (/^\d+$/.test(p) && i > 0 ? `[${p}]` : (i ? "." : "") + p)).join("").replace(/\.\[/g, "["));
  const named = parts.filter((p) => !/^\d+$/.test(p));
  out.push(named.join("."));
  for (let i = 1; i < named.length; i++) out.push(named.slice(i).join("."));
  return [...new Set(out)];
}

function propOf(field) {
  const p = field.prop;
  return Array.isArray(p) ? p.join(".") : p;
}

export function useFieldErrors({ map = {} } = {}) {
  const form = ref(null);
  const shown = [];

  function clear() {
    while (shown.length) {
      const f = shown.pop();
      f.validateState = "";
      f.validateMessage = "";
    }
  }

  /** Put each field problem of ``err`` on its form item; true when at least one landed there. Problems that match
   *  no field stay in ``err.unplaced`` for the caller (api.js toasts them). */
  function show(err) {
    clear();
    const f = form.value;
    const fields = f?.fields || [];
    const unplaced = [];
    let first = null;
    for (const p of fieldProblems(err)) {
      const names = candidates(p.path, map);
      const field = names.map((n) => fields.find((x) => propOf(x) === n)).find(Boolean);
      if (!field) { unplaced.push(p); continue; }
      field.validateState = "error";
      field.validateMessage = p.message;
      shown.push(field);
      if (!first) first = field;
    }
    err.unplaced = unplaced;
    if (first) {
      const el = first.$el?.value || first.$el;
      if (el?.scrollIntoView) el.scrollIntoView({ behavior: "smooth", block: "center" });
      else f.scrollToField?.(propOf(first));
    }
    return !!first;
  }

  return { form, show, clear };
}
