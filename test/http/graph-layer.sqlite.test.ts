import { graphLayerEndToEnd } from './graph-layer-suite.ts';

graphLayerEndToEnd('sqlite');
