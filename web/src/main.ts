// The entry point: a tiny router that picks the page by the path. Every
// page is a full load (the server answers each page's path with this
// document), so there is no client-side history to keep.

import './style.css';
import { basePath } from './api';
import { dashboardsPage } from './dashboards';
import { queryPage } from './query';
import {
  alertGroupsPage, alertsPage, configPage, flagsPage, pluginsPage, rulesPage, serviceDiscoveryPage, silencesPage, statusPage, targetsPage, tsdbPage,
} from './pages';

type Page = (root: HTMLElement) => void | Promise<void>;

/** routes maps a path to its page, and the title of the browser tab. */
const routes: Record<string, [string, Page]> = {
  '/': ['Query', queryPage],
  '/query': ['Query', queryPage],
  '/graph': ['Query', queryPage],
  '/targets': ['Targets', targetsPage],
  '/service-discovery': ['Service discovery', serviceDiscoveryPage],
  '/rules': ['Rules', rulesPage],
  '/alerts': ['Alerts', alertsPage],
  '/alert-groups': ['Alert groups', alertGroupsPage],
  '/silences': ['Silences', silencesPage],
  '/status': ['Status', statusPage],
  '/tsdb-status': ['TSDB status', tsdbPage],
  '/config': ['Configuration', configPage],
  '/flags': ['Flags', flagsPage],
  '/plugins': ['Plugins', pluginsPage],
  '/dashboards': ['Dashboards', dashboardsPage],
};

const root = document.getElementById('app')!;
// The page's path below the routes' prefix: /targets for /vigil/targets.
const below = location.pathname.startsWith(`${basePath}/`) ? location.pathname.slice(basePath.length) : location.pathname;
const path = below.replace(/\/+$/, '') || '/';
const [title, page] = routes[path.startsWith('/dashboards/') ? '/dashboards' : path] ?? ['Not found', (r: HTMLElement) => { r.textContent = `No page at ${path}.`; }];
document.title = `${title} · Vigil`;
for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
  const target = `/${a.getAttribute('href')}`;
  if (target === path || (target === '/dashboards' && path.startsWith('/dashboards/')) || (target === '/query' && routes[path]?.[1] === queryPage)) a.classList.add('active');
}
void page(root);
