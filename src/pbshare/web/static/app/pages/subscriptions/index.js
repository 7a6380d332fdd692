// Data sharing: subscriptions to the office's outbound resources, what was pushed, the government hub.
import "./labels.js";
import SubscriptionsPage from "./subscriptions.js";
import DeliveriesPage from "./deliveries.js";
import HubPage from "./hub.js";

export const routes = [
  { path: "subscriptions", component: SubscriptionsPage },
  { path: "subscriptions/deliveries", component: DeliveriesPage },
  { path: "subscriptions/hub", component: HubPage },
];
export const nav = [
  { path: "/subscriptions", key: "nav.subscriptions", icon: "Bell", perm: "catalog:read", group: "nav.sharingGroup", groupIcon: "Promotion" },
  { path: "/subscriptions/deliveries", key: "nav.subDeliveries", icon: "Finished", perm: "catalog:read", group: "nav.sharingGroup", groupIcon: "Promotion" },
  { path: "/subscriptions/hub", key: "nav.hub", icon: "OfficeBuilding", perm: "catalog:write", group: "nav.sharingGroup", groupIcon: "Promotion" },
];
