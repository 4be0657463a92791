import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { appProtectionConformance } from './app-protection-conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'openmam-app-protection-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A file, not :memory:, so that the suite's second store (close() test) opens the same database.
appProtectionConformance('sqlite', () => openStore(`sqlite:${path.join(dir, 'openmam.sqlite')}`));
