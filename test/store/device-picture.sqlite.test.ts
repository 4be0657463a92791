import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { openStore } from '../../src/store/open-store.ts';
import { devicePictureConformance } from './device-picture-conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'openmam-device-picture-'));
after(() => rmSync(dir, { recursive: true, force: true }));

devicePictureConformance('sqlite', () => openStore(`sqlite:${path.join(dir, 'openmam.sqlite')}`));
