import "./labels.js";
import QueryPage from "./query.js";
import ReportBuilderPage from "./report.js";
import DashboardPage from "./dashboard.js";
import DashboardsPage, { BuiltinHome } from "./dashboards.js";

export const routes = [
  { path: "reports/query", component: QueryPage },
  { path: "reports/builder", component: ReportBuilderPage },
  { path: "reports/builder/:id", component: ReportBuilderPage },
  { path: "reports/dashboards", component: DashboardsPage },
  { path: "reports/dashboards/:id", component: DashboardPage },
];
export const nav = [
  { path: "/reports/dashboards", key: "nav.dashboards", icon: "DataBoard", perm: "reports:read", group: "nav.reportsGroup", groupIcon: "PieChart" },
  { path: "/reports/query", key: "nav.reportQuery", icon: "Search", perm: "warehouse:read", group: "nav.reportsGroup" },
  { path: "/reports/builder", key: "nav.reportBuilder", icon: "Histogram", perm: "reports:write", group: "nav.reportsGroup" },
];
// The report viewer's home page is the built-in dashboards (others get a link to them).
export const home = [{ component: BuiltinHome, perm: "reports:read" }];
