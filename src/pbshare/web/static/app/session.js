// Who is logged in, shared by every page.
import { reactive } from "vue";

export const session = reactive({ user: null, csrf: null, loaded: false });

export function can(perm) {
  return !!session.user && session.user.permissions.includes(perm);
}

/** True when the user holds ``perm``, or any of a list of them. */
export function canAny(perm) {
  return Array.isArray(perm) ? perm.some(can) : can(perm);
}

export function setUser(user) {
  session.user = user;
  session.csrf = user ? user.csrf_token : null;
  session.loaded = true;
}
