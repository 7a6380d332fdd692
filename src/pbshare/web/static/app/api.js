// One fetch wrapper: JSON in and out, the CSRF header on writes, errors shown in the user's language.
// An error keeps the server's code and detail. With ``fields`` (useFieldErrors() from fielderrors.js) an error about
// a form field is shown at that field, under its label, and scrolled into view; a toast only carries what belongs
// to no field.
import { ElMessage } from "element-plus";
import { t } from "./i18n.js";
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.detail = body?.error?.detail;
  }
}

export async function api(path, { method = "GET", body, form, quiet = false, raw = false, fields = null } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    if (!quiet) ElMessage.error(t("common.network"));
    throw e;
  }
  if (raw && res.ok) return res;
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.ok && fields) fields.clear();
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !path.startsWith("/auth/login")) {
      session.user = null;
      window.location.hash = "#/login";
    } else if (err.code === "password_change_required") {
      window.location.hash = "#/password";
    }
    if (fields && fields.show(err) && !err.unplaced.length) throw err;
    if (!quiet) {
      const rest = err.unplaced?.length ? err.unplaced.map((p) => (p.label ? `${p.label}：${p.message}` : p.message)).join("；") : err.message;
      ElMessage.error({ message: rest, duration: 6000, showClose: true, grouping: true });
    }
    throw err;
  }
  return data;
}
