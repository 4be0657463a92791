import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { healthAttestationConformance } from './health-attestation-conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'openmam-attest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

healthAttestationConformance('sqlite', () => openStore(`sqlite:${path.join(dir, 'openmam.sqlite')}`));
