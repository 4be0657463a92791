/** The device simulator's own XML reader and writer, shipped in src/simulator; tests keep importing it from here. */
export * from '../../src/simulator/sim-xml.ts';
