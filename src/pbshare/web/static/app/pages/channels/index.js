// Exchange channels: connections (unit × channel), their health and traffic, dead letters and refusals.
import ConnectionsPage from "./connections.js";
import DeadLettersPage from "./deadletters.js";
import { register } from "../../i18n.js";

register({
  "nav.exchangeChannels": ["交换通道", "Exchange channels"],
  "nav.connections": ["接入连接", "Connections"],
  "nav.deadLetters": ["死信与拒收", "Dead letters"],
});

export const routes = [
  { path: "channels", component: ConnectionsPage },
  { path: "channels/dead-letters", component: DeadLettersPage },
];
export const nav = [
  { path: "/channels", key: "nav.connections", icon: "Connection", perm: "exchange:manage", group: "nav.exchangeChannels", groupIcon: "Share" },
  { path: "/channels/dead-letters", key: "nav.deadLetters", icon: "Warning", perm: "exchange:manage", group: "nav.exchangeChannels", groupIcon: "Share" },
];
