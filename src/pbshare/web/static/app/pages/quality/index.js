// Data quality pages. Quality reports (helper D2): reports.js, report.js, unit.js; rule sets add theirs here.
import ReportsPage from "./reports.js";
import ReportPage, { ReportForRun } from "./report.js";
import UnitQualityPage from "./unit.js";
import "./labels.js";
import RulesPage from "./rules.js";

export const routes = [
  { path: "quality/reports", component: ReportsPage },
  { path: "quality/reports/:id", component: ReportPage },
  { path: "quality/runs/:id", component: ReportForRun },
  { path: "quality/units/:code", component: UnitQualityPage },
  { path: "quality/rules", component: RulesPage },
];
export const nav = [
  { path: "/quality/reports", key: "nav.qualityReports", icon: "DataAnalysis", perm: "reports:read", group: "nav.qualityGroup", groupIcon: "DataAnalysis" },
  { path: "/quality/rules", key: "nav.qualityRules", icon: "SetUp", perm: "quality:manage", group: "nav.qualityGroup", groupIcon: "DataAnalysis" },
];
