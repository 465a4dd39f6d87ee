import { randomBytes } from 'node:crypto';
import { BadRequestException, Injectable, NotFoundException, type OnModuleInit } from '@nestjs/common';
import type { PolicyDocument, PolicyPreview, PolicyView, PreviewPolicy } from '@portcullis/api';
import {
  analyzeSql,
  compilePolicy,
  createMaskContext,
  decide,
  formatPath,
  init,
  maskContextFor,
  maskText,
  PolicySchema,
  type CompiledPolicy,
} from '@portcullis/policy';
import { AuditService } from '../audit/audit.service.js';
import { actorName, type AuthenticatedUser } from '../auth/decorators.js';
import { AppConfig } from '../config/app-config.js';
import { ConfigChangesService } from '../config-stream/config-changes.service.js';
import type { Prisma } from '../generated/prisma/client.js';
import { DEFAULT_POLICY } from './default-policy.js';

/**
 * The `hash` style in previews uses a key of its own, new at every start: with the agents' key,
 * anyone allowed to preview could hash candidate values (an SSN has only a billion) and match
 * them against the hashes in recordings.
 */
const PREVIEW_HASH_KEY = randomBytes(32).toString('hex');
import { PoliciesRepository } from './policies.repository.js';

type Row = NonNullable<Awaited<ReturnType<PoliciesRepository['find']>>>;

const DEFAULT_VIEW: PolicyView = {
  version: 0,
  policy: DEFAULT_POLICY as PolicyDocument,
  createdAt: null,
  createdBy: null,
  restoredFrom: null,
};

/**
 * The policy agents enforce: versioned (every change is a new immutable version, the newest is in
 * force), validated with the policy engine itself, pushed to agents through ConfigChangesService.
 */
@Injectable()
export class PoliciesService implements OnModuleInit {
  constructor(
    private readonly repository: PoliciesRepository,
    private readonly changes: ConfigChangesService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /** The SQL parser (WASM) loads once, before any preview. */
  onModuleInit(): Promise<void> {
    return init();
  }

  async current(): Promise<PolicyView> {
    const row = await this.repository.latest();
    return row ? view(row) : DEFAULT_VIEW;
  }

  async versions(): Promise<PolicyView[]> {
    return [...(await this.repository.list()).map(view), DEFAULT_VIEW];
  }

  async version(version: number): Promise<PolicyView> {
    if (version === 0) return DEFAULT_VIEW;
    const row = Number.isSafeInteger(version) && version > 0 ? await this.repository.find(version) : null;
    if (!row) throw new NotFoundException(`policy version ${version} does not exist`);
    return view(row);
  }

  /** A new version; a document the engine rejects is a 400 naming each field, and changes nothing. */
  async update(document: PolicyDocument, user: AuthenticatedUser): Promise<PolicyView> {
    const { version: _ignored, ...body } = document;
    validate(body);
    const row = await this.changes.apply(async (tx) => {
      const row = await this.repository.append(tx, {
        document: body as Prisma.InputJsonValue,
        createdBy: actorName(user),
        restoredFrom: null,
      });
      await this.audit.record(
        { actor: actorName(user), action: 'policy.update', target: `policy:${row.version}`, details: { version: row.version } },
        tx,
      );
      return row;
    });
    return view(row);
  }

  /** A new version equal to an older one (0: the built-in default). */
  async rollback(version: number, user: AuthenticatedUser): Promise<PolicyView> {
    const source = await this.version(version);
    const row = await this.changes.apply(async (tx) => {
      const row = await this.repository.append(tx, {
        document: source.policy as Prisma.InputJsonValue,
        createdBy: actorName(user),
        restoredFrom: version,
      });
      await this.audit.record(
        {
          actor: actorName(user),
          action: 'policy.rollback',
          target: `policy:${row.version}`,
          details: { version: row.version, restoredFrom: version },
        },
        tx,
      );
      return row;
    });
    return view(row);
  }

  /** The decision, its explanation and the masked text, from the same engine the agents run. */
  async preview(input: PreviewPolicy): Promise<PolicyPreview> {
    let version: number;
    let compiled: CompiledPolicy;
    if (input.policy) {
      const { version: _ignored, ...body } = input.policy;
      validate(body);
      version = 0;
      compiled = compilePolicy({ ...body, version } as never);
    } else {
      const current = await this.current();
      version = current.version;
      compiled = compilePolicy({ ...current.policy, version } as never);
    }
    const hashKey = PREVIEW_HASH_KEY;
    const identity = { subject: input.subject, groups: input.groups };
    const sql = input.sql !== undefined ? analyzeSql(input.sql) : undefined;
    const decision =
      sql || input.http
        ? decide({ connection: input.connection, identity, sql, http: input.http }, compiled, new Date())
        : undefined;
    let masked: PolicyPreview['masked'] = null;
    if (input.text !== undefined) {
      const ctx = decision
        ? maskContextFor(compiled, decision, hashKey)
        : createMaskContext({ scanner: compiled.scanner, style: compiled.policy.masking.style, hashKey });
      const result = ctx && decision?.action !== 'block' ? maskText(input.text, ctx) : { text: input.text, findings: [] };
      masked = { text: result.text, findings: result.findings.map(({ entity, start, end }) => ({ entity, start, end })) };
    }
    return {
      decision: decision
        ? {
            action: decision.action,
            reason: decision.reason ?? null,
            ruleId: decision.ruleId ?? null,
            ruleIds: decision.ruleIds,
            policyVersion: decision.policyVersion,
          }
        : null,
      explanation: (decision?.considered ?? []).map((c) => ({
        ruleId: c.ruleId,
        statement: c.statement ?? null,
        matched: c.matched,
        why: c.why,
      })),
      masked,
    };
  }
}

/** 400 with one issue per problem, each naming its field (e.g. `detectors.custom[0].pattern`). */
function validate(document: Record<string, unknown>): void {
  const result = PolicySchema.safeParse({ ...document, version: 0 });
  if (result.success) return;
  const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  throw new BadRequestException({
    message: `invalid policy: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  });
}

function view(row: Row): PolicyView {
  return {
    version: row.version,
    policy: row.document as PolicyDocument,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    restoredFrom: row.restoredFrom,
  };
}
