// Words shared by the reports pages (query, report builder, dashboards) and small helpers.
import { register, t } from "../../i18n.js";
import { api, ApiError } from "../../api.js";
import { ElMessage } from "element-plus";

register({
  "nav.reportsGroup": ["报表分析", "Reports"],
  "nav.reportQuery": ["灵活查询", "Query"],
  "nav.reportBuilder": ["报表设计", "Report builder"],
  "nav.dashboards": ["仪表板", "Dashboards"],
  "rp.source": ["数据源", "Source"],
  "rp.pickSource": ["选择表、数据集、上传文件或接口", "Pick a table, dataset, uploaded file or API"],
  "rp.kind.table": ["专题库表", "Warehouse table"],
  "rp.kind.dataset": ["SQL 数据集", "SQL dataset"],
  "rp.kind.upload": ["上传的 Excel/CSV", "Uploaded Excel/CSV"],
  "rp.kind.rest": ["REST 接口（JSON）", "REST API (JSON)"],
  "rp.upload": ["上传 Excel/CSV", "Upload Excel/CSV"],
  "rp.restUrl": ["接口地址，例如 https://…/stats", "API address, e.g. https://…/stats"],
  "rp.restPath": ["记录列表在 JSON 中的路径（可空），例如 data.items", "Path to the list in the JSON (optional), e.g. data.items"],
  "rp.useRest": ["使用接口", "Use this API"],
  "rp.fields": ["字段（拖到右侧）", "Fields (drag to the right)"],
  "rp.rows": ["行", "Rows"],
  "rp.columns": ["列", "Columns"],
  "rp.values": ["值", "Values"],
  "rp.filters": ["筛选", "Filters"],
  "rp.dropHere": ["把字段拖到这里", "Drag fields here"],
  "rp.pii": ["个人标识，显示为遮蔽值", "personal identifier, shown masked"],
  "rp.run": ["查询", "Run"],
  "rp.match": ["满足", "Match"],
  "rp.all": ["全部条件（AND）", "all conditions (AND)"],
  "rp.any": ["任一条件（OR）", "any condition (OR)"],
  "rp.op.eq": ["等于", "="], "rp.op.ne": ["不等于", "≠"], "rp.op.gt": ["大于", ">"], "rp.op.ge": ["大于等于", "≥"],
  "rp.op.lt": ["小于", "<"], "rp.op.le": ["小于等于", "≤"], "rp.op.between": ["介于", "between"],
  "rp.op.contains": ["包含", "contains"], "rp.op.starts_with": ["开头是", "starts with"], "rp.op.in": ["属于（逗号分隔）", "in (comma-separated)"],
  "rp.op.is_empty": ["为空", "is empty"], "rp.op.not_empty": ["不为空", "is not empty"],
  "rp.fn.count": ["计数", "Count"], "rp.fn.count_distinct": ["去重计数", "Distinct count"], "rp.fn.sum": ["求和", "Sum"],
  "rp.fn.avg": ["平均", "Average"], "rp.fn.min": ["最小", "Min"], "rp.fn.max": ["最大", "Max"],
  "rp.bucket": ["日期分组", "Date grouping"], "rp.bucket.none": ["按原值", "as is"], "rp.bucket.day": ["按日", "by day"],
  "rp.bucket.month": ["按月", "by month"], "rp.bucket.year": ["按年", "by year"],
  "rp.low": ["起", "from"], "rp.high": ["止", "to"], "rp.value": ["值", "value"],
  "rp.total": ["合计", "Total"], "rp.rowsCount": ["共 {n} 行", "{n} rows"], "rp.groupsCount": ["共 {n} 组", "{n} groups"],
  "rp.excel": ["导出 Excel", "Export Excel"], "rp.csv": ["导出 CSV", "Export CSV"], "rp.pdf": ["导出 PDF", "Export PDF"],
  "rp.saveAsReport": ["保存为报表", "Save as a report"],
  "rp.noSource": ["请先选择数据源", "Pick a source first"],
  "rp.empty": ["没有数据：放宽筛选条件再试", "No rows: loosen the filters and try again"],
  "rp.title": ["标题", "Title"], "rp.description": ["说明", "Description"],
  "rp.chart": ["图表类型", "Chart"],
  "rp.chart.table": ["表格", "Table"], "rp.chart.pivot": ["透视表", "Pivot"], "rp.chart.bar": ["柱状图", "Bar"],
  "rp.chart.line": ["折线图", "Line"], "rp.chart.pie": ["饼图", "Pie"], "rp.chart.kpi": ["指标卡", "KPI card"],
  "rp.chart.map": ["深圳各区地图", "Shenzhen districts map"],
  "rp.share": ["分享给角色", "Share with roles"],
  "rp.globals": ["全局筛选对应的字段", "Columns for the dashboard's global filters"],
  "rp.g.date": ["日期", "Date"], "rp.g.unit": ["单位", "Unit"], "rp.g.district": ["区", "District"],
  "rp.save": ["保存", "Save"], "rp.saved": ["已保存", "Saved"], "rp.delete": ["删除", "Delete"], "rp.edit": ["编辑", "Edit"],
  "rp.preview": ["预览", "Preview"], "rp.drill": ["明细（点击图表下钻）", "Rows behind the point (click the chart to drill)"],
  "rp.myReports": ["报表", "Reports"], "rp.newReport": ["新建报表", "New report"], "rp.open": ["打开", "Open"],
  "rp.needTitle": ["请填写标题", "Give a title"],
  "rp.needValue": ["请至少拖一个字段到“值”或“行”", "Drag at least one field to Values or Rows"],
  "rp.dashboards": ["仪表板", "Dashboards"], "rp.newDashboard": ["新建仪表板", "New dashboard"],
  "rp.builtin": ["内置仪表板", "Built-in dashboards"],
  "rp.addTile": ["添加报表", "Add a report"], "rp.editLayout": ["编辑布局", "Edit layout"], "rp.doneLayout": ["完成", "Done"],
  "rp.layoutHint": ["拖动标题栏移动图块，拖动右下角调整大小", "Drag a tile's title bar to move it, its corner to resize it"],
  "rp.dateRange": ["日期范围", "Date range"], "rp.unit": ["单位", "Unit"], "rp.district": ["区", "District"],
  "rp.apply": ["应用", "Apply"], "rp.refresh": ["自动刷新", "Auto-refresh"], "rp.refreshOff": ["不刷新", "off"],
  "rp.seconds": ["{n} 秒", "{n} s"], "rp.shareLink": ["分享链接", "Share link"],
  "rp.linkCopied": ["链接已复制，发给有权限的同事即可打开", "Link copied: colleagues with access can open it"],
  "rp.noDashboards": ["还没有仪表板", "No dashboards yet"], "rp.noReports": ["还没有报表：先在“报表设计”中保存一个", "No reports yet: save one in the report builder first"],
  "rp.tileError": ["此图块无法显示：{e}", "This tile cannot be shown: {e}"],
  "rp.viewAll": ["查看内置仪表板", "Open the built-in dashboards"],
  "rp.filtersShown": ["显示的全局筛选", "Global filters shown"],
  "rp.updated": ["更新于 {t}", "Updated {t}"],
});

export const CHARTS = ["table", "pivot", "bar", "line", "pie", "kpi", "map"];
export const OPS = ["eq", "ne", "gt", "ge", "lt", "le", "between", "contains", "starts_with", "in", "is_empty", "not_empty"];
export const FNS = ["count", "count_distinct", "sum", "avg", "min", "max"];
export const NUMERIC = new Set(["integer", "bigint", "decimal", "float"]);
export const DISTRICTS = ["福田区", "罗湖区", "南山区", "盐田区", "宝安区", "龙岗区", "龙华区", "坪山区", "光明区", "大鹏新区"];
export const ROLES = ["report_viewer", "case_handler", "data_admin", "sys_admin"];

// A POST that answers a file: saved under the name the server gives.
export async function download(path, body, fallbackName) {
  const res = await api(path, { method: "POST", body, raw: true });
  const blob = await res.blob();
  const cd = res.headers.get("Content-Disposition") || "";
  const name = (cd.match(/filename="([^"]+)"/) || [])[1] || fallbackName;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

export function showError(e) {
  if (!(e instanceof ApiError)) ElMessage.error(t("common.network"));
}

// The stylesheet of the reports pages, loaded once.
if (!document.getElementById("reports-css")) {
  const link = document.createElement("link");
  link.id = "reports-css";
  link.rel = "stylesheet";
  link.href = new URL("./reports.css", import.meta.url).href;
  document.head.appendChild(link);
}
