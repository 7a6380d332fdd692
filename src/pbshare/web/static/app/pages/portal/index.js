// The unit portal (数源单位门户): a unit operator's items, answered by form or sheet.
import "./labels.js";
import PortalItems, { PortalCounts } from "./items.js";
import PortalItem from "./item.js";
import { PortalCorrections } from "../exchange/corrections.js";

export const routes = [{ path: "portal", component: PortalItems }, { path: "portal/items/:id", component: PortalItem },
  { path: "portal/corrections", component: PortalCorrections }, { path: "portal/corrections/:id", component: PortalCorrections }];
export const nav = [{ path: "/portal", key: "nav.portal", icon: "Stamp", perm: "requests:answer" },
  { path: "/portal/corrections", key: "nav.portalCorrections", icon: "EditPen", perm: "requests:answer" }];
// Shown on the home page to those who hold the permission.
export const home = [{ component: PortalCounts, perm: "requests:answer" }];
