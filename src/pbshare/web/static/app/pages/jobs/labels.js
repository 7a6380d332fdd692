// Words shared by the jobs pages (ETL pipelines, schedules, runs), and small helpers.
import { register, lang } from "../../i18n.js";
import { fmtDateTime } from "../../format.js";

register({
  "nav.jobsGroup": ["ETL 调度", "ETL jobs"],
  "nav.pipelines": ["流水线", "Pipelines"],
  "nav.schedules": ["调度", "Schedules"],
  "nav.jobRuns": ["运行记录", "Runs"],
  "nav.jobCalendar": ["运行日历", "Calendar"],
  "jobs.newPipeline": ["新建流水线", "New pipeline"],
  "jobs.editPipeline": ["编辑流水线", "Edit pipeline"],
  "jobs.name": ["名称", "Name"],
  "jobs.description": ["说明", "Description"],
  "jobs.steps": ["步骤", "Steps"],
  "jobs.stepsHint": ["按住 ⠿ 拖动可调整顺序；上一步产出的表会交给下一步", "Drag ⠿ to reorder; a step's output table goes to the next step"],
  "jobs.addStep": ["添加步骤", "Add a step"],
  "jobs.kind": ["类型", "Kind"],
  "jobs.stepName": ["步骤名称", "Step name"],
  "jobs.onError": ["失败时", "On failure"],
  "jobs.onError.stop": ["停止流水线", "stop the pipeline"],
  "jobs.onError.continue": ["继续下一步", "go on with the next step"],
  "jobs.retries": ["重试次数", "Retries"],
  "jobs.retryDelay": ["首次重试间隔（秒，之后加倍）", "First retry after (s, doubling)"],
  "jobs.timeout": ["超时（秒）", "Time-out (s)"],
  "jobs.save": ["保存", "Save"],
  "jobs.cancel": ["取消", "Cancel"],
  "jobs.delete": ["删除", "Delete"],
  "jobs.edit": ["编辑", "Edit"],
  "jobs.runNow": ["立即运行", "Run now"],
  "jobs.schedule": ["调度", "Schedule"],
  "jobs.saved": ["已保存", "Saved"],
  "jobs.started": ["已开始运行", "Run started"],
  "jobs.confirmDelete": ["确定删除“{name}”？", "Delete “{name}”?"],
  "jobs.noPipelines": ["还没有流水线：点“新建流水线”", "No pipelines yet: click “New pipeline”"],
  "jobs.newSchedule": ["新建调度", "New schedule"],
  "jobs.editSchedule": ["编辑调度", "Edit schedule"],
  "jobs.pipeline": ["流水线", "Pipeline"],
  "jobs.when": ["运行时间", "When"],
  "jobs.nextFire": ["下次运行", "Next run"],
  "jobs.enabled": ["启用", "Enabled"],
  "jobs.catchUp": ["停机后错过的运行", "Runs missed while down"],
  "jobs.catchUp.skip": ["跳过", "skip them"],
  "jobs.catchUp.once": ["补跑一次", "run once to catch up"],
  "jobs.kind.hourly": ["每小时", "Hourly"],
  "jobs.kind.daily": ["每天", "Daily"],
  "jobs.kind.weekly": ["每周", "Weekly"],
  "jobs.kind.monthly": ["每月", "Monthly"],
  "jobs.kind.cron": ["cron 表达式", "Cron"],
  "jobs.atMinute": ["第几分", "At minute"],
  "jobs.atTime": ["时间（时:分）", "At (hh:mm)"],
  "jobs.weekdays": ["星期", "Weekdays"],
  "jobs.day": ["日期", "Day"],
  "jobs.lastDay": ["最后一天", "Last day"],
  "jobs.cronHint": ["5 段：分 时 日 月 周，例如 0 2 * * *", "five fields: minute hour day month weekday, e.g. 0 2 * * *"],
  "jobs.timezone": ["时区：Asia/Shanghai（北京时间）", "Time zone: Asia/Shanghai (Beijing time)"],
  "jobs.nextTen": ["之后十次运行时间", "The next ten runs"],
  "jobs.noSchedules": ["还没有调度", "No schedules yet"],
  "jobs.state": ["状态", "State"],
  "jobs.trigger": ["触发", "Trigger"],
  "jobs.trigger.schedule": ["定时", "scheduled"],
  "jobs.trigger.manual": ["手动", "by hand"],
  "jobs.trigger.catch_up": ["补跑", "catch-up"],
  "jobs.state.queued": ["排队中", "queued"],
  "jobs.state.running": ["运行中", "running"],
  "jobs.state.succeeded": ["成功", "succeeded"],
  "jobs.state.failed": ["失败", "failed"],
  "jobs.state.cancelled": ["已取消", "cancelled"],
  "jobs.state.pending": ["等待", "pending"],
  "jobs.state.skipped": ["未运行", "skipped"],
  "jobs.created": ["创建时间", "Created"],
  "jobs.duration": ["用时", "Duration"],
  "jobs.rows": ["行数", "Rows"],
  "jobs.progress": ["进度", "Progress"],
  "jobs.attempt": ["第 {n} 次执行", "attempt {n}"],
  "jobs.cancelRun": ["取消运行", "Cancel the run"],
  "jobs.cancelAsked": ["已请求取消", "Cancel requested"],
  "jobs.log": ["日志", "Log"],
  "jobs.error": ["错误", "Error"],
  "jobs.output": ["产出表", "Output table"],
  "jobs.all": ["全部", "All"],
  "jobs.back": ["返回", "Back"],
  "jobs.executor": ["执行器", "Executor"],
  "jobs.failedRuns": ["近 7 天失败的流水线运行", "Pipeline runs that failed in the last 7 days"],
  "jobs.alerts": ["流水线提醒", "Pipeline alerts"],
  "jobs.done": ["已处理", "Done"],
  "jobs.noRuns": ["没有运行记录", "No runs"],
  "jobs.upcoming": ["将要运行", "Upcoming"],
  "jobs.none": ["无", "none"],
  "jobs.paramsMissing": ["第 {i} 步缺少参数：{p}", "Step {i} lacks: {p}"],
  "jobs.unit.rows": ["行", "rows"],
  "jobs.unit.seconds": ["秒", "s"],
  "jobs.unit.subscriptions": ["个订阅", "subscriptions"],
  "jobs.summary.comparison_id": ["比对结果", "Comparison"],
  "jobs.summary.added": ["新增", "added"],
  "jobs.summary.removed": ["删除", "removed"],
  "jobs.summary.changed": ["变化", "changed"],
  "jobs.summary.unchanged": ["未变", "unchanged"],
  "jobs.summary.flags": ["可疑变化", "flagged"],
  "jobs.summary.first": ["首次快照，开始记录历史", "first snapshot: the history starts here"],
  "jobs.summary.rows": ["行数", "rows"],
  "jobs.summary.resource": ["资源", "resource"],
  "jobs.summary.subscriptions": ["订阅", "subscriptions"],
  "jobs.summary.queued": ["已排队推送", "deliveries queued"],
  "jobs.summary.not_sent": ["未发送", "not sent"],
});

// How far a running step is: "1,200 / 5,000 行" and a percentage when the total is known.
export function stepPercent(s) {
  if (!s.progress_total) return null;
  return Math.max(0, Math.min(100, Math.floor((100 * (s.progress_done || 0)) / s.progress_total)));
}

export const STATE_TYPE = { queued: "info", running: "warning", succeeded: "success", failed: "danger", cancelled: "info", pending: "info", skipped: "info" };

// Times are shown in the office's time zone whatever the browser's.
export function fmtTime(iso) { return iso ? fmtDateTime(iso) : ""; }

export function localDay(iso) {
  return new Date(iso).toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" });  // YYYY-MM-DD
}

export function fmtSeconds(s) {
  if (s === null || s === undefined) return "";
  if (s < 60) return s.toFixed(1) + " s";
  const m = Math.floor(s / 60);
  return m + " min " + Math.round(s - m * 60) + " s";
}

export function kindLabel(kinds, code) {
  const k = kinds.find((x) => x.code === code);
  if (!k) return code;
  return lang.value === "en" ? k.label_en : k.label_zh;
}

export function paramLabel(p) { return lang.value === "en" ? p.label_en : p.label_zh; }
