import { createHash } from 'node:crypto';
import { Hono } from 'hono';

/**
 * The stylesheet and the live-update script, kept as strings in the module so
 * they ship in dist/ with the compiled code (the build is plain tsc, which
 * copies no other files) and no CDN is ever asked.
 */
const CSS = `:root { color-scheme: light dark; --bg: #fff; --fg: #1a1a1a; --muted: #555; --line: #ccc; --ok: #0a6b2c; --bad: #a4161a; --warn: #8a5300; --accent: #0b4f9c; --cell: #f4f4f4; }
@media (prefers-color-scheme: dark) { :root { --bg: #121212; --fg: #eee; --muted: #bbb; --line: #444; --ok: #6fdc8c; --bad: #ff8a8a; --warn: #ffc266; --accent: #8ab4f8; --cell: #1e1e1e; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; text-decoration: none; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: none; }
.signout { margin-left: auto; }
main { padding: 1rem; max-width: 80rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--cell); }
.status, .verdict { font-weight: 600; }
.s-up, .ok { color: var(--ok); }
.s-down, .bad { color: var(--bad); }
.s-degraded, .s-unknown, .unknown, .warn { color: var(--warn); }
.notice { padding: .5rem .75rem; border: 1px solid currentColor; }
form.inline { display: inline-flex; gap: .25rem; align-items: center; margin: 0 .25rem .25rem 0; }
button, input, select, textarea { font: inherit; }
button { padding: .2rem .6rem; }
input[type="number"] { width: 5rem; }
label { margin-right: .25rem; }
.login { max-width: 24rem; margin: 4rem auto; padding: 1rem; }
.login input { width: 100%; margin: .25rem 0 .75rem; padding: .4rem; }
svg.chart { display: block; width: 100%; max-width: 36rem; height: 4rem; }
svg.chart rect.ok { fill: var(--ok); } svg.chart rect.bad { fill: var(--bad); } svg.chart rect.none { fill: var(--line); }
.muted { color: var(--muted); }
textarea { width: 100%; max-width: 40rem; }
`;

const JS = `// Live status: the server pushes status changes; cells marked data-status follow them.
(function () {
  if (!('EventSource' in window) || !document.querySelector('[data-status]')) return;
  var source = new EventSource('/ui/events/stream');
  source.addEventListener('status', function (e) {
    var change;
    try { change = JSON.parse(e.data); } catch (err) { return; }
    var cells = document.querySelectorAll('[data-status]');
    for (var i = 0; i < cells.length; i++) {
      var cell = cells[i];
      if (cell.getAttribute('data-status') !== change.key) continue;
      cell.textContent = change.status;
      cell.className = 'status s-' + change.status;
    }
  });
})();
`;

export const ASSET_VERSION = createHash('sha256').update(CSS).update(JS).digest('hex').slice(0, 12);

const ASSETS: Record<string, { body: string; type: string }> = {
  'dashboard.css': { body: CSS, type: 'text/css; charset=utf-8' },
  'live.js': { body: JS, type: 'text/javascript; charset=utf-8' },
};

export function assetRoutes(): Hono {
  const app = new Hono();
  app.get('/:name', (c) => {
    const asset = ASSETS[c.req.param('name')];
    if (!asset) return c.text('not found', 404);
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' });
  });
  return app;
}
