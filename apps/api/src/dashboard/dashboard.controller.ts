import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Public } from '../auth/api-key.guard';
import { apiError } from '../common/error.filter';
import type { HttpReply } from '../common/http-server';

/** Finds apps/api/dashboard walking up from this file (works from sources and from dist/). */
function dashboardDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'apps', 'api', 'dashboard');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.resolve(process.cwd(), 'apps', 'api', 'dashboard');
}

/** Chart.js' UMD build from node_modules (its package exports do not list it; its main file sits beside it). */
function chartJsFile(): string {
  return path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

// The page loads nothing but its own files and talks to nothing but this API.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * GET /dashboard: the analysts' page, static files served by the API itself (no build
 * step, no separate server). The files are public; the data behind them needs an
 * analyst key, which the page asks for.
 */
@ApiExcludeController()
@Public()
@Controller('dashboard')
export class DashboardController {
  private readonly files: Record<string, string>;
  private readonly cache = new Map<string, Buffer>();

  constructor() {
    const dir = dashboardDir();
    this.files = {
      'index.html': path.join(dir, 'index.html'),
      'dashboard.js': path.join(dir, 'dashboard.js'),
      'dashboard.css': path.join(dir, 'dashboard.css'),
      'chart.umd.min.js': chartJsFile(),
    };
  }

  @Get()
  page(@Res() reply: HttpReply): void {
    this.send(reply, 'index.html');
  }

  @Get(':file')
  asset(@Param('file') file: string, @Res() reply: HttpReply): void {
    if (!Object.prototype.hasOwnProperty.call(this.files, file) || file === 'index.html') throw apiError(404, 'not_found', 'no such dashboard file');
    this.send(reply, file);
  }

  private send(reply: HttpReply, name: string): void {
    let body = this.cache.get(name);
    if (!body) {
      try {
        body = fs.readFileSync(this.files[name]);
      } catch {
        throw apiError(404, 'not_found', `dashboard file ${name} is missing from this installation`);
      }
      this.cache.set(name, body);
    }
    reply.header('Content-Type', TYPES[path.extname(name)] ?? 'application/octet-stream');
    reply.header('Content-Security-Policy', CSP);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cache-Control', name === 'chart.umd.min.js' ? 'public, max-age=86400' : 'no-cache');
    void reply.send(body);
  }
}
