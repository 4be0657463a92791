import { devicePictureEndToEnd } from './device-picture-suite.ts';

devicePictureEndToEnd('sqlite');
