// Bilingual UI text: Simplified Chinese first, English second. t("key") picks by current language.
import { ref } from "vue";

export const lang = ref(localStorage.getItem("lang") || "zh-CN");

const messages = {};

// Domains register their own keys: register({ key: ["中文", "English"] }).
export function register(dict) { Object.assign(messages, dict); }

export function t(key, params = {}) {
  const pair = messages[key];
  let text = pair ? (lang.value === "en" ? pair[1] : pair[0]) : key;
  for (const [k, v] of Object.entries(params)) text = text.replaceAll(`{${k}}`, v);
  return text;
}

export function setLang(value) {
  lang.value = value;
  localStorage.setItem("lang", value);
  // The API answers errors in the cookie's language.
  document.cookie = `lang=${value}; path=/; SameSite=Strict`;
  document.documentElement.lang = value;
}
setLang(lang.value);

register({
  "app.title": ["个人破产信息共享平台", "Personal Bankruptcy Information Sharing"],
  "app.short": ["破产信息共享", "pbshare"],
  "login.title": ["登录", "Log in"],
  "login.subtitle": ["深圳市破产事务管理署", "Shenzhen Bankruptcy Administration"],
  "login.username": ["用户名", "User name"],
  "login.password": ["密码", "Password"],
  "login.totp": ["动态验证码", "Authenticator code"],
  "login.submit": ["登录", "Log in"],
  "login.required": ["请输入用户名和密码", "Enter your user name and password"],
  "nav.home": ["首页", "Home"],
  "nav.cases": ["案件", "Cases"],
  "nav.system": ["系统管理", "System"],
  "nav.users": ["用户管理", "Users"],
  "nav.account": ["个人设置", "My account"],
  "user.logout": ["退出登录", "Log out"],
  "user.password": ["修改密码", "Change password"],
  "lang.switch": ["语言", "Language"],
  "pwd.title": ["修改密码", "Change password"],
  "pwd.first": ["首次登录，请先设置新密码。", "First login: set a new password first."],
  "pwd.old": ["原密码", "Current password"],
  "pwd.new": ["新密码", "New password"],
  "pwd.repeat": ["再次输入新密码", "Repeat the new password"],
  "pwd.mismatch": ["两次输入的新密码不一致", "The two new passwords differ"],
  "pwd.rule": ["至少 10 位，包含大写字母、小写字母、数字、符号中的三类", "At least 10 characters, from three of upper case, lower case, digits, symbols"],
  "pwd.done": ["密码已修改", "Password changed"],
  "common.save": ["保存", "Save"],
  "common.cancel": ["取消", "Cancel"],
  "common.search": ["搜索", "Search"],
  "common.refresh": ["刷新", "Refresh"],
  "common.create": ["新建", "New"],
  "common.edit": ["编辑", "Edit"],
  "common.actions": ["操作", "Actions"],
  "common.yes": ["是", "Yes"],
  "common.no": ["否", "No"],
  "common.loading": ["加载中…", "Loading…"],
  "common.empty": ["暂无数据", "No data"],
  "common.network": ["无法连接服务器，请检查网络后重试", "Cannot reach the server; check the network and try again"],
  "home.welcome": ["欢迎，{name}", "Welcome, {name}"],
  "home.cases": ["案件总数", "Cases"],
  "home.byStage": ["各阶段案件", "Cases by stage"],
  "home.unit": ["所属单位", "Unit"],
  "home.roles": ["角色", "Roles"],
  "noAccess.title": ["您无权打开此页面", "You cannot open this page"],
  "noAccess.why": ["此页面需要“{p}”权限，您当前的角色没有这项权限。", "This page needs the permission “{p}”, which your roles do not give."],
  "noAccess.ask": ["如确需使用，请联系安全管理员为您分配相应角色。", "If you need it, ask the security administrator to give you a role that has it."],
  "noAccess.home": ["返回首页", "Back to the home page"],
});
