/** `run host.json --report`: an offline page with the host's chart and one chart per VM; the timeline names each decision's reason. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../../actors/cli/commands/run';
import { writeSmallHost } from './small-host';

describe('run host.json', () => {
  const { dir, file } = writeSmallHost('hv-host-report-');

  it('prints the decisions with their reasons and a row per VM; --report writes a chart per VM and one for the host', async () => {
    let out = '';
    const report = join(dir, 'r.html');
    await runCommand(file, { report }, { stdout: (t) => void (out += t), stderr: () => undefined });
    expect(out).toMatch(/^hv-balloon-sim: small host \(host 8\.00G, 2 VMs, policy hyperv\)\n/);
    expect(out).toMatch(/ web: target 2\.00G -> [\d.]+G \(demand [\d.]+G \+ 20% buffer\)\n/);
    expect(out).toMatch(/ idle: target 2\.00G -> 1\.00G \(demand [\d.]+M \+ 20% buffer; clamped to minimum 1G\)\n/);
    expect(out).toMatch(/\nweb +[\d.]+G +[\d.]+G +[\d.]+G +1\.00G +4\.00G +5000 +[\d.]+G\n/);
    const html = readFileSync(report, 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).toContain('<figcaption>host: total</figcaption>');
    expect(html).toContain('<figcaption>web: weight 5000');
    expect(html).toContain('<figcaption>idle: weight 5000');
    expect(html).not.toMatch(/<script/);
  });
});
