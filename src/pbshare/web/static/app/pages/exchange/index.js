import CasesPage from "./cases.js";
import CasePage from "./case.js";
import RequestPage, { HandlerTodo } from "./request.js";
import DebtorPage, { DebtorsPage } from "./debtor.js";
import CorrectionsPage from "./corrections.js";

export const routes = [{ path: "cases", component: CasesPage }, { path: "cases/:id", component: CasePage },
  { path: "requests/:id", component: RequestPage },
  { path: "debtors", component: DebtorsPage }, { path: "debtors/:id", component: DebtorPage },
  { path: "corrections", component: CorrectionsPage }, { path: "corrections/:id", component: CorrectionsPage }];
export const nav = [{ path: "/cases", key: "nav.cases", icon: "Folder", perm: "cases:read" },
  { path: "/debtors", key: "debtor.list", icon: "User", perm: "cases:read" },
  { path: "/corrections", key: "nav.corrections", icon: "EditPen", perm: "cases:read" }];
// Shown on the home page to those who hold the permission.
export const home = [{ component: HandlerTodo, perm: "requests:write" }];
