import SourcesPage from "./sources.js";
import DictionaryPage from "./dictionary.js";
import LineagePage from "./lineage.js";
import MetaTypesPage from "./types.js";
import "./labels.js";

export const routes = [
  { path: "metadata/sources", component: SourcesPage },
  { path: "metadata/dictionary", component: DictionaryPage },
  { path: "metadata/lineage", component: LineagePage },
  { path: "metadata/types", component: MetaTypesPage },
];
export const nav = [
  { path: "/metadata/sources", key: "nav.sources", icon: "Coin", perm: "metadata:read", group: "nav.metadataGroup", groupIcon: "DataAnalysis" },
  { path: "/metadata/dictionary", key: "nav.dictionary", icon: "Search", perm: "metadata:read", group: "nav.metadataGroup" },
  { path: "/metadata/lineage", key: "nav.lineage", icon: "Share", perm: "metadata:read", group: "nav.metadataGroup" },
  { path: "/metadata/types", key: "nav.metaTypes", icon: "Files", perm: "metadata:read", group: "nav.metadataGroup" },
];
