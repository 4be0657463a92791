import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { deviceActionConformance } from './device-actions-conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'openmam-device-actions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

deviceActionConformance('sqlite', () => openStore(`sqlite:${path.join(dir, 'openmam.sqlite')}`));
