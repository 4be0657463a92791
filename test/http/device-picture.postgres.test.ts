import { postgresSkipReason } from '../support/postgres.ts';
import { devicePictureEndToEnd } from './device-picture-suite.ts';

devicePictureEndToEnd('postgres', await postgresSkipReason('PostgreSQL end-to-end device picture tests'));
