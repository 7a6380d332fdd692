import CatalogListPage from "./list.js";
import ResourcePage from "./resource.js";
import ResourceEditorPage from "./editor.js";
import UnitsPage from "./units.js";
import CatalogAdminPage from "./admin.js";

export const routes = [
  { path: "catalog", component: CatalogListPage },
  { path: "catalog/new", component: ResourceEditorPage },
  { path: "catalog/r/:code", component: ResourcePage },
  { path: "catalog/r/:code/edit", component: ResourceEditorPage },
  { path: "catalog/admin", component: CatalogAdminPage },
  { path: "units", component: UnitsPage },
];
// Everyday pages sit at the top level; administration shares the metadata group (one sub-menu, only
// for those who manage metadata or the catalog).
export const nav = [
  { path: "/catalog", key: "nav.catalog", icon: "Notebook", perm: "catalog:read" },
  { path: "/units", key: "nav.units", icon: "OfficeBuilding", perm: "catalog:read" },
  { path: "/catalog/admin", key: "nav.catalogAdmin", icon: "Collection", perm: "catalog:write", group: "nav.metadataGroup", groupIcon: "DataAnalysis" },
];
