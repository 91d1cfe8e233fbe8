// The files the page is made of: uPlot (from the installed npm package, found at run time, never
// a CDN) and the page's own script and style (src/report/browser/, shipped with the package).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PageAsset {
  /** The URL path the dashboard serves it at. */
  path: string;
  /** Where it is read from. */
  file: string;
  contentType: string;
}

// Two levels up from src/report/ (under tsx) and from dist/report/ (built): the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const browserDir = join(packageRoot, 'src', 'report', 'browser');

function uplotDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
  } catch {
    throw new Error("the 'uplot' package is not installed: run npm install in the alpha-dpo folder");
  }
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Styles, then scripts in load order. */
export function pageAssets(): { styles: PageAsset[]; scripts: PageAsset[] } {
  const uplot = join(uplotDir(), 'dist');
  return {
    styles: [
      { path: '/assets/uPlot.min.css', file: join(uplot, 'uPlot.min.css'), contentType: CSS },
      { path: '/assets/dashboard.css', file: join(browserDir, 'dashboard.css'), contentType: CSS },
    ],
    scripts: [
      { path: '/assets/uPlot.iife.min.js', file: join(uplot, 'uPlot.iife.min.js'), contentType: JS },
      { path: '/assets/series-math.js', file: join(browserDir, 'series-math.js'), contentType: JS },
      { path: '/assets/dashboard.js', file: join(browserDir, 'dashboard.js'), contentType: JS },
    ],
  };
}

export async function readAsset(asset: PageAsset): Promise<string> {
  return readFile(asset.file, 'utf8');
}
