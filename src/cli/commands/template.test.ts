import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTemplateRender } from './template.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const CONFIG = `
services:
  example-api: { endpoints: [{ url: http://127.0.0.1:1 }] }
communication_templates:
  short:
    subject: "Down - [Service Name]"
    body: "[service_name] since [start_time]; [Not A Variable] stays"
  chat:
    subject: "[resolved] {{service}}"
    body: "{{service}} is back <ok>"
`;

function bulwark(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bulwark template render', () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-template-'));
    config = join(dir, 'bulwark.yaml');
    await writeFile(config, CONFIG);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('renders a built-in default with sample values and says they are samples', async () => {
    const result = await runTemplateRender('incident_notification', { config });
    expect(result.output.split('\n').slice(0, 3)).toEqual([
      'Subject: Service Disruption - example-api',
      '',
      'We are currently experiencing an issue with example-api that began at 2026-01-15 09:30 UTC.',
    ]);
    expect(result.note).toContain('sample values');
    expect(result.json).toMatchObject({ template: 'incident_notification', sample: true, subject: 'Service Disruption - example-api' });
  });

  it('renders the bracket syntax, leaving unknown bracket text alone', async () => {
    const result = await runTemplateRender('short', { config });
    expect(result.output).toBe('Subject: Down - example-api\n\nexample-api since 2026-01-15 09:30 UTC; [Not A Variable] stays');
  });

  it('renders Mustache with --html escaping values and markup as written', async () => {
    const result = await runTemplateRender('chat', { config, html: true });
    expect(result.output).toBe('Subject: [resolved] example-api\n\nexample-api is back <ok>\n\n--- html ---\nexample-api is back <ok>');
  });

  it('refuses an unknown name with the known ones', async () => {
    await expect(runTemplateRender('incident_notificaton', { config })).rejects.toMatchObject({
      code: 'USAGE', message: expect.stringContaining('known templates: acknowledged, chat, daily_summary, incident_notification'),
      hint: 'did you mean "incident_notification"?',
    });
    await expect(runTemplateRender('chat', { config, incident: 'x1' })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('exits 2 on an unknown name and prints the JSON rendering otherwise (real process)', async () => {
    const unknown = await bulwark(['template', 'render', 'nope', '-c', config]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown template "nope"; known templates: acknowledged, chat, daily_summary, incident_notification, resolution_notification, review_due, short, update_due');
    const json = await bulwark(['template', 'render', 'short', '-c', config, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ template: 'short', sample: true, subject: 'Down - example-api' });
  }, 30_000);
});
