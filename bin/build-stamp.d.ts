// Types of bin/build-stamp.js (plain JavaScript: it runs before tsx is loaded), for the tests and benchmarks.
export declare const ROOT: string;
export declare const DIST: string;
export declare const STAMP: string;
export declare const COMPILED_CLI: string;
export declare function sourceDigest(root?: string): string;
export declare function stampedDigest(root?: string): string | undefined;
export declare function buildState(root?: string): 'current' | 'stale' | 'missing';
export declare function build(root?: string): number;
