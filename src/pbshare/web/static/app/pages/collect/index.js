import "./labels.js";
import ImportWizard from "./import.js";
import RunPage from "./run.js";
import ProfilesPage from "./profiles.js";
import DatasetsPage from "./datasets.js";
import TransformsPage from "./transforms.js";
import DeliveriesPage from "./deliveries.js";
import { DataAdminTodo } from "./todo.js";

export const routes = [
  { path: "collect/import", component: ImportWizard },
  { path: "collect/runs/:id", component: RunPage },
  { path: "collect/profiles", component: ProfilesPage },
  { path: "collect/datasets", component: DatasetsPage },
  { path: "collect/transforms", component: TransformsPage },
  { path: "collect/deliveries", component: DeliveriesPage },
];
export const nav = [
  { path: "/collect/import", key: "nav.import", icon: "Upload", perm: "collect:run", group: "nav.collectGroup", groupIcon: "Coin" },
  { path: "/collect/profiles", key: "nav.profiles", icon: "Tickets", perm: "collect:run", group: "nav.collectGroup" },
  { path: "/collect/datasets", key: "nav.datasets", icon: "Document", perm: "collect:run", group: "nav.collectGroup" },
  { path: "/collect/transforms", key: "nav.transforms", icon: "Operation", perm: "collect:run", group: "nav.collectGroup" },
  { path: "/collect/deliveries", key: "nav.deliveries", icon: "Message", perm: "collect:run", group: "nav.collectGroup" },
];
// Shown on the home page to those who hold the permission.
export const home = [{ component: DataAdminTodo, perm: "collect:manage" }];
