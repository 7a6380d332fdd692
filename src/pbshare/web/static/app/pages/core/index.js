import HomePage from "./home.js";

export const routes = [{ path: "", component: HomePage }];
export const nav = [{ path: "/", key: "nav.home", icon: "HomeFilled" }];
