/** The dashboard's page: its script and style are files of their own, so a strict CSP holds. */
export const dashboardPage = (): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Troupe</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/dashboard.css"><script type="module" src="/dashboard.js"></script></head>
<body>
<header><h1>Troupe</h1>
<nav aria-label="views"><button data-view="cast" aria-pressed="true">Cast</button><button data-view="graph">Dependencies</button><button data-view="runs">Runs</button><button data-view="apply">Apply a bundle</button></nav>
<span id="live" role="status" aria-live="polite">connecting…</span>
<button id="theme" aria-label="switch light and dark">◐</button></header>
<form id="login" hidden><label>Token <input id="token" type="password" autocomplete="off"></label><button>Use</button></form>
<main>
<section id="cast" aria-label="cast"></section>
<section id="graph" aria-label="dependency graph" hidden></section>
<section id="runs" aria-label="workflow runs" hidden><div id="run-list"></div><div id="timeline"></div></section>
<section id="apply" aria-label="apply a bundle" hidden>
<label for="bundle">Bundle (JSON)</label><textarea id="bundle" rows="14" spellcheck="false">{"personalities": [], "roles": [], "agents": []}</textarea>
<p><button id="plan">Show the diff</button> <button id="do-apply" disabled>Apply</button></p><div id="diff"></div></section>
</main></body></html>
`;
