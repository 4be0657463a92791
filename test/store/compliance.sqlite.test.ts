import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { complianceConformance } from './compliance-conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'openmam-compliance-'));
after(() => rmSync(dir, { recursive: true, force: true }));

complianceConformance('sqlite', () => openStore(`sqlite:${path.join(dir, 'openmam.sqlite')}`));
