import { postgresSkipReason } from '../support/postgres.ts';
import { tenantSettingsEndToEnd } from './tenant-settings-suite.ts';

tenantSettingsEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end tenant settings tests'));
