import type { CloneStep } from '../types.js';
import type { RunConfigRunStep } from './types.js';

/** Name of the run step a clone step becomes. */
export const CLONE_STEP_NAME = 'Clone repository and checkout code';

function cloneOptions(step: Pick<CloneStep, 'depth' | 'recurse_submodules'>): string {
  const options: string[] = [];
  if (step.depth !== undefined) options.push(`--depth ${step.depth}`);
  if (step.recurse_submodules) options.push('--recurse-submodules');
  return options.length > 0 ? `${options.join(' ')} ` : '';
}

/**
 * The shell script a clone step runs. It takes everything from the static environment
 * (`AGOLA_REPOSITORY_URL`, `AGOLA_SSHPRIVKEY`, `AGOLA_SSHHOSTKEY`, `AGOLA_GIT_HOST`,
 * `AGOLA_GIT_PORT`, `AGOLA_SKIPSSHHOSTKEYCHECK`, `AGOLA_GIT_REF`, `AGOLA_GIT_COMMITSHA`): it
 * sets up ssh (key, known host, a host entry that still accepts ssh-rsa keys), clones into the
 * working dir, fetches the ref and checks out the commit (or what was fetched).
 */
export function cloneScript(
  step: Pick<CloneStep, 'depth' | 'recurse_submodules'> = { recurse_submodules: false },
): string {
  return `
set -x

mkdir -p ~/.ssh
chmod 700 ~/.ssh
touch ~/.ssh/id_rsa ~/.ssh/known_hosts
chmod 600 ~/.ssh/id_rsa ~/.ssh/known_hosts

# trust the git server's host key when it is known
if [ -n "$AGOLA_SSHHOSTKEY" ]; then
	echo "$AGOLA_SSHHOSTKEY" >> ~/.ssh/known_hosts
fi

# the project's deploy key
(cat <<EOF > ~/.ssh/id_rsa
$AGOLA_SSHPRIVKEY
EOF
)

HOST_KEY_CHECK="yes"
if [ -n "$AGOLA_SKIPSSHHOSTKEYCHECK" ]; then
	HOST_KEY_CHECK="no"
fi

(cat <<EOF > ~/.ssh/config
Host $AGOLA_GIT_HOST
	HostName $AGOLA_GIT_HOST
	Port $AGOLA_GIT_PORT
	StrictHostKeyChecking $HOST_KEY_CHECK
	PasswordAuthentication no
	HostKeyAlgorithms +ssh-rsa
	PubkeyAcceptedKeyTypes +ssh-rsa
EOF
)

git clone ${cloneOptions(step)}$AGOLA_REPOSITORY_URL .
git fetch origin $AGOLA_GIT_REF

if [ -n "$AGOLA_GIT_COMMITSHA" ]; then
	git checkout $AGOLA_GIT_COMMITSHA
else
	git checkout FETCH_HEAD
fi
`;
}

/** The run step a clone step becomes at run creation. */
export function cloneRunStep(step: CloneStep): RunConfigRunStep {
  return {
    type: 'run',
    name: CLONE_STEP_NAME,
    command: cloneScript(step),
    environment: {},
    working_dir: '',
    shell: '',
    tty: true,
  };
}
