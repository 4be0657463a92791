import { randomUUID } from 'node:crypto';
import { locUriProblem, normalizeLocUri } from '../../csp/loc-uri.ts';
import { mamRefusal } from '../../csp/mam-allow-list.ts';
import { OpenMamError } from '../../errors.ts';
import type { ConfigurationSetRecord, ConfigurationTarget, DesiredSetting } from '../../store/records.ts';
import type { ConfigurationStore } from '../../store/roles.ts';

/** SyncML Meta Formats a setting may have (`node`: an interior node added without Data; `null`: an exec setting's). */
const FORMATS: ReadonlySet<string> = new Set(['chr', 'int', 'bool', 'b64', 'xml', 'float', 'date', 'time', 'null', 'node']);

export interface RefusedSetting {
  locUri: string;
  reason: string;
}

export interface SetInput {
  tenantId: string;
  id?: string;
  name: string;
  target: ConfigurationTarget;
  settings: readonly DesiredSetting[];
}

export interface PutSetResult {
  set: ConfigurationSetRecord;
  version: number;
  /** Settings kept in the set but never sent: outside the MAM allow-list. Shown to the admin. */
  refused: RefusedSetting[];
}

/**
 * Configuration sets: the desired state devices are brought to. Policies compile into these; tests and tools use
 * this API directly. Assigning is O(1): it stores the set and bumps the tenant's configuration version; devices
 * pick the difference up at their next check-in.
 */
export class ConfigurationService {
  constructor(
    private readonly store: ConfigurationStore,
    private readonly clock: () => number,
  ) {}

  async putSet(input: SetInput): Promise<PutSetResult> {
    const set = this.record(input);
    const refused: RefusedSetting[] = [];
    for (const setting of set.settings) {
      const reason = mamRefusal(setting.locUri);
      if (reason !== undefined) refused.push({ locUri: setting.locUri, reason });
    }
    const version = await this.store.putConfigurationSet(set);
    return { set, version, refused };
  }

  /** The set as it would be stored (settings checked, LocURIs normalised), for a writer that stores it with its own change. */
  record(input: SetInput): ConfigurationSetRecord {
    const now = this.clock();
    return {
      id: input.id ?? randomUUID(),
      tenantId: input.tenantId,
      name: input.name,
      target: input.target,
      settings: input.settings.map(checkSetting),
      createdAt: now,
      updatedAt: now,
    };
  }

  async deleteSet(tenantId: string, id: string): Promise<void> {
    if (!(await this.store.deleteConfigurationSet(tenantId, id, this.clock()))) {
      throw new OpenMamError('not_found', `configuration set ${id} does not exist`);
    }
  }
}

function checkSetting(setting: DesiredSetting): DesiredSetting {
  const locUri = normalizeLocUri(setting.locUri);
  const problem = locUriProblem(locUri);
  if (problem !== undefined) throw new OpenMamError('malformed_request', `LocURI "${setting.locUri}" ${problem}`);
  if (!FORMATS.has(setting.format)) throw new OpenMamError('malformed_request', `format "${setting.format}" of ${locUri} is not a SyncML format`);
  return { ...setting, locUri };
}
