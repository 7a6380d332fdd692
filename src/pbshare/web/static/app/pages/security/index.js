import UsersPage from "./users.js";

export const routes = [{ path: "users", component: UsersPage }];
export const nav = [
  { path: "/users", key: "nav.users", icon: "UserFilled", perm: "users:read", group: "nav.system", groupIcon: "Setting" },
];
