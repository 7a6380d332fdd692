import TopicsPage from "./topics.js";

export const routes = [{ path: "warehouse", component: TopicsPage }];
// Top level: readers who do not import (case handlers) get one menu item, not a sub-menu.
export const nav = [{ path: "/warehouse", key: "nav.warehouse", icon: "Box", perm: "warehouse:read" }];
