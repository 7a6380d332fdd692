import "./labels.js";
import ComparisonsPage, { ComparisonPage } from "./comparison.js";
import HistoryPage from "./history.js";

export const routes = [
  { path: "compare", component: ComparisonsPage },
  { path: "compare/:id", component: ComparisonPage },
  { path: "compare-history", component: HistoryPage },
];
export const nav = [
  { path: "/compare", key: "nav.comparisons", icon: "Switch", perm: "warehouse:read", group: "nav.compareGroup", groupIcon: "DataAnalysis" },
  { path: "/compare-history", key: "nav.recordHistory", icon: "Clock", perm: "warehouse:read", group: "nav.compareGroup" },
];
