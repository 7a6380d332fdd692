import UsersPage from "./users.js";
import RolesPage from "./roles.js";
import ApiClientsPage from "./clients.js";
import PolicyPage from "./policy.js";
import AuditPage from "./audit.js";
import AccountPage from "./account.js";
import { register } from "../../i18n.js";

register({
  "nav.security": ["安全管理", "Security"],
  "nav.roles": ["角色与权限", "Roles"],
  "nav.apiClients": ["API 客户端", "API clients"],
  "nav.policy": ["安全策略", "Security policy"],
  "nav.audit": ["审计日志", "Audit log"],
});

export const routes = [
  { path: "users", component: UsersPage },
  { path: "security/roles", component: RolesPage },
  { path: "security/api-clients", component: ApiClientsPage },
  { path: "security/policy", component: PolicyPage },
  { path: "security/audit", component: AuditPage },
  { path: "account", component: AccountPage },
];
export const nav = [
  { path: "/users", key: "nav.users", icon: "UserFilled", perm: "users:read", group: "nav.system", groupIcon: "Setting" },
  { path: "/security/roles", key: "nav.roles", icon: "Lock", perm: "users:read", group: "nav.security", groupIcon: "Lock" },
  { path: "/security/api-clients", key: "nav.apiClients", icon: "Connection", perm: "api_clients:read", group: "nav.security", groupIcon: "Lock" },
  { path: "/security/policy", key: "nav.policy", icon: "Lock", perm: "users:read", group: "nav.security", groupIcon: "Lock" },
  { path: "/security/audit", key: "nav.audit", icon: "Document", perm: "audit:read", group: "nav.security", groupIcon: "Lock" },
  { path: "/account", key: "nav.account", icon: "User" },
];
