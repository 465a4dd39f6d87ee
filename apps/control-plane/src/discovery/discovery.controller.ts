import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/decorators.js';
import { AppConfig } from '../config/app-config.js';

/** Public client bootstrap: where to log in. Nothing here is secret. */
interface ClientDiscovery {
  issuer: string;
  audience: string;
  consoleClientId: string;
  cliClientId: string;
}

/**
 * Lets clients that know only the control plane's address find the identity provider: the CLI in
 * a CI job, and the console served from this process.
 */
@ApiTags('discovery')
@Public()
@Controller()
export class DiscoveryController {
  constructor(private readonly config: AppConfig) {}

  @Get('info')
  @ApiOperation({ summary: 'Identity provider and client ids for CLIs and consoles (no token needed)' })
  info(): ClientDiscovery {
    return {
      issuer: this.config.issuer,
      audience: this.config.audience,
      consoleClientId: 'portcullis-console',
      cliClientId: 'portcullis-cli',
    };
  }

  /** The console reads this at start (apps/console/src/config.ts). */
  @Get('console-config.json')
  consoleConfig(): { issuer: string; clientId: string } {
    return { issuer: this.config.issuer, clientId: 'portcullis-console' };
  }
}
