import TopicsPage from "./topics.js";

export const routes = [{ path: "warehouse", component: TopicsPage }];
export const nav = [
  { path: "/warehouse", key: "nav.warehouse", icon: "Box", perm: "warehouse:read", group: "nav.collectGroup", groupIcon: "Coin" },
];
