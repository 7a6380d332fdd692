// Codes shown by their labels, in the user's language. One registry for every domain:
//   registerLabels("procedure", { "清算": ["清算", "Liquidation"] });   labelOf("procedure", row.procedure)
// Domains keep their own words in pages/<domain>/labels.js and may add kinds here. Shared kinds: perm (permissions),
// audit (audit actions, composed from object and verb so a new action reads well), objectType, result, fieldType,
// procedure, stage. An unknown code is shown as it is (the shared browser check then flags it).
import { lang } from "./i18n.js";
import { fmtDateTime } from "./format.js";

const kinds = {};

export function registerLabels(kind, dict) { kinds[kind] = Object.assign(kinds[kind] || {}, dict); }

const pick = (pair) => (lang.value === "en" ? pair[1] : pair[0]);

/** The label of ``code`` in ``kind``, or the code itself when there is none. */
export function labelOf(kind, code) {
  if (code === null || code === undefined || code === "") return "—";
  if (kind === "audit") return auditLabel(code);
  const pair = kinds[kind]?.[code];
  return pair ? pick(pair) : String(code);
}

/** [{ value, label }] of a kind, for an el-select. */
export function optionsOf(kind) {
  return Object.entries(kinds[kind] || {}).map(([value, pair]) => ({ value, label: pick(pair) }));
}

export function hasLabel(kind, code) { return !!kinds[kind]?.[code]; }

registerLabels("perm", {
  "users:read": ["查看用户", "See users"], "users:write": ["管理用户", "Manage users"],
  "security:manage": ["安全管理", "Manage security"], "audit:read": ["查看审计日志", "Read the audit log"],
  "system:manage": ["系统管理", "Manage the system"], "api_clients:read": ["查看 API 客户端", "See API clients"],
  "catalog:read": ["查看共享目录", "Read the catalog"], "catalog:write": ["编辑共享目录", "Edit the catalog"],
  "catalog:consent": ["目录征求意见", "Give consent in consultations"], "units:write": ["管理单位", "Manage units"],
  "metadata:read": ["查看元数据", "Read metadata"], "metadata:write": ["管理元数据", "Manage metadata"],
  "collect:run": ["执行数据汇聚", "Run imports"], "collect:manage": ["管理数据汇聚", "Manage data collection"],
  "quality:manage": ["管理质量规则", "Manage quality rules"], "warehouse:read": ["查看专题库", "Read topic databases"],
  "warehouse:write": ["管理专题库", "Manage topic databases"], "pii:unmask": ["查看完整证件号码", "See full ID numbers"],
  "forms:design": ["设计数据模型", "Design data models"], "forms:enter": ["填报数据", "Enter records"],
  "cases:read": ["查看案件", "Read cases"], "cases:write": ["办理案件", "Work on cases"],
  "requests:write": ["发起查询请求", "Send requests"], "requests:answer": ["答复查询请求", "Answer requests"],
  "exchange:manage": ["管理交换通道", "Manage exchange channels"], "exchange:send": ["系统报送数据", "Send data as a system"],
  "jobs:read": ["查看任务调度", "See pipelines"], "jobs:manage": ["管理任务调度", "Manage pipelines"],
  "reports:read": ["查看报表", "Read reports"], "reports:write": ["设计报表", "Design reports"],
});

registerLabels("result", {
  ok: ["成功", "Succeeded"], success: ["成功", "Succeeded"], denied: ["被拒绝", "Denied"],
  failed: ["失败", "Failed"], error: ["出错", "Error"],
});

registerLabels("fieldType", {
  string: ["文本", "Text"], text: ["长文本", "Long text"], integer: ["整数", "Whole number"], int: ["整数", "Whole number"],
  decimal: ["金额", "Amount"], number: ["数字", "Number"], float: ["数字", "Number"], money: ["金额", "Amount"],
  date: ["日期", "Date"], datetime: ["日期时间", "Date and time"], boolean: ["是/否", "Yes/No"], bool: ["是/否", "Yes/No"],
  id_number: ["证件号码", "ID number"], code: ["代码", "Code"], enum: ["选项", "Choice"], attachment: ["附件", "Attachment"],
});

registerLabels("procedure", {
  "清算": ["清算", "Liquidation"], "重整": ["重整", "Reorganisation"], "和解": ["和解", "Settlement"],
  liquidation: ["清算", "Liquidation"], reorganization: ["重整", "Reorganisation"], settlement: ["和解", "Settlement"],
});

registerLabels("objectType", {
  user: ["用户", "User"], role: ["角色", "Role"], resource: ["目录资源", "Catalog resource"], unit: ["单位", "Unit"],
  api_client: ["API 客户端", "API client"], security_policy: ["安全策略", "Security policy"], case: ["案件", "Case"],
  debtor: ["债务人", "Debtor"], request: ["查询请求", "Request"], connection: ["接入连接", "Connection"],
  profile: ["导入方案", "Import profile"], run: ["运行", "Run"], pipeline: ["任务流程", "Pipeline"],
  schedule: ["调度", "Schedule"], report: ["报表", "Report"], dashboard: ["仪表板", "Dashboard"],
  table: ["数据表", "Table"], topic: ["专题库", "Topic database"], source: ["数据源", "Data source"],
  model: ["数据模型", "Data model"], record: ["记录", "Record"], session: ["会话", "Session"], audit: ["审计日志", "Audit log"],
  backup: ["备份", "Backup"], subscription: ["订阅", "Subscription"], correction: ["更正", "Correction"],
  dataset: ["SQL 数据集", "SQL dataset"], transform: ["数据转换", "Transform"], edition: ["目录版本", "Edition"],
  attribute: ["扩展属性", "Custom field"], quality_report: ["质量报告", "Quality report"], delivery: ["数据交付", "Delivery"],
});

// Audit actions: "catalog.resource.publish" = object "catalog.resource" + verb "publish". Whole actions that read
// better on their own come first.
const AUDIT_WHOLE = {
  "auth.login": ["登录", "Log in"], "auth.logout": ["退出登录", "Log out"], "auth.password_change": ["修改密码", "Change password"],
  "auth.csrf": ["跨站请求被拒绝", "Cross-site request refused"], "auth.forbidden": ["越权访问被拒绝", "Access refused (no permission)"],
  "auth.token_create": ["创建访问令牌", "Create an access token"], "auth.token_revoke": ["吊销访问令牌", "Revoke an access token"],
  "auth.totp_enrol": ["启用双因素认证", "Enrol two-factor authentication"], "auth.totp_disable": ["停用双因素认证", "Turn off two-factor authentication"],
  "auth.totp_recovery_codes": ["生成恢复码", "New recovery codes"], "pii.unmask": ["查看完整证件号码", "See a full ID number"],
  "api.signature": ["签名校验失败", "Signature check failed"], "sql.refused": ["拒绝执行 SQL", "SQL refused"],
  "keys.rotate": ["轮换密钥", "Rotate keys"], "list.export": ["导出列表", "Export a list"], "security.policy": ["修改安全策略", "Change the security policy"],
  "user.roles": ["修改用户角色", "Change a user's roles"], "user.force_logout": ["强制下线", "Force a logout"],
  "user.reset_password": ["重置密码", "Reset a password"], "user.totp_reset": ["重置双因素认证", "Reset two-factor authentication"],
  "user.unlock": ["解锁用户", "Unlock a user"], "exchange.leave": ["单位退出共享", "A unit leaves sharing"],
  "exchange.receive": ["接收报文", "Receive a message"], "exchange.soap_refused": ["拒收 SOAP 报文", "SOAP message refused"],
  "exchange.test_message": ["发送测试报文", "Send a test message"], "collect.import": ["数据导入", "Import data"],
  "collect.preview": ["预览导入文件", "Preview an import"], "jobs.sql": ["任务执行 SQL", "Pipeline SQL"],
  "reports.query": ["查询数据", "Query data"], "reports.upload": ["上传报表数据", "Upload report data"],
  "retention.destroy": ["销毁到期数据", "Destroy expired data"], "retention.policy": ["修改保存期限", "Change retention"],
  "audit.verify": ["校验审计链", "Verify the audit chain"], "audit.export": ["导出审计日志", "Export the audit log"],
  "audit.archive": ["归档审计日志", "Archive the audit log"],
};
const AUDIT_OBJECTS = {
  auth: ["登录认证", "Sign-in"], user: ["用户", "User"], api_client: ["API 客户端", "API client"], audit: ["审计日志", "Audit log"],
  backup: ["备份", "Backup"], catalog: ["共享目录", "Catalog"], "catalog.attribute": ["扩展属性", "Custom field"],
  "catalog.edition": ["目录版本", "Catalog edition"], "catalog.resource": ["目录资源", "Catalog resource"], "catalog.unit": ["单位", "Unit"],
  collect: ["数据汇聚", "Data collection"], "collect.dataset": ["SQL 数据集", "SQL dataset"], "collect.delivery": ["数据交付", "Delivery"],
  "collect.profile": ["导入方案", "Import profile"], "collect.quarantine": ["隔离数据", "Quarantined rows"], "collect.transform": ["数据转换", "Transform"],
  compare: ["比对", "Comparison"], exchange: ["数据交换", "Exchange"], "exchange.connection": ["接入连接", "Connection"],
  "exchange.correction": ["更正", "Correction"], "exchange.deadletter": ["死信", "Dead letter"], "exchange.jointtest": ["联调测试", "Joint test"],
  "exchange.rejected": ["拒收记录", "Refusals"], "exchange.subscription": ["订阅", "Subscription"], forms: ["数据填报", "Forms"],
  "forms.attachment": ["附件", "Attachment"], "forms.model": ["数据模型", "Data model"], "forms.record": ["填报记录", "Record"],
  govhub: ["政务共享平台", "Government hub"], jobs: ["任务调度", "Pipelines"], "jobs.alert": ["任务告警", "Pipeline alert"],
  "jobs.pipeline": ["任务流程", "Pipeline"], "jobs.run": ["任务运行", "Pipeline run"], "jobs.schedule": ["调度", "Schedule"],
  metadata: ["元数据", "Metadata"], "metadata.object": ["元数据对象", "Metadata object"], "metadata.source": ["数据源", "Data source"],
  "metadata.type": ["元数据类型", "Metadata type"], quality: ["数据质量", "Quality"], "quality.quarantine": ["隔离数据", "Quarantined rows"],
  "quality.report": ["质量报告", "Quality report"], "quality.rules": ["质量规则", "Quality rules"], "quality.scoring": ["质量评分", "Quality scoring"],
  reports: ["报表", "Reports"], "reports.dashboard": ["仪表板", "Dashboard"], "reports.report": ["报表", "Report"],
  requests: ["查询请求", "Request"], "requests.answers": ["请求答复", "Answers"], warehouse: ["专题库", "Topic databases"],
  "warehouse.table": ["数据表", "Table"], "warehouse.topic": ["专题库", "Topic database"], case: ["案件", "Case"],
  "case.decision": ["案件决定", "Case decision"],
};
const AUDIT_VERBS = {
  create: ["新建", "create"], update: ["修改", "update"], delete: ["删除", "delete"], save: ["保存", "save"], read: ["查看", "read"],
  export: ["导出", "export"], import: ["导入", "import"], publish: ["发布", "publish"], withdraw: ["撤回", "withdraw"],
  consent: ["表态", "consent"], consult: ["征求意见", "consult"], reinstate: ["恢复", "reinstate"], receiver_left: ["接收方退出", "receiver left"],
  revoke: ["吊销", "revoke"], revoke_key: ["吊销密钥", "revoke a key"], rotate_key: ["轮换密钥", "rotate a key"],
  rotate_keys: ["轮换密钥", "rotate keys"], state: ["变更状态", "change state"], answer: ["答复", "answer"], close: ["关闭", "close"],
  raise: ["发起", "raise"], replay: ["重放", "replay"], start: ["开始", "start"], finish: ["完成", "finish"], end: ["结束", "end"],
  end_unit: ["结束单位订阅", "end a unit's"], push: ["推送", "push"], upload: ["上传", "upload"], change_type: ["修改类型", "change a type"],
  purge: ["清除", "purge"], history: ["查看历史", "history"], list: ["列表", "list"], done: ["已处理", "done"], cancel: ["取消", "cancel"],
  enable: ["启用/停用", "turn on/off"], harvest: ["采集", "harvest"], attributes: ["扩展属性", "custom fields"], test: ["测试", "test"],
  discard: ["丢弃", "discard"], load: ["加载", "load"], land_again: ["重新入库", "land again"], view: ["查看", "view"],
  override: ["改判", "override"], add: ["添加", "add"], reset: ["重置", "reset"], drop: ["删除", "drop"], register: ["注册", "register"],
  subscribe: ["订阅", "subscribe"], reject: ["拒绝", "reject"], as_of: ["时点查询", "as of"], delivery: ["交付比对", "delivery"],
};
registerLabels("auditObject", AUDIT_OBJECTS);

export function auditLabel(code) {
  if (AUDIT_WHOLE[code]) return pick(AUDIT_WHOLE[code]);
  const parts = String(code).split(".");
  for (let i = parts.length - 1; i > 0; i--) {
    const obj = AUDIT_OBJECTS[parts.slice(0, i).join(".")];
    const verbs = parts.slice(i);
    if (obj && verbs.every((v) => AUDIT_VERBS[v])) {
      const v = verbs.map((x) => pick(AUDIT_VERBS[x])).join(lang.value === "en" ? " " : "·");
      return lang.value === "en" ? `${pick(obj)}: ${v}` : `${pick(obj)}·${v}`;
    }
  }
  const obj = AUDIT_OBJECTS[parts[0]];
  return obj ? `${pick(obj)}${lang.value === "en" ? ": " : "·"}${parts.slice(1).join(" ")}` : String(code);
}

/** Every audit action the UI knows, by label: [{ value, label }] for the audit filter (prefix groups first). */
export function auditOptions() {
  const groups = Object.keys(AUDIT_OBJECTS).filter((k) => !k.includes(".")).map((k) => ({ value: k, label: pick(AUDIT_OBJECTS[k]), group: true }));
  const whole = Object.keys(AUDIT_WHOLE).map((k) => ({ value: k, label: pick(AUDIT_WHOLE[k]) }));
  return [...groups, ...whole];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
export const isUuid = (v) => typeof v === "string" && UUID.test(v);

/** A JSON detail as readable lines [{ key, label, value }]: keys by label (``keyKind`` registry, else the key with
 *  underscores as spaces), times formatted, lists joined, nested objects as "a → b" for {old, new}, ids shortened. */
export function detailLines(detail, keyKind = "detailKey") {
  if (detail === null || detail === undefined) return [];
  if (typeof detail !== "object") return [{ key: "", label: "", value: String(detail) }];
  const show = (v) => {
    if (v === null || v === undefined || v === "") return "—";
    if (Array.isArray(v)) return v.map(show).join("、");
    if (typeof v === "object") {
      if ("old" in v || "new" in v) return `${show(v.old)} → ${show(v.new)}`;
      return Object.entries(v).map(([k, x]) => `${keyLabel(k, keyKind)}：${show(x)}`).join("；");
    }
    if (typeof v === "boolean") return lang.value === "en" ? (v ? "yes" : "no") : (v ? "是" : "否");
    if (isUuid(v)) return `#${v.slice(0, 8)}`;
    if (typeof v === "string" && ISO.test(v)) return fmtDateTime(v);
    return String(v);
  };
  return Object.entries(detail).map(([k, v]) => ({ key: k, label: keyLabel(k, keyKind), value: show(v) }));
}

function keyLabel(k, kind) {
  const pair = kinds[kind]?.[k];
  return pair ? pick(pair) : String(k).replaceAll("_", " ");
}

registerLabels("detailKey", {
  username: ["用户名", "User name"], unit: ["单位", "Unit"], roles: ["角色", "Roles"], via: ["途径", "Via"], reason: ["原因", "Reason"],
  name: ["名称", "Name"], code: ["代码", "Code"], count: ["数量", "Count"], rows: ["行数", "Rows"], state: ["状态", "State"],
  from: ["原状态", "From"], to: ["新状态", "To"], version: ["版本", "Version"], table: ["数据表", "Table"], topic: ["专题库", "Topic"],
  resource: ["目录资源", "Resource"], purpose: ["用途", "Purpose"], file: ["文件", "File"], filename: ["文件名", "File name"],
  path: ["路径", "Path"], method: ["方法", "Method"], permission: ["权限", "Permission"], added: ["新增", "Added"], removed: ["移除", "Removed"],
  old: ["原值", "Before"], new: ["新值", "After"], ip: ["来源地址", "From"], channel: ["通道", "Channel"], kind: ["类型", "Kind"],
});
