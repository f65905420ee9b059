import { Hono, type Context } from 'hono';
import { errorMessage, isBulwarkError } from '../core/errors.js';
import { assetRoutes } from './assets.js';
import type { DashboardDeps } from './deps.js';
import { BASE, csrfRefusal, securityHeaders, sessionRefusal, type DashEnv } from './guard.js';
import { html, noticeOf, page, shell, type Html } from './html.js';
import { LiveStatus } from './live.js';
import { loginRoutes, logoutRoute } from './login.js';
import { backupActions, backupsBody } from './pages/backups.js';
import { confirmBody, databaseActions, databasesBody } from './pages/databases.js';
import { eventsBody } from './pages/events.js';
import { idOf, incidentActions, incidentBody, incidentsBody } from './pages/incidents.js';
import { overviewBody } from './pages/overview.js';
import { planBody } from './pages/plan.js';
import { serviceActions, servicesBody } from './pages/services.js';
import { SessionStore } from './sessions.js';

export type { DashboardDeps, StatusEvents, Switchover } from './deps.js';
export { etcdSwitchover } from './switchover.js';

/**
 * The operator dashboard, mounted at /ui on the admin listener outside the
 * API's token guard: it signs in with a token into a session of its own.
 * Server-rendered pages; the one script only follows live status changes.
 */
export function dashboardRoutes(deps: DashboardDeps): Hono {
  const sessions = new SessionStore(deps.now);
  const live = new LiveStatus(deps.bus, deps.stopping);
  const app = new Hono<DashEnv>();
  app.use('*', securityHeaders());
  app.route('/static', assetRoutes());
  app.route('/', loginRoutes(deps, sessions));
  // One guard for everything else; sub-apps' own '*' middleware would also reach /login once mounted.
  app.use('*', async (c, next) => {
    if (isOpen(c.req.path)) return next();
    const refused = sessionRefusal(sessions, c) ?? (await csrfRefusal(c, c.get('session').csrf));
    if (refused) return refused;
    await next();
  });
  for (const actions of [logoutRoute(deps, sessions), serviceActions(deps), backupActions(deps), incidentActions(deps), databaseActions(deps)]) app.route('/', actions);
  pages(app, deps);
  app.get('/events/stream', (c) => {
    const id = c.get('session').id;
    return live.stream(c, () => sessions.alive(id));
  });
  app.onError((err, c) => errorPage(c, err, deps));
  return app as unknown as Hono;
}

function isOpen(path: string): boolean {
  return path === `${BASE}/login` || path.startsWith(`${BASE}/static/`);
}

function pages(app: Hono<DashEnv>, deps: DashboardDeps): void {
  const view = (title: string, current: string, body: (c: Context<DashEnv>) => Html | Promise<Html>) => async (c: Context<DashEnv>) =>
    c.html(page({ title, current, session: c.get('session'), notice: noticeOf((q) => c.req.query(q)) }, await body(c)));
  app.get('/', view('Overview: promises and evidence', '', () => overviewBody(deps)));
  app.get('/services', view('Services', '/services', (c) => servicesBody(deps, c.get('session'))));
  app.get('/databases', view('Databases', '/databases', () => databasesBody(deps)));
  app.get('/databases/:name/switchover', view('Confirm the switchover', '/databases', (c) => confirmBody(c.req.param('name') ?? '', c.req.query('to') ?? '', c.get('session'))));
  app.get('/backups', view('Backups', '/backups', (c) => backupsBody(deps, c.get('session'))));
  app.get('/incidents', view('Incidents', '/incidents', () => incidentsBody(deps)));
  app.get('/incidents/:id', async (c) => {
    const detail = await deps.incidents.detail(idOf(c.req.param('id')));
    return c.html(page({ title: `Incident #${detail.incident.id}: ${detail.incident.title}`, current: '/incidents', session: c.get('session'), notice: noticeOf((q) => c.req.query(q)) }, incidentBody(detail, c.get('session'))));
  });
  app.get('/plan', view('Availability plan', '/plan', () => planBody(deps)));
  app.get('/events', view('Events', '/events', () => eventsBody(deps)));
}

function errorPage(c: Context, err: unknown, deps: DashboardDeps): Response | Promise<Response> {
  const code = isBulwarkError(err) ? err.code : 'INTERNAL';
  const status = code === 'NOT_FOUND' ? 404 : code === 'BAD_REQUEST' ? 400 : 500;
  if (status === 500) deps.log.error({ err: errorMessage(err), path: c.req.path }, 'dashboard page failed');
  const text = status === 500 ? 'Something failed; see the daemon log.' : errorMessage(err);
  return c.html(shell('Error', html`<main id="main"><h1>${status === 404 ? 'Not found' : 'Error'}</h1><p>${text}</p><p><a href="${BASE}">Back to the overview</a></p></main>`), status);
}
