import { escapeHtml } from './dashboard/escape.js';

type Operation = {
  summary?: string;
  'x-scope'?: string;
  parameters?: Array<{ name: string; in: string; description?: string }>;
};

/** The API reference page: each route of the OpenAPI document, its scope and its parameters. */
export function referencePage(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const rows = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const params = (op.parameters ?? [])
          .map(
            (p) =>
              `<code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)})${p.description ? `: ${escapeHtml(p.description)}` : ''}`,
          )
          .join('<br>');
        return `<tr><td><code>${method.toUpperCase()}</code></td><td><code>/api${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? '')}</td><td>${escapeHtml(op['x-scope'] ?? '')}</td><td>${params}</td></tr>`;
      }),
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Troupe API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/dashboard.css"></head>
<body><main><h1>Troupe API reference</h1>
<p>Every route takes <code>Authorization: Bearer &lt;token&gt;</code> when the server has one; <em>read</em> routes take a read-only token too.
The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Revisions are ETags: send <code>If-Match</code> to compare-and-swap; a mismatch answers 412 with what changed. <code>If-None-Match</code> with the tag held makes a read answer 304; a write refuses it (400).</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th><th>Scope</th><th>Parameters</th></tr></thead><tbody>
${rows}
</tbody></table></main></body></html>`;
}
