/** The Windows device simulator ships in src/simulator (`openmam simulate`); tests keep importing it from here. */
export * from '../../src/simulator/device-simulator.ts';
