import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { LocalBackend } from './local.js';
import { backendTypeNames, createBackend } from './registry.js';
import { LazyBackend } from './lazy.js';
import { openBackend } from './spec.js';

describe('openBackend', () => {
  it('opens local paths', () => {
    expect(openBackend('/var/backups/repo')).toBeInstanceOf(LocalBackend);
    expect(openBackend('local:/var/backups/repo').location).toBe('local:/var/backups/repo');
    expect(openBackend('./repo').location).toBe(`local:${process.cwd()}/repo`);
    expect(openBackend({ path: '/srv/r', password: 'not the backend’s business' }).location).toBe('local:/srv/r');
  });

  it('opens S3 with and without an endpoint', () => {
    const custom = openBackend('s3:https://minio.example.com:9000/bucket/some/prefix');
    expect(custom).toBeInstanceOf(LazyBackend); // the AWS SDK loads on first use
    expect(custom.location).toBe('s3:https://minio.example.com:9000/bucket/some/prefix');
    expect(openBackend('s3:bucket/prefix').location).toBe('s3:bucket/prefix');
    const fromConfig = openBackend({
      s3: { endpoint: 'http://127.0.0.1:9000', bucket: 'b', region: 'eu-west-1', prefix: 'p', access_key_id: 'id', secret_access_key: 'sk', force_path_style: true },
    });
    expect(fromConfig.location).toBe('s3:http://127.0.0.1:9000/b/p');
  });

  it('opens SFTP', () => {
    const backend = openBackend('sftp:backup@host.example.com:2222/srv/backups');
    expect(backend).toBeInstanceOf(LazyBackend);
    expect(backend.location).toBe('sftp:backup@host.example.com:2222/srv/backups');
    expect(openBackend('sftp:backup@host.example.com/srv/b').location).toBe('sftp:backup@host.example.com:22/srv/b');
    expect(openBackend('sftp:u@[::1]:22/x').location).toBe('sftp:u@::1:22/x');
    expect(openBackend({ sftp: { host: 'h', port: 22, user: 'u', path: '/p', private_key_file: '/k' } }).location).toBe('sftp:u@h:22/p');
  });

  it.each([
    [''],
    ['ftp://host/path'],
    ['s3:'],
    ['s3:https://host:9000/'],
    ['sftp:host/path'],
    ['sftp:user@host:99999/path'],
    ['local:'],
  ])('rejects %j with a USAGE error and an example', (spec) => {
    const err = (() => {
      try {
        openBackend(spec);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BulwarkError);
    expect(err).toMatchObject({ code: 'USAGE', hint: expect.stringMatching(/for example|write one of/) });
  });

  it('rejects config objects without exactly one backend', () => {
    expect(() => openBackend({})).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => openBackend({ path: '/a', s3: { bucket: 'b' } })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('never echoes a password written into a location', () => {
    for (const spec of ['sftp:user:hunter2@host/path', 'b2:user:hunter2@bucket']) {
      try {
        openBackend(spec);
        expect.unreachable();
      } catch (err) {
        expect(JSON.stringify((err as BulwarkError).toJSON())).not.toContain('hunter2');
      }
    }
  });
});

describe('backend registry', () => {
  it('knows the built-in types', () => {
    expect(backendTypeNames()).toEqual(['local', 's3', 'sftp']);
    expect(createBackend('local', { path: '/x' }).location).toBe('local:/x');
    expect(() => createBackend('nope' as 'local', { path: '/x' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
