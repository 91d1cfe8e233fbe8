// The one HTML page of the dashboard and the report. Live, it links its assets from the
// dashboard server; as a report, it carries them inline with the runs' data, so the file opens
// offline and on another machine.
import { type PageAsset, pageAssets, readAsset } from './page-assets.js';
import type { PageData } from './page-data.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Inside <script> and <style> elements only the sequence "</" can end the element early, and
// "<!--" can start an HTML comment state: both are broken up here (valid JS and CSS either way,
// since these appear in uPlot and our code only inside strings, if at all).
function inlineSafe(text: string): string {
  return text.replace(/<\/(script|style)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

// The report may run only its own inline code and may load nothing from anywhere.
const REPORT_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

function body(title: string): string {
  return `<header>
<h1>${escapeHtml(title)}</h1>
<div id="runs"></div>
<div class="controls">
<label>smoothing <input id="smoothing" type="range" min="0" max="0.99" step="0.01"> <span id="smoothing-value"></span></label>
<label>x axis <select id="x-axis"><option value="step">step</option><option value="tokens">tokens</option></select></label>
<span id="connection"></span>
</div>
</header>
<main id="charts"></main>
<p id="empty" hidden></p>
<div id="details"></div>`;
}

/** The dashboard's page: assets linked from the server. */
export function livePageHtml(title: string): string {
  const { styles, scripts } = pageAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
${styles.map((s) => `<link rel="stylesheet" href="${s.path}">`).join('\n')}
</head>
<body>
${body(title)}
${scripts.map((s) => `<script src="${s.path}"></script>`).join('\n')}
</body>
</html>
`;
}

/** A self-contained page: every asset and the data inline. */
export async function reportPageHtml(title: string, data: PageData): Promise<string> {
  const { styles, scripts } = pageAssets();
  const inline = async (assets: PageAsset[], tag: 'style' | 'script') =>
    (await Promise.all(assets.map(readAsset))).map((text) => `<${tag}>\n${inlineSafe(text)}\n</${tag}>`).join('\n');
  // JSON in a data block: escaping "<" keeps any "</script>" in run names or configs inert.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<title>${escapeHtml(title)}</title>
${await inline(styles, 'style')}
</head>
<body>
${body(title)}
<script type="application/json" id="alpha-dpo-data">${json}</script>
${await inline(scripts, 'script')}
</body>
</html>
`;
}
