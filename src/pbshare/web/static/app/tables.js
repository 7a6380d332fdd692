// List tables, written once: <list-table :data="rows" name="连接" data-test="conn-table"> … el-table-columns … </list-table>
// gives every list a search box, sorting by any column marked sortable="custom" (prop, or sort-by for template
// columns), pages, an Excel export of what the search shows (POST /exports/xlsx, audited), and on a phone a hint
// that the table scrolls sideways with its last column (the row actions) kept in view.
// A server-paged list passes :remote="true" :total="n" and listens to @query ({ q, page, size, sort, order });
// its export is :export-url="(query) => url".
// Pages list it in `components: { ...tableComponents }`.
import { ref, computed, watch, onMounted, onBeforeUnmount, nextTick } from "vue";
import { ElMessage } from "element-plus";
import { t, lang, register } from "./i18n.js";
import { session } from "./session.js";

register({
  "table.search": ["搜索列表", "Search the list"],
  "table.export": ["导出 Excel", "Export to Excel"],
  "table.exported": ["已导出 {n} 行", "Exported {n} rows"],
  "table.exportFailed": ["导出失败：{m}。请缩小搜索范围后重试", "The export failed: {m}. Narrow the search and try again"],
  "table.scroll": ["表格较宽：左右滑动查看更多列，操作列固定在右侧", "The table is wide: swipe sideways for more columns; the actions stay on the right"],
  "table.count": ["共 {n} 条", "{n} in all"],
});

// one style sheet for every list table (the actions column sticks to the right while the row scrolls)
if (!document.getElementById("list-table-style")) {
  const style = document.createElement("style");
  style.id = "list-table-style";
  style.textContent = `
.list-table .list-scroll-hint { font-size: 12px; color: #909399; margin: 0 0 4px; }
.list-table.sticky-actions .el-table__body-wrapper td:last-child,
.list-table.sticky-actions .el-table__header-wrapper th:last-child { position: sticky; right: 0; z-index: 3; background: var(--el-bg-color, #fff); box-shadow: -4px 0 6px -4px rgba(0,0,0,.18); }
.list-table.sticky-actions .el-table--striped .el-table__body tr.el-table__row--striped td:last-child { background: var(--el-fill-color-lighter, #fafafa); }
.list-table .list-pager { margin-top: 8px; display: flex; justify-content: flex-end; }
.guard-disabled { display: inline-block; cursor: not-allowed; }
`;
  document.head.appendChild(style);
}

function valueAt(row, path) {
  if (typeof path === "function") return path(row);
  return String(path).split(".").reduce((o, k) => (o == null ? o : o[k]), row);
}

function compare(a, b) {
  if (a == null && b == null) return 0;
  if (a == null || a === "") return 1;
  if (b == null || b === "") return -1;
  const na = Number(a); const nb = Number(b);
  if (typeof a !== "boolean" && !Number.isNaN(na) && !Number.isNaN(nb) && String(a).trim() !== "" && String(b).trim() !== "") return na - nb;
  return String(a).localeCompare(String(b), "zh-Hans-CN");
}

function flatText(row) {
  const out = [];
  const walk = (v, depth) => {
    if (v == null || depth > 2) return;
    if (typeof v === "object") { for (const x of Object.values(v)) walk(x, depth + 1); } else out.push(String(v));
  };
  walk(row, 0);
  return out.join(" ").toLowerCase();
}

/** Save rows as .xlsx through the server (identifiers masked, export audited); columns [{ key, title }]. */
export async function exportRows(name, columns, rows) {
  const headers = { "Content-Type": "application/json" };
  if (session.csrf) headers["X-CSRF-Token"] = session.csrf;
  const plain = rows.map((r) => Object.fromEntries(columns.map((c) => [c.key, cellValue(valueAt(r, c.path || c.key))])));
  const res = await fetch("/api/v1/exports/xlsx", { method: "POST", headers, credentials: "same-origin",
    body: JSON.stringify({ name, columns: columns.map(({ key, title }) => ({ key, title })), rows: plain }) });
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    ElMessage.error(t("table.exportFailed", { m: body?.error?.message || res.status }));
    return false;
  }
  download(await res.blob(), `${name}.xlsx`);
  ElMessage.success(t("table.exported", { n: rows.length }));
  return true;
}

function cellValue(v) {
  if (v == null) return null;
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? JSON.stringify(x) : x)).join("、");
  if (typeof v === "object") return JSON.stringify(v);
  return v;
}

export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url; a.download = filename; document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const ListTable = {
  name: "ListTable",
  inheritAttrs: false,
  props: {
    data: { type: Array, default: () => [] },
    name: { type: String, default: "" }, // the export's file name (the list's title)
    pageSize: { type: Number, default: 20 },
    searchable: { type: Boolean, default: true },
    exportable: { type: Boolean, default: true },
    stickyActions: { type: Boolean, default: true }, // the last column is the row actions: keep it in view
    remote: { type: Boolean, default: false },
    total: { type: Number, default: 0 },
    exportUrl: { type: Function, default: null },
    exportColumns: { type: Array, default: null }, // [{ key, title, path? }] when the columns' props are not enough
  },
  emits: ["query"],
  setup(props, { emit }) {
    const q = ref("");
    const page = ref(1);
    const size = ref(props.pageSize);
    const sort = ref({ prop: null, order: null, by: null });
    const table = ref(null);
    const box = ref(null);
    const overflow = ref(false);
    const narrow = ref(window.innerWidth < 768);

    const filtered = computed(() => {
      if (props.remote) return props.data;
      const s = q.value.trim().toLowerCase();
      let rows = s ? props.data.filter((r) => flatText(r).includes(s)) : [...props.data];
      if (sort.value.order && (sort.value.by || sort.value.prop)) {
        const key = sort.value.by || sort.value.prop;
        const dir = sort.value.order === "descending" ? -1 : 1;
        rows = rows.sort((a, b) => dir * compare(valueAt(a, key), valueAt(b, key)));
      }
      return rows;
    });
    const shown = computed(() => (props.remote ? props.data : filtered.value.slice((page.value - 1) * size.value, page.value * size.value)));
    const count = computed(() => (props.remote ? props.total : filtered.value.length));
    const query = () => ({ q: q.value.trim(), page: page.value, size: size.value, sort: sort.value.prop,
      order: sort.value.order === "descending" ? "desc" : sort.value.order ? "asc" : null });
    function emitQuery() { if (props.remote) emit("query", query()); }
    let timer = null;
    watch(q, () => { page.value = 1; clearTimeout(timer); timer = setTimeout(emitQuery, 300); });
    watch(() => props.data.length, () => { if (!props.remote && (page.value - 1) * size.value >= filtered.value.length) page.value = 1; });
    function onSort({ column, prop, order }) {
      const by = column?.sortBy && typeof column.sortBy === "string" ? column.sortBy : null;
      sort.value = { prop: by || prop, order, by };
      page.value = 1; emitQuery();
    }
    function onPage(p) { page.value = p; emitQuery(); }
    function onSize(s) { size.value = s; page.value = 1; emitQuery(); }

    function columns() {
      if (props.exportColumns) return props.exportColumns;
      const cols = table.value?.store?.states?.columns?.value || [];
      return cols.filter((c) => c.property || (typeof c.sortBy === "string" && c.sortBy))
        .map((c) => ({ key: c.property || c.sortBy, title: c.label || c.property }));
    }
    const exporting = ref(false);
    async function doExport() {
      const name = props.name || document.title || "list";
      if (props.exportUrl) { window.location.href = props.exportUrl(query()); return; }
      exporting.value = true;
      try { await exportRows(name, columns(), filtered.value); } finally { exporting.value = false; }
    }

    function measure() {
      narrow.value = window.innerWidth < 768;
      const wrap = box.value?.querySelector(".el-table__body-wrapper .el-scrollbar__wrap") || box.value?.querySelector(".el-table__body-wrapper");
      const body = box.value?.querySelector(".el-table__body");
      overflow.value = !!(wrap && body && body.scrollWidth > wrap.clientWidth + 2);
    }
    let ro = null;
    onMounted(() => {
      window.addEventListener("resize", measure);
      if (window.ResizeObserver && box.value) { ro = new ResizeObserver(measure); ro.observe(box.value); }
      nextTick(measure);
    });
    onBeforeUnmount(() => { window.removeEventListener("resize", measure); ro && ro.disconnect(); clearTimeout(timer); });
    watch(shown, () => nextTick(measure));
    const layout = computed(() => (narrow.value ? "prev, pager, next" : "total, sizes, prev, pager, next"));
    return { t, lang, q, page, size, shown, count, table, box, overflow, narrow, layout, exporting, onSort, onPage, onSize, doExport };
  },
  template: `
  <div ref="box" :class="['list-table', { 'sticky-actions': stickyActions }]">
    <div v-if="searchable || exportable || $slots.tools" class="toolbar">
      <el-input v-if="searchable" v-model="q" clearable :placeholder="t('table.search')" data-test="list-search" style="width:220px" />
      <slot name="tools" />
      <el-button v-if="exportable" :loading="exporting" :disabled="!count" data-test="list-export" @click="doExport">{{ t('table.export') }}</el-button>
      <span class="muted" data-test="list-count">{{ t('table.count', { n: count }) }}</span>
    </div>
    <p v-if="overflow" class="list-scroll-hint" data-test="list-scroll-hint">⇆ {{ t('table.scroll') }}</p>
    <el-table ref="table" v-bind="$attrs" :data="shown" @sort-change="onSort" :empty-text="$attrs['empty-text'] || t('common.empty')">
      <slot />
    </el-table>
    <div v-if="count > size" class="list-pager">
      <el-pagination :small="narrow" background :layout="layout" :total="count" :current-page="page" :page-size="size"
        :page-sizes="[20, 50, 100]" @current-change="onPage" @size-change="onSize" data-test="list-pager" />
    </div>
  </div>`,
};

export const tableComponents = { ListTable };
export const tablePlugin = { install(app) { app.component("ListTable", ListTable); } };
