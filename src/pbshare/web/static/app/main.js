import { createApp, computed, ref, onMounted, onBeforeUnmount } from "vue";
import { createRouter, createWebHashHistory, useRoute } from "vue-router";
import ElementPlus from "element-plus";
import zhCn from "element-plus/locale/zh-cn";
import en from "element-plus/locale/en";
import * as Icons from "@element-plus/icons-vue";
import { t, lang, setLang } from "./i18n.js";
import { api } from "./api.js";
import { session, setUser, can, canAny } from "./session.js";
import { labelOf } from "./labels.js";
import { domains } from "./domains.js";
import { FilePick } from "./upload.js";
import LoginPage from "./pages/core/login.js";
import PasswordPage from "./pages/core/password.js";

const PUBLIC = new Set(["/login"]);

const Shell = {
  name: "Shell",
  setup() {
    const narrow = ref(window.innerWidth < 768);
    const drawer = ref(false);
    const collapsed = ref(false);
    const onResize = () => { narrow.value = window.innerWidth < 768; };
    onMounted(() => window.addEventListener("resize", onResize));
    onBeforeUnmount(() => window.removeEventListener("resize", onResize));
    const nav = computed(() => domains.flatMap((d) => d.nav || []).filter((n) => !n.perm || can(n.perm)));
    const groups = computed(() => {
      const out = [];
      for (const item of nav.value) {
        if (!item.group) { out.push({ ...item, children: null }); continue; }
        let g = out.find((o) => o.groupKey === item.group);
        if (!g) { g = { groupKey: item.group, icon: item.groupIcon || item.icon, children: [] }; out.push(g); }
        g.children.push(item);
      }
      return out;
    });
    async function logout() {
      try { await api("/auth/logout", { method: "POST", quiet: true }); } catch (e) { /* already gone */ }
      setUser(null);
      window.location.hash = "#/login";
    }
    function command(cmd) {
      if (cmd === "logout") logout();
      else if (cmd === "password") window.location.hash = "#/password";
      else if (cmd === "zh-CN" || cmd === "en") setLang(cmd);
    }
    function go() { drawer.value = false; }
    // One guard for every page: a page the user may not open is not mounted (no requests that fail, no buttons
    // that cannot work); the no-access page says which permission it needs and whom to ask.
    const route = useRoute();
    const denied = computed(() => {
      const perm = route.matched.map((m) => m.meta?.perm).filter(Boolean).pop();
      return perm && !canAny(perm) ? perm : null;
    });
    return { t, lang, session, groups, narrow, drawer, collapsed, command, go, Icons, denied };
  },
  template: `
  <el-container class="shell">
    <el-aside v-if="!narrow" :width="collapsed ? '64px' : '220px'">
      <div class="brand"><img src="/favicon.ico" width="24" height="24" alt=""><span v-if="!collapsed">{{ t('app.short') }}</span></div>
      <nav-menu :groups="groups" :collapsed="collapsed" @picked="go" />
    </el-aside>
    <el-drawer v-else v-model="drawer" direction="ltr" size="240px" :with-header="false" class="mobile-drawer">
      <div class="brand"><img src="/favicon.ico" width="24" height="24" alt=""><span>{{ t('app.short') }}</span></div>
      <nav-menu :groups="groups" :collapsed="false" @picked="go" />
    </el-drawer>
    <el-container>
      <el-header>
        <div class="header-left">
          <el-button text :aria-label="'menu'" data-test="menu-toggle" @click="narrow ? (drawer = true) : (collapsed = !collapsed)">
            <el-icon size="20"><component :is="narrow || collapsed ? Icons.Expand : Icons.Fold" /></el-icon>
          </el-button>
          <span class="hide-mobile">{{ t('app.title') }}</span>
        </div>
        <div class="header-right">
          <el-dropdown @command="command" data-test="lang-switch">
            <el-button text>{{ lang === 'en' ? 'English' : '简体中文' }}</el-button>
            <template #dropdown><el-dropdown-menu>
              <el-dropdown-item command="zh-CN" data-test="lang-zh">简体中文</el-dropdown-item>
              <el-dropdown-item command="en" data-test="lang-en">English</el-dropdown-item>
            </el-dropdown-menu></template>
          </el-dropdown>
          <el-dropdown @command="command" data-test="user-menu">
            <el-button text><el-icon><component :is="Icons.User" /></el-icon>&nbsp;{{ session.user?.display_name }}</el-button>
            <template #dropdown><el-dropdown-menu>
              <el-dropdown-item disabled>{{ session.user?.unit_name }}</el-dropdown-item>
              <el-dropdown-item command="password">{{ t('user.password') }}</el-dropdown-item>
              <el-dropdown-item command="logout" divided data-test="logout">{{ t('user.logout') }}</el-dropdown-item>
            </el-dropdown-menu></template>
          </el-dropdown>
        </div>
      </el-header>
      <el-main><no-access-page v-if="denied" :perm="denied" /><router-view v-else /></el-main>
    </el-container>
  </el-container>`,
};

const NavMenu = {
  name: "NavMenu",
  props: { groups: Array, collapsed: Boolean },
  emits: ["picked"],
  setup(props, { emit }) {
    return { t, Icons, picked: () => emit("picked") };
  },
  template: `
  <el-menu router :default-active="$route.path" :collapse="collapsed" background-color="#1f2d3d" text-color="#bfcbd9" active-text-color="#409eff" @select="picked">
    <template v-for="g in groups" :key="g.path || g.groupKey">
      <el-menu-item v-if="!g.children" :index="g.path" :data-test="'nav-' + g.path">
        <el-icon><component :is="Icons[g.icon] || Icons.Document" /></el-icon><template #title>{{ t(g.key) }}</template>
      </el-menu-item>
      <el-sub-menu v-else :index="g.groupKey">
        <template #title><el-icon><component :is="Icons[g.icon] || Icons.Folder" /></el-icon><span>{{ t(g.groupKey) }}</span></template>
        <el-menu-item v-for="c in g.children" :key="c.path" :index="c.path" :data-test="'nav-' + c.path">{{ t(c.key) }}</el-menu-item>
      </el-sub-menu>
    </template>
  </el-menu>`,
};

// Shown instead of a page the user may not open: what is missing and whom to ask, not a page of 403 toasts.
const NoAccessPage = {
  name: "NoAccessPage",
  props: { perm: { type: [String, Array], required: true } },
  setup(props) {
    const perms = computed(() => [].concat(props.perm));
    return { t, perms, labelOf };
  },
  template: `
  <el-result icon="warning" :title="t('noAccess.title')" data-test="no-access">
    <template #sub-title>
      <p>{{ t('noAccess.why', { p: perms.map((p) => labelOf('perm', p)).join(' / ') }) }}</p>
      <p class="muted">{{ t('noAccess.ask') }}</p>
    </template>
    <template #extra><el-button type="primary" @click="$router.push('/')" data-test="no-access-home">{{ t('noAccess.home') }}</el-button></template>
  </el-result>`,
};

// A route's permission: its meta.perm, else the permission of the menu entry it sits under (the longest nav path
// that is its prefix), so a page added later is guarded by the menu entry that leads to it.
const navPerms = domains.flatMap((d) => d.nav || []).filter((n) => n.perm && n.path !== "/")
  .sort((a, b) => b.path.length - a.path.length);
function permOf(path) {
  const full = "/" + path.replace(/^\//, "");
  const entry = navPerms.find((n) => full === n.path || full.startsWith(n.path + "/"));
  return entry ? entry.perm : null;
}
const children = domains.flatMap((d) => d.routes || []).map((r) => {
  const perm = r.meta?.perm ?? permOf(r.path);
  return perm ? { ...r, meta: { ...(r.meta || {}), perm } } : r;
});

const routes = [
  { path: "/login", component: LoginPage },
  { path: "/password", component: PasswordPage },
  { path: "/", component: Shell, children },
];

const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach(async (to) => {
  // The login page asks nobody who is logged in (no 401 on every visit); every other page asks once.
  if (PUBLIC.has(to.path)) return true;
  if (!session.loaded) {
    try { setUser(await api("/auth/me", { quiet: true })); } catch (e) { setUser(null); }
  }
  if (!session.user) return { path: "/login", query: { next: to.fullPath } };
  if (session.user.must_change_password && to.path !== "/password") return "/password";
  return true;
});

const Root = {
  setup() {
    const locale = computed(() => (lang.value === "en" ? en : zhCn));
    return { locale };
  },
  template: `<el-config-provider :locale="locale"><router-view /></el-config-provider>`,
};

const app = createApp(Root);
app.use(ElementPlus);
app.use(router);
app.component("NavMenu", NavMenu);
app.component("NoAccessPage", NoAccessPage);
app.component("FilePick", FilePick); // every page chooses files through it (upload.js)
app.mount("#app");
