// The real OpenID provider the identity tests run against: oidc-provider (OpenID
// Certified), on 127.0.0.1 only, with the device flow, refresh tokens, revocation and JWT
// access tokens for the broker (resource indicators).
//
// Usage: node provider.js [--port N] [--access-ttl SECONDS] [--device-ttl SECONDS]
// Prints one JSON line {"issuer": "...", "port": N} on stdout once listening.
import http from 'node:http';
import Provider from 'oidc-provider';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : (process.env[`OIDC_${name.toUpperCase().replace('-', '_')}`] ?? dflt);
};
const port = Number(arg('port', '0'));
const accessTtl = Number(arg('access-ttl', '600'));
const deviceTtl = Number(arg('device-ttl', '600'));

// The broker's API: the audience of every access token.
export const RESOURCE = 'urn:signoff:broker';
const SCOPES = 'openid profile email offline_access';

// Test accounts: any password is accepted by the dev interactions.
const ACCOUNTS = {
  alice: { name: 'Alice Approver', groups: ['sre', 'security'] },
  bob: { name: 'Bob Builder', groups: ['sre'] },
};
const accountClaims = (id) => ({
  sub: id,
  email: `${id}@example.test`,
  email_verified: true,
  name: ACCOUNTS[id]?.name ?? id,
  groups: ACCOUNTS[id]?.groups ?? [],
});

const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const bound = server.address().port;
  const issuer = `http://127.0.0.1:${bound}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        // The console: a public client using the device flow.
        client_id: 'signoff-console',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      {
        // An agent: a confidential client using client credentials.
        client_id: 'ci-bot',
        client_secret: 'ci-bot-secret',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups'],
    },
    // Put scope claims in the ID token too (the device flow has no userinfo call).
    conformIdTokenClaims: false,
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => accountClaims(id) }),
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: SCOPES,
          audience: RESOURCE,
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // Access tokens carry who the user is, for the broker.
    extraTokenClaims: async (_ctx, token) => {
      if (token.kind === 'AccessToken' && token.accountId) {
        const c = accountClaims(token.accountId);
        return { email: c.email, name: c.name, groups: c.groups };
      }
      return undefined;
    },
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // Consent is implied: the test confirms the user code, nothing else.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const g = await ctx.oidc.provider.Grant.find(grantId);
        if (g) return g;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPES);
      grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'groups']);
      grant.addResourceScope(RESOURCE, SCOPES);
      await grant.save();
      return grant;
    },
    ttl: {
      AccessToken: accessTtl,
      ClientCredentials: accessTtl,
      DeviceCode: deviceTtl,
      IdToken: 3600,
      RefreshToken: 86400,
      Grant: 86400,
      Interaction: 600,
      Session: 86400,
    },
  });
  // oidc-provider omits `interval`; announce 1 s so polling tests stay quick.
  provider.on('device_authorization.success', (_ctx, body) => { body.interval = 1; });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer, port: bound }));
});

// The harness kills us; exit promptly on signals and when stdin closes.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
