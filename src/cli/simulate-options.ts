/** The flags and usage of `openmam simulate` (simulate.ts), apart so that other commands need not load the simulator. */
export const SIMULATE_OPTIONS = {
  server: { type: 'string' },
  devices: { type: 'string' },
  apps: { type: 'string' },
  duration: { type: 'string' },
  speed: { type: 'string' },
  seed: { type: 'string' },
  'ca-file': { type: 'string' },
  'no-setup': { type: 'boolean' },
} as const;

export const SIMULATE_USAGE = `  simulate [options]         Simulated Windows devices (MAM enrollment, OMA-DM) and managed apps (the SDK) against a
                             running server, with a threat defense connector and a gateway: a live console without
                             Windows. Needs the server's built-in identity provider and data folder (same machine)
      --server <url>         The running server (default: the public URL)
      --tenant <guid>        A tenant of the built-in identity provider (default: the default tenant)
      --devices <N>          Devices enrolled over OMA-DM (default 10)
      --apps <N>             Managed apps, spread over the devices (default 20)
      --duration <time>      Stop after this long: seconds, or with s/m/h/d (default: until Ctrl-C)
      --speed <x>            Simulated seconds per second (default 60: a 30-minute check-in every 30 s)
      --seed <n>             Same seed, same fleet (default 1)
      --ca-file <pem>        The server's certificate to trust (default: <data-dir>/tls/cert.pem when it exists)
      --no-setup             Do not create the demo objects (apps, connector, policies) through the admin API`;
