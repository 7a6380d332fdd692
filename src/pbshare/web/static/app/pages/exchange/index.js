import CasesPage from "./cases.js";

export const routes = [{ path: "cases", component: CasesPage }];
export const nav = [{ path: "/cases", key: "nav.cases", icon: "Folder", perm: "cases:read" }];
