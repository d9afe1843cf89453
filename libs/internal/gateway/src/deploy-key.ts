import { createPublicKey, generateKeyPair } from 'node:crypto';
import { wrap } from '@agola-ts/errors';

/** An SSH key pair for a project: the PEM private key (kept by the configstore) and its OpenSSH public key. */
export interface SshKeyPair {
  /** PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), as Agola stores it. */
  privateKey: string;
  /** `ssh-rsa AAAA...`: what the forge's deploy key gets. */
  publicKey: string;
}

function sshString(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function mpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const trimmed = unsigned.subarray(i);
  const first = trimmed[0] ?? 0;
  return sshString(first & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** The OpenSSH public key (`ssh-rsa <base64>`) of an RSA private or public key in PEM. */
export function sshPublicKeyOf(pem: string): string {
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new Error('not an RSA key');
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    mpint(Buffer.from(jwk.e, 'base64url')),
    mpint(Buffer.from(jwk.n, 'base64url')),
  ]);
  return `ssh-rsa ${blob.toString('base64')}`;
}

/** Generates an RSA key pair for a project's deploy key (Agola uses 4096 bits). */
export async function generateSshKeyPair(bits = 4096): Promise<SshKeyPair> {
  try {
    const privateKey = await new Promise<string>((resolve, reject) => {
      generateKeyPair(
        'rsa',
        {
          modulusLength: bits,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        },
        (err, _pub, priv) => (err ? reject(err) : resolve(priv)),
      );
    });
    return { privateKey, publicKey: sshPublicKeyOf(privateKey) };
  } catch (err) {
    throw wrap(err, 'generating the project ssh key pair');
  }
}
