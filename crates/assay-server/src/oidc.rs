//! OpenID Connect sign-in for the console, with the `openidconnect` crate: discovery at start,
//! the authorization code flow with PKCE, and ID tokens validated against the provider's keys
//! (issuer, audience, expiry, signature, nonce). What a verified e-mail address may then do is
//! the service's ([`assay_service::signin`]).

use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};

use assay_service::VerifiedIdentity;

/// Where the provider is and who assay is to it.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer URL (discovery reads `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret, for a confidential client.
    pub client_secret: Option<String>,
    /// The console's public base URL: the redirect URI is `{public_url}/signin/oidc/callback`.
    pub public_url: String,
}

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// A discovered provider.
#[derive(Clone)]
pub struct Oidc {
    client: Client,
    http: ureq::Agent,
    /// The issuer, as configured.
    pub issuer: String,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// What the browser is sent to the provider with, and what the callback needs back.
#[derive(Debug)]
pub struct Authorization {
    /// The provider's authorization URL.
    pub url: String,
    /// The `state` (CSRF token) the callback must bring back.
    pub state: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
}

/// An HTTP error of the provider's endpoints, for the log.
#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

/// The HTTP client `openidconnect` calls: ureq on a blocking thread, never following redirects
/// (which would let a provider's answer point the server elsewhere).
async fn send(
    agent: ureq::Agent,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpError> {
    tokio::task::spawn_blocking(move || {
        let mut response = agent.run(request).map_err(|e| HttpError(e.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body =
            response.body_mut().with_config().limit(1 << 20).read_to_vec().map_err(|e| HttpError(e.to_string()))?;
        let mut answer = openidconnect::HttpResponse::new(body);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    })
    .await
    .map_err(|e| HttpError(e.to_string()))?
}

impl Oidc {
    /// Discover the provider and make the client. Fails with what went wrong, naming the issuer.
    pub async fn discover(config: &OidcConfig) -> Result<Oidc, String> {
        let http: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        let issuer = IssuerUrl::new(config.issuer.clone()).map_err(|e| format!("issuer `{}`: {e}", config.issuer))?;
        let agent = http.clone();
        let client_fn = move |request| send(agent.clone(), request);
        let metadata = CoreProviderMetadata::discover_async(issuer, &client_fn)
            .await
            .map_err(|e| format!("discovering the OpenID provider at {}: {}", config.issuer, error_chain(&e)))?;
        let redirect = format!("{}/signin/oidc/callback", config.public_url.trim_end_matches('/'));
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).map_err(|e| format!("redirect URI `{redirect}`: {e}"))?);
        Ok(Oidc { client, http, issuer: config.issuer.clone() })
    }

    /// A new authorization request: the URL to send the browser to, with a fresh state, nonce
    /// and PKCE challenge (S256).
    pub fn authorize(&self) -> Authorization {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        }
    }

    /// Exchange the authorization code (with the PKCE verifier) and validate the ID token it
    /// brings: signature against the provider's keys, issuer, audience, expiry and `nonce`. The
    /// e-mail address must be present and, if the provider says, verified.
    pub async fn finish(&self, code: &str, nonce: &str, pkce_verifier: &str) -> Result<VerifiedIdentity, String> {
        let agent = self.http.clone();
        let client_fn = move |request| send(agent.clone(), request);
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| format!("the provider has no token endpoint: {e}"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&client_fn)
            .await
            .map_err(|e| format!("the provider refused the code: {}", error_chain(&e)))?;
        let id_token = response.id_token().ok_or("the provider sent no ID token")?;
        let claims = self.verify(id_token, nonce)?;
        let name_of = |n: Option<&openidconnect::LocalizedClaim<openidconnect::EndUserName>>| {
            n.and_then(|n| n.get(None)).map(|n| n.as_str().to_owned())
        };
        // Providers that issue an access token may keep the profile claims for the UserInfo
        // endpoint (as the core spec allows); its answer must be about the same subject.
        let (email, verified, name) = match claims.email() {
            Some(email) => (email.as_str().to_owned(), claims.email_verified(), name_of(claims.name())),
            None => {
                let info: openidconnect::core::CoreUserInfoClaims = self
                    .client
                    .user_info(response.access_token().clone(), Some(claims.subject().clone()))
                    .map_err(|e| {
                        format!("the ID token has no e-mail address and the provider no UserInfo endpoint: {e}")
                    })?
                    .request_async(&client_fn)
                    .await
                    .map_err(|e| format!("the provider's UserInfo answer is not usable: {}", error_chain(&e)))?;
                let email = info.email().ok_or("the provider gives no e-mail address; request the `email` scope")?;
                (email.as_str().to_owned(), info.email_verified(), name_of(info.name()))
            }
        };
        if verified == Some(false) {
            return Err(format!("the provider has not verified {email}"));
        }
        Ok(VerifiedIdentity { email: email.to_lowercase(), name })
    }
}

impl Oidc {
    /// Validate an ID token against the provider's keys: signature, issuer, audience (this
    /// client), expiry, and `nonce`.
    fn verify<'t>(
        &self,
        id_token: &'t openidconnect::core::CoreIdToken,
        nonce: &str,
    ) -> Result<&'t openidconnect::core::CoreIdTokenClaims, String> {
        id_token
            .claims(&self.client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
            .map_err(|e| format!("the ID token is not valid: {}", error_chain(&e)))
    }

    /// [`Oidc::verify`] on a serialized ID token: its subject if it is valid. For checking
    /// tokens obtained elsewhere (the tests' tokens for another client, issuer or nonce).
    pub fn verify_serialized(&self, id_token: &str, nonce: &str) -> Result<String, String> {
        let parsed: openidconnect::core::CoreIdToken = id_token.parse().map_err(|e| format!("not an ID token: {e}"))?;
        Ok(self.verify(&parsed, nonce)?.subject().as_str().to_owned())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    assay_service::error_chain(e)
}
