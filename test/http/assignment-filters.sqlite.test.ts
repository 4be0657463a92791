import { assignmentFiltersEndToEnd } from './assignment-filters-suite.ts';

assignmentFiltersEndToEnd('sqlite');
