// The tenant portal's Finnish e-identification against oidc-provider (a certified OpenID
// provider nobody here wrote), started by tests/portal/test_identity_oidc_peer.py:
//   node provider.mjs PORT REDIRECT_URI CLIENT_SECRET ACCOUNT_JSON
// The user "logs in" at once as ACCOUNT_JSON (sub, hetu, name, ...) through the provider's
// interaction API; the client must use the code flow with PKCE (S256), as oidc-provider
// requires by default. Claims go into the ID token (conformIdTokenClaims: false), where an
// FTN broker puts the hetu.
import http from "node:http";
import Provider from "oidc-provider";

const [port, redirectUri, clientSecret, accountJson] = process.argv.slice(2);
const account = JSON.parse(accountJson);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: "dispatch",
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  claims: { openid: ["sub"], profile: ["name", "given_name", "family_name", "hetu"] },
  conformIdTokenClaims: false,
  cookies: { keys: ["test-only-cookie-key"] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { ...account, sub: id }; } };
  },
});
provider.proxy = false;

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  if (!req.url.startsWith("/interaction/")) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === "login") {
      await provider.interactionFinished(req, res, { login: { accountId: account.sub } },
                                         { mergeWithLastSubmission: false });
      return;
    }
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId,
                             clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    grant.addOIDCClaims(["name", "given_name", "family_name", "hetu"]);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } },
                                       { mergeWithLastSubmission: true });
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
server.listen(Number(port), "127.0.0.1", () => console.log(`listening ${issuer}`));
