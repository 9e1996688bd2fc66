/** The embedded demo: simulated sites behind the proxy (wired once the simulator lands). */
export async function runDemo(): Promise<void> {
  throw new Error('the embedded demo is not available yet; pass --config-file');
}
