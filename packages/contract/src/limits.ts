/** The bounds of the wire contract, declared once: the schemas and the server's own readers both use them. */

/** Most text the service takes from a device or connector (names, tags, versions held). */
export const MAX_TEXT = 256;
/** The largest token a gateway passes on (Entra access tokens with many groups run to a few KiB). */
export const MAX_TOKEN_LENGTH = 16_384;
/** Health-check failures an app reports at once: there are eleven version checks, a few more kinds at most. */
export const MAX_HEALTH_CHECK_FAILURES = 32;
/** The detail an app gives with an action result. */
export const MAX_RESULT_DETAIL = 2048;
/** An IPv6 address with a zone is well below this. */
export const MAX_IP_ADDRESS = 64;
