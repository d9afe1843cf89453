import {
  createRouter,
  createWebHistory,
  type RouteRecordRaw,
  type Router,
  type RouterHistory,
} from 'vue-router';
import { setUnauthorizedHandler, storedCredential } from './api.js';
import { resetSession } from './session.js';

const OWNER = '/:ownertype(org|user)/:ownername';
const PROJECT = `${OWNER}/projects/:path(.*).proj`;
const GROUP = `${OWNER}/projectgroups/:path(.*).pg`;

/** The app's routes (exported for tests). Pages are loaded on demand. */
export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('./views/LoginView.vue'),
    meta: { public: true },
  },
  {
    path: '/register',
    name: 'register',
    component: () => import('./views/RegisterView.vue'),
    meta: { public: true },
  },
  {
    path: '/oauth2/callback',
    name: 'oauth2-callback',
    component: () => import('./views/OAuth2CallbackView.vue'),
    meta: { public: true },
  },
  { path: '/', name: 'home', component: () => import('./views/HomeView.vue') },
  { path: '/run', name: 'run-link', component: () => import('./views/RunLinkView.vue') },
  { path: '/neworg', name: 'new-org', component: () => import('./views/NewOrgView.vue') },
  {
    path: '/settings',
    name: 'user-settings',
    component: () => import('./views/UserSettingsView.vue'),
  },
  { path: '/admin', redirect: '/admin/remotesources' },
  {
    path: '/admin/remotesources',
    name: 'admin-remote-sources',
    component: () => import('./views/AdminRemoteSourcesView.vue'),
  },
  {
    path: '/admin/users',
    name: 'admin-users',
    component: () => import('./views/AdminUsersView.vue'),
  },
  // direct runs of a user
  {
    path: '/user/:ownername/runs/:runnumber(\\d+)',
    name: 'user-run',
    component: () => import('./views/RunView.vue'),
    meta: { directRun: true },
  },
  {
    path: '/user/:ownername/runs/:runnumber(\\d+)/tasks/:taskid',
    name: 'user-run-task',
    component: () => import('./views/TaskView.vue'),
    meta: { directRun: true },
  },
  // projects
  { path: `${PROJECT}`, name: 'project', component: () => import('./views/ProjectView.vue') },
  {
    path: `${PROJECT}/settings`,
    name: 'project-settings',
    component: () => import('./views/ProjectSettingsView.vue'),
  },
  {
    path: `${PROJECT}/runs/:runnumber(\\d+)`,
    name: 'project-run',
    component: () => import('./views/RunView.vue'),
  },
  {
    path: `${PROJECT}/runs/:runnumber(\\d+)/tasks/:taskid`,
    name: 'project-run-task',
    component: () => import('./views/TaskView.vue'),
  },
  // project groups (the root group is the owner page)
  {
    path: `${GROUP}`,
    name: 'project-group',
    component: () => import('./views/ProjectGroupView.vue'),
  },
  {
    path: `${GROUP}/settings`,
    name: 'project-group-settings',
    component: () => import('./views/ProjectGroupSettingsView.vue'),
  },
  {
    path: `${OWNER}/newproject`,
    name: 'new-project',
    component: () => import('./views/NewProjectView.vue'),
  },
  {
    path: `${OWNER}/settings`,
    name: 'owner-settings',
    component: () => import('./views/ProjectGroupSettingsView.vue'),
  },
  { path: `${OWNER}`, name: 'owner', component: () => import('./views/ProjectGroupView.vue') },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('./views/NotFoundView.vue'),
    meta: { public: true },
  },
];

/**
 * Creates the router (history mode: the gateway answers index.html for every page path).
 * Pages need a login unless their route says `meta.public`; a 401 from the API sends the
 * user to the login page, back to where they were after logging in.
 */
export function createAppRouter(history: RouterHistory = createWebHistory()): Router {
  const router = createRouter({ history, routes });
  router.beforeEach((to) => {
    if (to.meta['public'] === true || storedCredential()) return true;
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  });
  setUnauthorizedHandler(() => {
    resetSession();
    const here = router.currentRoute.value;
    if (here.meta['public'] === true) return;
    void router.push({ name: 'login', query: { redirect: here.fullPath, expired: '1' } });
  });
  return router;
}
