// The forms pages' words, Simplified Chinese first, then English.
import { register } from "../../i18n.js";
import { fmtDateTime } from "../../format.js";

register({
  "nav.formsGroup": ["表单与数据模型", "Forms & data models"],
  "nav.formModels": ["数据模型", "Data models"],
  "fm.models": ["数据模型", "Data models"],
  "fm.modelsHint": ["每个数据模型是专题库 forms 中的一张真实数据表：设计表单、发布后即可录入，SQL 数据集、加工、质量规则和报表都能使用。",
    "Each data model is a real table in the topic database 'forms': design its form, publish it and enter records; SQL datasets, transforms, quality rules and reports can use it."],
  "fm.new": ["新建模型", "New model"],
  "fm.code": ["代码", "Code"],
  "fm.codeHint": ["小写字母、数字、下划线，以字母开头", "lower-case letters, digits, _, starting with a letter"],
  "fm.title": ["名称", "Title"],
  "fm.table": ["数据表", "Table"],
  "fm.version": ["已发布版本", "Published version"],
  "fm.unpublished": ["未发布", "Not published"],
  "fm.design": ["设计表单", "Design"],
  "fm.records": ["记录", "Records"],
  "fm.none": ["还没有数据模型：点击“新建模型”开始设计表单。", "No data models yet: click 'New model' to design a form."],
  "fm.needCodeTitle": ["请填写代码和名称", "Give a code and a title"],
  "fm.palette": ["组件", "Components"],
  "fm.paletteHint": ["把组件拖到右侧画布的分组中", "Drag a component onto a section of the canvas"],
  "fm.canvas": ["画布", "Canvas"],
  "fm.props": ["属性", "Properties"],
  "fm.pickField": ["在画布上点选一个字段以设置属性", "Click a field on the canvas to set its properties"],
  "fm.columns": ["每行列数", "Columns per row"],
  "fm.tabs": ["分组显示为标签页", "Sections as tabs"],
  "fm.addSection": ["添加分组", "Add section"],
  "fm.sectionTitle": ["分组名称", "Section title"],
  "fm.dropHere": ["把组件拖到这里", "Drop components here"],
  "fm.save": ["保存草稿", "Save draft"],
  "fm.saved": ["草稿已保存", "Draft saved"],
  "fm.publish": ["发布", "Publish"],
  "fm.published": ["已发布为第 {n} 版", "Published as version {n}"],
  "fm.preview": ["预览", "Preview"],
  "fm.pc": ["电脑", "PC"],
  "fm.phone": ["手机", "Phone"],
  "fm.versions": ["版本", "Versions"],
  "fm.openapi": ["记录 API（OpenAPI）", "Records API (OpenAPI)"],
  "fm.diff": ["与已发布版本的差异", "Changes since the published version"],
  "fm.diffVersions": ["版本差异", "Changes between versions"],
  "fm.added": ["新增字段", "Added fields"],
  "fm.deleted": ["删除字段（数据保留，可在“清除旧数据”中清除）", "Deleted fields (data kept until purged)"],
  "fm.changed": ["修改的字段", "Changed fields"],
  "fm.layoutChanged": ["布局有变化", "The layout changed"],
  "fm.noChanges": ["没有变化", "No changes"],
  "fm.publishConfirm": ["确认发布", "Publish now"],
  "fm.label": ["标题", "Label"],
  "fm.name": ["字段名", "Field name"],
  "fm.type": ["类型", "Type"],
  "fm.placeholder": ["占位提示", "Placeholder"],
  "fm.help": ["帮助说明", "Help text"],
  "fm.required": ["必填", "Required"],
  "fm.unique": ["唯一", "Unique"],
  "fm.pii": ["个人信息（加密存储、遮蔽显示）", "Personal (sealed, masked)"],
  "fm.searchable": ["可搜索", "Searchable"],
  "fm.default": ["默认值", "Default"],
  "fm.regex": ["正则校验", "Pattern"],
  "fm.min": ["最小值", "Minimum"],
  "fm.max": ["最大值", "Maximum"],
  "fm.minLength": ["最短", "Min length"],
  "fm.maxLength": ["最长", "Max length"],
  "fm.options": ["选项（每行一个，可写 值=标题）", "Options (one a line, value=label)"],
  "fm.codeTable": ["代码表（目录资源代码.枚举信息项，保存时取其取值为选项）", "Code table (RESOURCE.ITEM of the catalog; its values become the options when saved)"],
  "fm.span": ["宽度（列）", "Width (columns)"],
  "fm.refModel": ["关联的模型", "Refers to model"],
  "fm.subFields": ["子表字段（每行：字段名=标题）", "Sub-table fields (one a line: name=label)"],
  "fm.visibleWhen": ["显示条件", "Show when"],
  "fm.requiredWhen": ["必填条件", "Required when"],
  "fm.condField": ["字段", "Field"],
  "fm.condOp": ["比较", "Comparison"],
  "fm.condValue": ["值", "Value"],
  "fm.always": ["（无条件）", "(always)"],
  "fm.op.eq": ["等于", "="],
  "fm.op.ne": ["不等于", "≠"],
  "fm.op.checked": ["已勾选", "is checked"],
  "fm.op.unchecked": ["未勾选", "is not checked"],
  "fm.op.in": ["属于", "in"],
  "fm.op.empty": ["为空", "is empty"],
  "fm.op.not_empty": ["不为空", "is not empty"],
  "fm.op.gt": [">", ">"],
  "fm.op.ge": ["≥", "≥"],
  "fm.op.lt": ["<", "<"],
  "fm.op.le": ["≤", "≤"],
  "fm.op.between": ["介于", "between"],
  "fm.op.contains": ["包含", "contains"],
  "fm.op.starts": ["开头是", "starts with"],
  "fm.remove": ["移除", "Remove"],
  "fm.changeType": ["更改类型", "Change type"],
  "fm.changeTypeHint": ["已发布字段的类型须先检查每条已有记录能否转换；不能转换的值会列出，修改后再更改。",
    "A published field's type changes only after every stored value is checked; values that do not convert are listed so you can fix them first."],
  "fm.newType": ["新类型", "New type"],
  "fm.check": ["检查", "Check"],
  "fm.checkResult": ["共 {total} 条记录，{ok} 条可以转换", "{total} records, {ok} convert"],
  "fm.badValues": ["不能转换的值", "Values that do not convert"],
  "fm.record": ["记录", "Record"],
  "fm.value": ["值", "Value"],
  "fm.problem": ["问题", "Problem"],
  "fm.apply": ["更改类型", "Change the type"],
  "fm.typeChanged": ["类型已更改（旧列保留，可清除）", "Type changed (the old column is kept until purged)"],
  "fm.purge": ["清除旧数据", "Purge old data"],
  "fm.purgeHint": ["已删除字段和改类型前的旧列仍保存着数据；清除后无法恢复。", "Deleted fields and columns from before a type change still hold data; purging cannot be undone."],
  "fm.purgeConfirm": ["确定清除列 {c} 的全部数据？此操作无法撤销。", "Purge all data of column {c}? This cannot be undone."],
  "fm.nothingToPurge": ["没有可清除的旧数据", "Nothing to purge"],
  "fm.access": ["权限（角色）", "Permissions (roles)"],
  "fm.acc.read": ["查看", "Read"],
  "fm.acc.enter": ["录入", "Enter"],
  "fm.acc.edit": ["修改", "Edit"],
  "fm.acc.export": ["导出", "Export"],
  "fm.newRecord": ["新增记录", "New record"],
  "fm.editRecord": ["修改记录", "Edit record"],
  "fm.submit": ["提交", "Submit"],
  "fm.created": ["记录已保存", "Record saved"],
  "fm.quickSearch": ["搜索可搜索字段", "Search the searchable fields"],
  "fm.accessHint": ["哪些角色可以查看、录入、修改、导出这个模型的记录（设计人员总是可以）；保存草稿后生效。", "Which roles may read, enter, edit and export this model's records (designers always may); takes effect when the draft is saved."],
  "fm.unmask": ["显示完整信息", "Show in full"],
  "fm.remask": ["重新遮蔽", "Mask again"],
  "fm.purposeAsk": ["请说明查看完整个人信息的用途（将记入审计日志）", "Say why you need personal values in full (recorded in the audit log)"],
  "fm.purposeShort": ["用途至少 4 个字", "Give a purpose of at least 4 characters"],
  "fm.unmaskedHint": ["正在显示完整个人信息，用途：{purpose}", "Showing personal values in full, purpose: {purpose}"],
  "fm.role.data_admin": ["数据管理员", "Data admin"],
  "fm.role.case_handler": ["案件承办人", "Case handler"],
  "fm.role.report_viewer": ["报表查看", "Report viewer"],
  "fm.role.unit_operator": ["数源单位操作员", "Unit operator"],
  "fm.role.sys_admin": ["系统管理员", "System admin"],
  "fm.role.security_admin": ["安全管理员", "Security admin"],
  "fm.role.auditor": ["审计员", "Auditor"],
  "fm.filters": ["筛选", "Filters"],
  "fm.addFilter": ["添加条件", "Add condition"],
  "fm.search": ["查询", "Search"],
  "fm.sort": ["排序", "Sort"],
  "fm.asc": ["升序", "ascending"],
  "fm.desc": ["降序", "descending"],
  "fm.columnsShown": ["显示的列", "Columns"],
  "fm.trash": ["回收站", "Deleted records"],
  "fm.delete": ["删除", "Delete"],
  "fm.restore": ["恢复", "Restore"],
  "fm.history": ["历史", "History"],
  "fm.historyTitle": ["修改历史", "History"],
  "fm.act.create": ["创建", "created"],
  "fm.act.update": ["修改", "changed"],
  "fm.act.delete": ["删除", "deleted"],
  "fm.act.restore": ["恢复", "restored"],
  "fm.act.import": ["导入", "imported"],
  "fm.template": ["下载导入模板", "Download template"],
  "fm.import": ["导入 Excel", "Import Excel"],
  "fm.imported": ["已导入 {n} 条记录", "{n} records imported"],
  "fm.importErrors": ["导入被拒绝，没有写入任何记录：请按行号修改", "Import refused, nothing written: fix these lines"],
  "fm.line": ["行号", "Line"],
  "fm.export": ["导出 Excel", "Export Excel"],
  "fm.noRecords": ["没有符合条件的记录", "No records match"],
  "fm.notPublished": ["模型还没有发布：请先在设计器中发布。", "The model is not published yet: publish it in the designer first."],
  "fm.maskedHint": ["个人信息已遮蔽，查看会记入审计日志。", "Personal values are masked; reads are audited."],
  "fm.createdBy": ["创建人", "Created by"],
  "fm.createdAt": ["创建时间", "Created at"],
  "fm.pick": ["请选择", "Pick one"],
  "fm.addRow": ["添加一行", "Add a row"],
  "fm.nRows": ["{n} 行", "{n} rows"],
  "fm.fixErrors": ["请按提示修改后再提交", "Fix what is marked, then submit"],
  "fm.yes": ["是", "Yes"],
  "fm.no": ["否", "No"],
  "fm.back": ["返回", "Back"],
  "fm.draftChanged": ["草稿有未发布的修改", "The draft has unpublished changes"],
});

export const TYPE_ICONS = {
  text: "EditPen", long_text: "Document", integer: "Sort", decimal: "Histogram", money: "Money", date: "Calendar",
  datetime: "Clock", year_month: "Calendar", boolean: "Switch", select: "CircleCheck", multiselect: "Finished",
  resident_id: "Postcard", uscc: "OfficeBuilding", phone: "Phone", email: "Message", attachment: "Paperclip",
  reference: "Link", subtable: "Grid",
};

export const OPS = ["eq", "ne", "gt", "ge", "lt", "le", "between", "contains", "starts", "in", "empty", "not_empty"];
export const COND_OPS = ["eq", "ne", "checked", "unchecked", "in", "empty", "not_empty"];

export function condHolds(cond, values) {
  if (!cond || !cond.field) return false;
  const v = values[cond.field];
  const want = cond.value;
  const same = (a, b) => Array.isArray(a) ? a.map(String).includes(String(b)) : String(a ?? "").toLowerCase() === String(b ?? "").toLowerCase();
  switch (cond.op) {
    case "eq": return same(v, want);
    case "ne": return !same(v, want);
    case "checked": return v === true;
    case "unchecked": return v !== true;
    case "in": return (Array.isArray(want) ? want : String(want || "").split(/[,，]/)).some((w) => same(v, w.trim ? w.trim() : w));
    case "empty": return v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length);
    case "not_empty": return !(v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length));
    default: return false;
  }
}

export const isVisible = (f, values) => !f.visible_when || condHolds(f.visible_when, values);
export const isRequired = (f, values) => isVisible(f, values) && (!!f.required || condHolds(f.required_when, values));

export function fmt(ts) { return fmtDateTime(ts); }

if (!document.getElementById("forms-style")) {
  const style = document.createElement("style");
  style.id = "forms-style";
  style.textContent = `.fm-designer{display:flex;gap:12px;align-items:flex-start}
.fm-palette{width:170px;flex:none}
.fm-palette-item{border:1px dashed #c0c4cc;border-radius:4px;padding:5px 8px;margin-bottom:6px;cursor:grab;background:#fff;font-size:13px}
.fm-canvas{flex:1;min-width:0}
.fm-props{width:300px;flex:none}
.fm-section{border:1px solid #e4e7ed;border-radius:6px;padding:8px;margin-bottom:10px;background:#fafafa}
.fm-grid{display:grid;gap:8px 12px;min-height:48px}
.fm-cell{min-width:0}
.fm-design-cell{border:1px solid #dcdfe6;border-radius:4px;padding:6px 8px;background:#fff;cursor:pointer;font-size:13px}
.fm-design-cell.selected{border-color:#409eff;box-shadow:0 0 0 1px #409eff}
.fm-drop{border:2px dashed #a0cfff;border-radius:4px;padding:10px;color:#909399;text-align:center;font-size:12px}
.fm-phone{width:375px;margin:0 auto;border:8px solid #303133;border-radius:18px;padding:10px;background:#fff}
.fm-phone .fm-grid{grid-template-columns:1fr !important}
.fm-phone .fm-cell{grid-column:auto !important}
@media (max-width:640px){.fm-grid{grid-template-columns:1fr !important}.fm-cell{grid-column:auto !important}
.fm-designer{flex-direction:column}.fm-palette,.fm-props{width:100%}}
.fm-old{color:#c45656;text-decoration:line-through;margin-right:4px}.fm-new{color:#2f7d32;font-weight:600}`;
  document.head.appendChild(style);
}
