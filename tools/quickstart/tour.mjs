// A tour of the libraries under the quickstart (`node tools/quickstart/tour.mjs` after
// `npm run quickstart` built them): error chains, run config planning, the datamanager on an
// etcd started here and posix object storage under .agola-data/, a configstore over HTTP.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createDataManager } from '@agola-ts/datamanager';
import { createEtcdClient } from '@agola-ts/etcd';
import { badRequest, formatError, newError, toHttpError, wrap } from '@agola-ts/errors';
import { createObjectStorage } from '@agola-ts/ost';
import {
  configIssuesOf,
  contextOfRef,
  formatIssue,
  parseConfigSync,
  planRunsFromFile,
} from '@agola-ts/runconfig';
import { startEtcd } from '@agola-ts/testkit';
import { createConfigstore } from '@agola-ts/configstore';
import { createConfigstoreClient } from '@agola-ts/configstore-client';

const section = (title) => console.log(`\n=== ${title} ===`);

const CONFIG = `
runs:
  - name: agola-ts
    tasks:
      - name: build
        runtime:
          containers:
            - image: node:20
        steps:
          - clone:
          - run: npm install
          - run:
              name: build
              command: npm run build
          - save_to_workspace:
              contents:
                - source_dir: ./dist
                  dest_dir: /dist
                  paths: ['**']
      - name: test
        runtime:
          containers:
            - image: node:20
        steps:
          - restore_workspace:
              dest_dir: .
          - run: npm test
        depends:
          - build
      - name: deploy
        runtime:
          containers:
            - image: node:20
        approval: true
        when:
          branch: master
        steps:
          - run: ./deploy.sh
        depends: [test]
`;

async function runconfigDemo() {
  section('@agola-ts/runconfig: plan a push to master');
  const context = contextOfRef('refs/heads/master', '5f2c1a0c9d1e4b7a8c3f2e1d0c9b8a7f6e5d4c3b');
  const { runs } = await planRunsFromFile({
    data: CONFIG,
    path: '.agola/config.yml',
    context,
    variables: {},
    commitMessage: 'add deploy',
  });
  for (const run of runs) {
    console.log(`run "${run.name}"`);
    for (const task of Object.values(run.tasks).sort((a, b) => a.level - b.level)) {
      const flags = [task.needs_approval && 'needs approval', task.skip && 'skipped'].filter(
        Boolean,
      );
      console.log(
        `  level ${task.level}: ${task.name} (${task.steps.length} step${task.steps.length === 1 ? '' : 's'})${flags.length ? ` [${flags.join(', ')}]` : ''}`,
      );
    }
  }
  section('@agola-ts/runconfig: a broken config');
  try {
    parseConfigSync(CONFIG.replace('command: npm run build', 'shell: /bin/bash'), {
      path: '.agola/config.yml',
    });
  } catch (err) {
    for (const issue of configIssuesOf(err) ?? []) console.log(`  ${formatIssue(issue)}`);
  }
}

async function datamanagerDemo() {
  section('@agola-ts/datamanager on an embedded etcd + posix object storage');
  const dataDir = join(process.cwd(), '.agola-data', 'quickstart');
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const etcdServer = await startEtcd();
  const etcd = createEtcdClient({ endpoints: etcdServer.endpoint, prefix: 'configstore/' });
  const ost = createObjectStorage({ type: 'posix', path: join(dataDir, 'ost') });
  const dm = createDataManager({ etcd, ost, basePath: 'configdata', dataTypes: ['user', 'org'] });
  try {
    await dm.start();
    const token = dm.changeGroupsToken(['username-alice']);
    const { walSequence } = await dm.write(
      [
        {
          actionType: 'put',
          dataType: 'user',
          id: 'alice',
          data: JSON.stringify({ name: 'alice' }),
        },
      ],
      token,
    );
    console.log(`wrote user alice in wal ${walSequence}`);
    const err = await dm
      .write([{ actionType: 'put', dataType: 'user', id: 'alice2', data: '{}' }], token)
      .catch((e) => e);
    console.log(`a second writer with the same (now stale) token: ${err.code}`);
    await dm.checkpoint({ force: true });
    console.log(`after a checkpoint, read back: ${(await dm.read('user', 'alice')).toString()}`);
    console.log('object storage layout:');
    for await (const obj of ost.list('configdata/', { recursive: true }))
      console.log(`  ${obj.key} (${obj.size} bytes)`);
  } finally {
    await dm.stop();
    etcd.close();
    await etcdServer.stop();
  }
}

async function configstoreDemo() {
  section('configstore service: its HTTP API through @agola-ts/configstore-client');
  const dataDir = join(process.cwd(), '.agola-data', 'quickstart-configstore');
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const etcdServer = await startEtcd();
  const cs = createConfigstore({
    dataDir: join(dataDir, 'data'),
    web: { listen: { host: '127.0.0.1', port: 0 } },
    etcd: { endpoints: [etcdServer.endpoint] },
    objectStorage: { type: 'posix', path: join(dataDir, 'ost') },
  });
  try {
    await cs.start();
    console.log(`configstore listening at ${cs.url}`);
    const client = createConfigstoreClient({ baseUrl: cs.url });
    const alice = await client.createUser({ user_name: 'alice' });
    console.log(`POST /users -> user ${alice.name} (${alice.id})`);
    const acme = await client.createOrg({
      Name: 'acme',
      Visibility: 'public',
      CreatorUserID: 'alice',
    });
    console.log(`POST /orgs -> org ${acme.name}, created by alice`);
    const orgs = await client.getUserOrgs('alice');
    console.log(
      `GET /users/alice/orgs -> ${orgs.map((o) => `${o.Organization.name} (${o.Role})`).join(', ')}`,
    );
    const err = await client.createUser({ user_name: 'alice' }).catch((e) => e);
    console.log(`POST /users again -> ${err.status} ${err.remoteCode}: ${err.remoteMessage}`);
    const bad = await client.createUser({ user_name: '1-bad-name' }).catch((e) => e);
    console.log(`POST /users with a bad name -> ${bad.status}: ${bad.remoteMessage}`);
  } finally {
    await cs.stop();
    await etcdServer.stop();
  }
}

function errorsDemo() {
  section('@agola-ts/errors: a chain with a frame per layer');
  const readWal = () => wrap(newError('disk full', { code: 'ERR_DEMO_DISK_FULL' }), 'writing wal');
  const checkpoint = () => wrap(readWal(), 'checkpoint');
  console.log(formatError(checkpoint(), { detailed: true }));
  console.log(JSON.stringify(toHttpError(badRequest('invalid user name "1abc"'))));
}

errorsDemo();
await runconfigDemo();
await datamanagerDemo();
await configstoreDemo();

console.log('\nNext: `npm run quickstart` runs the whole system and a pipeline on it.');
