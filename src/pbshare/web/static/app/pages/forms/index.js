import "./labels.js";
import ModelsPage from "./models.js";
import DesignerPage from "./designer.js";
import { RecordsPage, RecordPage } from "./records.js";

export const routes = [
  { path: "forms", component: ModelsPage },
  { path: "forms/:code/design", component: DesignerPage },
  { path: "forms/:code/records", component: RecordsPage },
  { path: "forms/:code/new", component: RecordPage },
  { path: "forms/:code/records/:id", component: RecordPage },
];
export const nav = [
  { path: "/forms", key: "nav.formModels", icon: "Edit", perm: "forms:enter", group: "nav.formsGroup", groupIcon: "Notebook" },
];
