// One way to show times, dates, numbers and money, in the office's time zone (Asia/Shanghai) and one format per
// language. Every page formats through these; none calls toLocaleString or cuts ISO strings itself.
//   zh-CN: 2026-12-01 22:11      en: 1 Dec 2026, 22:11
// A time the server sends without an offset is UTC (SQLite keeps times naive); a bare date (2026-12-01) is a day,
// never shifted. Empty values show as "—".
import { lang } from "./i18n.js";

export const TIME_ZONE = "Asia/Shanghai";
export const EMPTY = "—";
const NAIVE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const en = () => lang.value === "en";

/** A Date from an ISO string (naive = UTC), a number (ms) or a Date; null when there is none. */
export function toDate(v) {
  if (v === null || v === undefined || v === "") return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v === "string" && NAIVE.test(v)) v = v.replace(" ", "T") + "Z";
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

const cache = new Map();
function parts(d, withTime, withSeconds) {
  const key = `${en()}|${withTime}|${withSeconds}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(en() ? "en-GB" : "zh-CN", {
      timeZone: TIME_ZONE, year: "numeric", month: en() ? "short" : "2-digit", day: en() ? "numeric" : "2-digit",
      ...(withTime ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" } : {}),
      ...(withSeconds ? { second: "2-digit" } : {}),
    });
    cache.set(key, f);
  }
  return Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value]));
}

function render(p, withTime, withSeconds) {
  const day = en() ? `${p.day} ${p.month} ${p.year}` : `${p.year}-${p.month}-${p.day}`;
  if (!withTime) return day;
  const time = `${p.hour}:${p.minute}${withSeconds ? ":" + p.second : ""}`;
  return en() ? `${day}, ${time}` : `${day} ${time}`;
}

/** A moment: date and time in Asia/Shanghai. ``{ seconds: true }`` adds seconds. */
export function fmtDateTime(v, { seconds = false } = {}) {
  const d = toDate(v);
  return d ? render(parts(d, true, seconds), true, seconds) : EMPTY;
}

/** A day. A bare "YYYY-MM-DD" is shown as that day; a moment as its day in Asia/Shanghai. */
export function fmtDate(v) {
  if (typeof v === "string" && DAY.test(v)) {
    if (!en()) return v;
    const [y, m, dd] = v.split("-").map(Number);
    return render(parts(new Date(Date.UTC(y, m - 1, dd, 4)), false, false), false, false);
  }
  const d = toDate(v);
  return d ? render(parts(d, false, false), false, false) : EMPTY;
}

/** The time of day (HH:mm) in Asia/Shanghai. */
export function fmtTime(v) {
  const d = toDate(v);
  if (!d) return EMPTY;
  const p = parts(d, true, false);
  return `${p.hour}:${p.minute}`;
}

/** Today's date in Asia/Shanghai as YYYY-MM-DD (for date inputs). */
export function todayIso() {
  const p = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(new Date()).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

function num(v) {
  if (v === null || v === undefined || v === "") return null;
  const n = typeof v === "number" ? v : Number(String(v).replaceAll(",", ""));
  return Number.isFinite(n) ? n : null;
}

/** A number with grouping: 15125.0000000000 → 15,125; at most ``digits`` decimals (default 2), trailing zeros dropped. */
export function fmtNumber(v, { digits = 2 } = {}) {
  const n = num(v);
  if (n === null) return v === null || v === undefined || v === "" ? EMPTY : String(v);
  return new Intl.NumberFormat(en() ? "en-US" : "zh-CN", { maximumFractionDigits: digits }).format(n);
}

/** Money: always two decimals, grouped: 15125.0000000000 → 15,125.00. */
export function fmtMoney(v) {
  const n = num(v);
  if (n === null) return v === null || v === undefined || v === "" ? EMPTY : String(v);
  return new Intl.NumberFormat(en() ? "en-US" : "zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n);
}

/** A share 0..1 as a percentage: 0.9512 → 95.12%. */
export function fmtPercent(v, { digits = 2 } = {}) {
  const n = num(v);
  return n === null ? EMPTY : `${fmtNumber(100 * n, { digits })}%`;
}

/** Seconds as a short duration: 0.4 s, 12.3 s, 3 min 5 s, 2 h 10 min (分/秒/小时 in Chinese). */
export function fmtDuration(seconds) {
  const s = num(seconds);
  if (s === null) return EMPTY;
  const u = en() ? { s: " s", m: " min", h: " h" } : { s: " 秒", m: " 分", h: " 小时" };
  if (s < 60) return `${fmtNumber(s, { digits: 1 })}${u.s}`;
  if (s < 3600) return `${Math.floor(s / 60)}${u.m} ${Math.round(s % 60)}${u.s}`;
  return `${Math.floor(s / 3600)}${u.h} ${Math.round((s % 3600) / 60)}${u.m}`;
}

/** A value of a typed field (catalog/forms field types): money and numbers grouped, times in Asia/Shanghai. */
export function fmtValue(v, type) {
  if (v === null || v === undefined || v === "") return EMPTY;
  switch (type) {
    case "decimal": case "money": case "amount": return fmtMoney(v);
    case "integer": case "int": case "number": case "float": return fmtNumber(v);
    case "datetime": case "timestamp": return fmtDateTime(v);
    case "date": return fmtDate(v);
    case "boolean": case "bool": return v ? (en() ? "Yes" : "是") : (en() ? "No" : "否");
    default: return String(v);
  }
}
