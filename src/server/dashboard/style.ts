/** The dashboard's style: light and dark (the system's choice, or `data-theme`), visible focus. */
export const DASHBOARD_STYLE = `
:root { --bg: #fbfbfd; --fg: #1d1d22; --muted: #5d5d6b; --card: #ffffff; --line: #d7d7e0; --accent: #3b5bdb; --ok: #2b8a3e; --bad: #c92a2a; --warn: #e67700; color-scheme: light; }
@media (prefers-color-scheme: dark) { :root:not([data-theme=light]) { --bg: #15161a; --fg: #e9e9ef; --muted: #a2a2b3; --card: #1f2026; --line: #3a3b45; --accent: #91a7ff; --ok: #69db7c; --bad: #ff8787; --warn: #ffc078; color-scheme: dark; } }
:root[data-theme=dark] { --bg: #15161a; --fg: #e9e9ef; --muted: #a2a2b3; --card: #1f2026; --line: #3a3b45; --accent: #91a7ff; --ok: #69db7c; --bad: #ff8787; --warn: #ffc078; color-scheme: dark; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 1.2rem; margin: 0; }
nav { display: flex; gap: .3rem; }
button { font: inherit; color: inherit; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .3rem .7rem; cursor: pointer; }
button[aria-pressed=true] { border-color: var(--accent); color: var(--accent); font-weight: 600; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
main { padding: 1rem 1.2rem; }
#cast { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .8rem; }
.card h2 { font-size: 1.05rem; margin: 0; }
.muted { color: var(--muted); font-size: .85rem; margin: .2rem 0; }
.chip { display: inline-block; border: 1px solid var(--line); border-radius: 99px; padding: 0 .5rem; margin: .1rem; font-size: .85rem; }
.chip.stale, .stale { border-color: var(--warn); color: var(--warn); }
svg text { fill: var(--fg); font-size: 11px; }
.radar { width: 100%; max-width: 220px; display: block; margin: auto; }
.radar .ring { fill: none; stroke: var(--line); } .radar .axis { stroke: var(--line); }
.radar .shape { fill: color-mix(in srgb, var(--accent) 35%, transparent); stroke: var(--accent); stroke-width: 2; }
.graph, .timeline { width: 100%; max-width: 900px; background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
.node { fill: var(--bg); stroke: var(--line); } .node.agent { stroke: var(--accent); } .node.stale { stroke: var(--warn); stroke-width: 2; stroke-dasharray: 4 3; }
.edge { stroke: var(--muted); } .edge.stale { stroke: var(--warn); stroke-dasharray: 4 3; }
.bar.ok { fill: var(--ok); } .bar.failed { fill: var(--bad); } .bar.comp { fill: var(--warn); } .bar.comp.failed { fill: var(--bad); }
.order { fill: #111 !important; font-weight: 600; } .lane { font-style: italic; }
circle.circuit { fill: var(--bad); } circle.retry-scheduled { fill: var(--warn); }
#run-list ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem; }
.run.failed, .run.compensated { border-color: var(--bad); } .run.completed { border-color: var(--ok); }
textarea { width: 100%; max-width: 900px; font: 13px ui-monospace, monospace; background: var(--card); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; }
.diff li.create { color: var(--ok); } .diff li.delete { color: var(--bad); } .diff li.update { color: var(--warn); }
.error { color: var(--bad); }
table { border-collapse: collapse; } td, th { border-bottom: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
`;
