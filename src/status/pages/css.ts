import { createHash } from 'node:crypto';

/**
 * The page's one stylesheet, served from /static/status.css (the CSP allows
 * no inline style). Colours meet WCAG AA against their background in both
 * schemes, and every colour comes with a text label.
 */
export const STATUS_CSS = `:root{color-scheme:light dark;--bg:#fff;--fg:#1a1a1a;--muted:#555;--line:#d8d8d8;--card:#f7f7f7;--link:#0645ad;
--ok:#1e7b34;--minor:#8a5a00;--major:#b3261e;--maint:#1f5fa8;--nodata:#c4c4c4;--ok-bar:#2e9b4a;--minor-bar:#e0a800;--major-bar:#d93025;--maint-bar:#4a86d4}
@media (prefers-color-scheme:dark){:root{--bg:#121417;--fg:#ececec;--muted:#b0b0b0;--line:#33373d;--card:#1b1e22;--link:#8ab4f8;
--ok:#7ddc8f;--minor:#ffd36b;--major:#ff8a80;--maint:#9cc3ff;--nodata:#4a4e55;--ok-bar:#3fb35c;--minor-bar:#e6b422;--major-bar:#f0544a;--maint-bar:#5b93dd}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--link)}
main,.top,.foot{max-width:52rem;margin:0 auto;padding:0 1rem}
.top{padding-top:1rem;padding-bottom:.5rem}
.brand{font-size:1.4rem;font-weight:700;text-decoration:none;color:var(--fg)}
h1{font-size:1.5rem;margin:.2rem 0}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:.2rem 0}
.overall{border-radius:.5rem;padding:1rem;margin:1rem 0;border-left:.5rem solid var(--ok);background:var(--card)}
.ind-minor{border-left-color:var(--minor)}.ind-major,.ind-critical{border-left-color:var(--major)}.ind-maintenance{border-left-color:var(--maint)}
.group{border:1px solid var(--line);border-radius:.5rem;padding:0 1rem .5rem;margin:1rem 0}
.comps{list-style:none;margin:0;padding:0}
.comp{padding:.6rem 0;border-top:1px solid var(--line)}
.comp:first-child{border-top:0}
.row{display:flex;justify-content:space-between;gap:1rem;margin:0 0 .3rem;flex-wrap:wrap}
.name{font-weight:600;overflow-wrap:anywhere}
.state{font-weight:600}
.st-operational{color:var(--ok)}.st-degraded_performance{color:var(--minor)}.st-partial_outage,.st-major_outage{color:var(--major)}.st-under_maintenance{color:var(--maint)}
.st-operational::before{content:"✓ "}.st-degraded_performance::before,.st-partial_outage::before{content:"! "}.st-major_outage::before{content:"✕ "}.st-under_maintenance::before{content:"⚙ "}
.bar{display:block;width:100%;height:2rem}
.bar .ok{fill:var(--ok-bar)}.bar .maint{fill:var(--maint-bar)}.bar .nodata{fill:var(--nodata)}.bar path{stroke-width:3}.bar .minor{stroke:var(--minor-bar)}.bar .major{stroke:var(--major-bar)}
.uptime{margin:.2rem 0 0;font-size:.9rem;color:var(--muted);text-align:right}
.axis{display:flex;justify-content:space-between;font-size:.8rem;color:var(--muted);margin:.2rem 0}
.legend{font-size:.85rem;color:var(--muted);display:flex;flex-wrap:wrap;gap:.3rem 1rem}
.key::before{content:"";display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.1rem;border-radius:2px}
.key.ok::before{background:var(--ok-bar)}.key.minor::before{background:var(--minor-bar)}.key.major::before{background:var(--major-bar)}.key.maint::before{background:var(--maint-bar)}.key.nodata::before{background:var(--nodata)}
.incident{border:1px solid var(--line);border-left:.4rem solid var(--minor);border-radius:.5rem;padding:.6rem 1rem;margin:.8rem 0;background:var(--card)}
.impact-major,.impact-critical{border-left-color:var(--major)}.impact-none{border-left-color:var(--line)}
.meta,.when{color:var(--muted);font-size:.9rem;margin:.2rem 0}
.tag{display:inline-block;border:1px solid currentColor;border-radius:1rem;padding:0 .5rem;font-size:.8rem;font-weight:600}
.updates{list-style:none;padding:0;margin:.5rem 0 0}
.updates li{border-top:1px solid var(--line);padding:.4rem 0}
.updates p{margin:0;overflow-wrap:anywhere}
.maintenance ul{padding-left:1.2rem}
.pager{display:flex;justify-content:space-between;margin:1.5rem 0}
.foot{color:var(--muted);font-size:.9rem;padding-top:1rem;padding-bottom:2rem;border-top:1px solid var(--line);margin-top:2rem}
@media (max-width:30rem){body{font-size:15px}.group{padding:0 .6rem .4rem}}
`;

/** In the stylesheet's URL, so that it can be cached for a year and still change with a release. */
export const STATUS_CSS_VERSION = createHash('sha256').update(STATUS_CSS).digest('hex').slice(0, 10);
