// A real OpenID provider (node-oidc-provider, OpenID Certified) on loopback for assay's sign-in
// tests: `node provider.mjs PORT REDIRECT_URI`. Two confidential clients, `assay` (secret
// `assay-test-secret`) and `other` (`other-test-secret`, for ID tokens meant for someone
// else), authorization code with PKCE required. Its development interactions
// sign in whoever types a login (any password); the login is the e-mail address, verified
// unless it starts with `unverified.`. Prints `ready` when it listens.
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
if (!port || !redirectUri) {
  console.error('usage: node provider.mjs PORT REDIRECT_URI');
  process.exit(2);
}

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: ['assay', 'other'].map((clientId) => ({
    client_id: clientId,
    client_secret: `${clientId}-test-secret`,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        const local = id.split('@')[0].replace(/^unverified\./, '');
        const name = local.split(/[._-]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
        return { sub: id, email: id, email_verified: !id.startsWith('unverified.'), name };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['assay-test-cookie-key'] },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
});
provider.proxy = false;
const server = provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
