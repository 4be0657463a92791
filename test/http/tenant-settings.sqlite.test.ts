import { tenantSettingsEndToEnd } from './tenant-settings-suite.ts';

tenantSettingsEndToEnd('sqlite');
