// The compare pages' words, Simplified Chinese first, then English.
import { register } from "../../i18n.js";
import { fmtDateTime } from "../../format.js";

register({
  "nav.compareGroup": ["交付比对", "Delivery comparison"],
  "nav.comparisons": ["比对结果", "Comparisons"],
  "nav.recordHistory": ["历史与时点查询", "History & as-of"],
  "cmp.list": ["交付比对", "Delivery comparisons"],
  "cmp.listHint": ["每次带业务主键的交付（导入或接收）都与同一单位上一次交付比对；首次交付只建立历史。",
    "Every delivery with a business key (import or received) is compared with the unit's previous one; the first only starts the history."],
  "cmp.target": ["数据表", "Table"],
  "cmp.unit": ["数源单位", "Unit"],
  "cmp.delivery": ["交付", "Delivery"],
  "cmp.previous": ["上次交付", "Previous delivery"],
  "cmp.kind.import_run": ["导入", "Import"],
  "cmp.kind.delivery": ["接收交付", "Received"],
  "cmp.kind.job_run": ["流水线比对", "Pipeline step"],
  "cmp.mode": ["方式", "Mode"],
  "cmp.full": ["全量", "Full snapshot"],
  "cmp.incremental": ["增量", "Incremental"],
  "cmp.added": ["新增", "Added"],
  "cmp.removed": ["删除", "Removed"],
  "cmp.changed": ["变更", "Changed"],
  "cmp.unchanged": ["未变", "Unchanged"],
  "cmp.flags": ["可疑变化", "Suspicious"],
  "cmp.flag.id_change": ["证件号变化", "ID changed"],
  "cmp.flag.mass_change": ["大量变化", "Mass change"],
  "cmp.flag.flip": ["来回变化", "Flip-flop"],
  "cmp.when": ["比对时间", "Compared at"],
  "cmp.open": ["查看", "Open"],
  "cmp.none": ["还没有比对结果：同一张表第二次导入或接收带业务主键的数据后会出现在这里。",
    "No comparisons yet: they appear after the second import or delivery with a business key into the same table."],
  "cmp.filterTarget": ["按数据表筛选", "Filter by table"],
  "cmp.search": ["查询", "Search"],
  "cmp.title": ["交付比对", "Comparison"],
  "cmp.all": ["全部", "All"],
  "cmp.field": ["字段", "Field"],
  "cmp.anyField": ["任意字段", "Any field"],
  "cmp.kind": ["变化类型", "Change"],
  "cmp.key": ["业务主键", "Business key"],
  "cmp.changes": ["变化（旧 → 新）", "Changes (old → new)"],
  "cmp.values": ["记录", "Record"],
  "cmp.excel": ["下载 Excel", "Download Excel"],
  "cmp.excelFull": ["下载完整 Excel（需说明用途）", "Download in full (purpose needed)"],
  "cmp.unmask": ["显示完整信息", "Show in full"],
  "cmp.remask": ["重新遮蔽", "Mask again"],
  "cmp.purpose": ["请说明查看完整个人信息的用途（将记入审计日志）", "Say why you need personal values in full (recorded in the audit log)"],
  "cmp.purposeShort": ["用途至少 4 个字", "Give a purpose of at least 4 characters"],
  "cmp.maskedHint": ["个人信息已遮蔽；有权限的用户可说明用途后查看完整信息，查看会记入审计日志。",
    "Personal values are masked; a user with the right may show them in full after giving a purpose, which is audited."],
  "cmp.unmaskedHint": ["正在显示完整个人信息，用途：{purpose}", "Showing personal values in full, purpose: {purpose}"],
  "cmp.noRows": ["没有符合条件的记录", "No records match"],
  "cmp.fieldCounts": ["各字段变更数", "Changes per field"],
  "cmp.history": ["历史版本与时点查询", "Record history and as-of"],
  "cmp.historyHint": ["选择数据表和时间点查看当时的数据；填写业务主键可查看一条记录的全部版本及使其变化的交付。",
    "Pick a table and a moment to see the data as it was; give a business key to see one record's versions and the deliveries that changed it."],
  "cmp.at": ["时间点", "As of"],
  "cmp.keyValue": ["业务主键值", "Key value"],
  "cmp.asOf": ["查询当时状态", "Show state then"],
  "cmp.showHistory": ["查看记录历史", "Show record history"],
  "cmp.pickTarget": ["请先选择数据表", "Pick a table first"],
  "cmp.needKey": ["请填写业务主键的每个字段", "Fill in every business key column"],
  "cmp.noTargets": ["还没有任何交付历史：导入带业务主键的数据后再来查询。", "No delivery history yet: import data with a business key first."],
  "cmp.validFrom": ["生效时间", "Valid from"],
  "cmp.validTo": ["失效时间", "Valid to"],
  "cmp.current": ["当前", "current"],
  "cmp.madeBy": ["产生于交付", "Made by"],
  "cmp.endedBy": ["结束于交付", "Ended by"],
  "cmp.stateRows": ["{at} 时共有 {n} 条记录", "{n} records as of {at}"],
  "cmp.versions": ["共 {n} 个版本", "{n} versions"],
  "cmp.deliveries": ["次交付", "deliveries"],
});

export const KIND_TYPES = { added: "success", removed: "danger", changed: "warning" };

export function fmt(ts) { return fmtDateTime(ts); }

// Changed cells stand out in the comparison table.
if (!document.getElementById("compare-style")) {
  const style = document.createElement("style");
  style.id = "compare-style";
  style.textContent = `.cmp-old{color:#c45656;text-decoration:line-through;margin-right:4px}
.cmp-new{color:#2f7d32;font-weight:600}
.cmp-hit{background:#fff3bf;padding:1px 3px;border-radius:3px}`;
  document.head.appendChild(style);
}
