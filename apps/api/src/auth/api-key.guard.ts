import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Request } from 'express';
import type { AppConfig } from '@loyalty/config';
import { apiError } from '../common/error.filter';
import { CONFIG } from '../infrastructure/tokens';

export type Role = 'reader' | 'writer' | 'analyst' | 'operator' | 'admin';
export const ROLE_KEY = 'loyalty:role';
/** The least role a route needs (CONTRACT: reader < writer, analyst, operator < admin). */
export const RequiresRole = (role: Role) => SetMetadata(ROLE_KEY, role);
export const Public = () => SetMetadata(ROLE_KEY, 'public');

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer API keys. This first cut knows one key, the bootstrap admin key
 * (LOYALTY_BOOTSTRAP_API_KEY); keys stored hashed per role come with the keys command.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly bootstrap?: Buffer;

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) config: AppConfig,
  ) {
    this.bootstrap = config.http.bootstrapApiKey ? digest(config.http.bootstrapApiKey) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const role = this.reflector.getAllAndOverride<string | undefined>(ROLE_KEY, [context.getHandler(), context.getClass()]);
    if (role === 'public' || role === undefined) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw apiError(401, 'unauthorized', 'missing bearer API key (Authorization: Bearer <key>)');
    if (!this.bootstrap || !timingSafeEqual(digest(match[1]), this.bootstrap)) {
      throw apiError(401, 'unauthorized', 'unknown API key');
    }
    return true; // the bootstrap key is an admin: every role
  }
}
