import UsersPage from "./users.js";
import RolesPage from "./roles.js";
import ApiClientsPage from "./clients.js";
import PolicyPage from "./policy.js";
import AuditPage from "./audit.js";
import AccountPage from "./account.js";
import { SecurityTodo, AuditorTodo } from "./todo.js";
import { watch } from "vue";
import { register } from "../../i18n.js";
import { session } from "../../session.js";

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
// Shown on the home page to those who hold the permission.
export const home = [{ component: SecurityTodo, perm: "security:manage" }, { component: AuditorTodo, perm: "audit:read" }];

// A user whose role needs a second factor and who has not enrolled yet gets a session that only
// opens "My account": send them there rather than let every page fail.
function enrolFirst(tries = 40) {
  const u = session.user;
  if (u && u.totp_enrolment_required && !u.must_change_password) {
    const here = window.location.hash;
    if (here.startsWith("#/login")) {
      // just logged in: the router leaves the login page right after (pushState fires no event)
      if (tries > 0) setTimeout(() => enrolFirst(tries - 1), 50);
    } else if (!here.startsWith("#/account") && !here.startsWith("#/password")) {
      window.location.hash = "#/account";
    }
  }
}
watch(() => [session.user?.totp_enrolment_required, session.user?.must_change_password], () => enrolFirst());
window.addEventListener("hashchange", () => enrolFirst());
