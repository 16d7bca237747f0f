//! `/v1/rules` and the console's `/rules`: the active pack's rules and their documentation,
//! readable without a token; findings link to them.

use super::*;

#[tokio::test]
async fn anyone_reads_the_active_packs_rules_and_their_documentation() {
    let app = app().await;
    let list = app.call(Method::GET, "/v1/rules", None, None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.body["pack"], "assay-builtin");
    let digest = list.body["digest"].as_str().unwrap();
    assert!(digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()), "{digest}");
    let rules = list.body["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 34);
    assert!(rules.iter().all(|r| r["documented"] == true), "every built-in rule ships its documentation");
    let https = rules.iter().find(|r| r["id"] == "urls.https").unwrap();
    assert_eq!(https["severity"], "error");
    assert_eq!(https["help_url"], "https://review.example/rules/urls.https");

    let one = app.call(Method::GET, "/v1/rules/urls.https", None, None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["id"], "urls.https");
    assert_eq!(one.body["pack"], "assay-builtin@0.1.0");
    let docs = one.body["docs"].as_str().unwrap();
    for part in ["# urls.https", "## Why", "Implements:", "## How to fix", "## Failing example", "## Passing example"] {
        assert!(docs.contains(part), "the documentation lacks {part:?}:\n{docs}");
    }
    let missing = app.call(Method::GET, "/v1/rules/urls.htps", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["code"], "not_found");

    // A finding links to its rule's page on this service.
    let (slug, version) = app.reviewed("http-urls").await;
    let got = app.call(Method::GET, &format!("/v1/listings/{slug}/versions/{version}"), Some(&app.acme), None).await;
    let finding = got.body["findings"].as_array().unwrap().iter().find(|f| f["rule_id"] == "urls.https").unwrap();
    assert_eq!(finding["help_url"], "https://review.example/rules/urls.https");
}

#[tokio::test]
async fn the_console_shows_the_rules_and_renders_their_documentation_to_anyone() {
    let app = app().await;
    let index = app.page(Method::GET, "/rules", None, None).await;
    assert_eq!(index.status, StatusCode::OK, "no sign-in is needed: {}", index.html);
    assert!(index.html.contains("href=\"/rules/urls.https\"") && index.html.contains("assay-builtin@0.1.0"));
    let page = app.page(Method::GET, "/rules/webhooks.app-uninstalled", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("<h3>Why</h3>"), "Markdown headings render one level down: {}", page.html);
    assert!(page.html.contains("<code class=\"language-toml\">"), "examples render as code");
    // Signed in, the page keeps the viewer's frame.
    let cookie = app.sign_in(&app.acme).await;
    let signed_in = app.page(Method::GET, "/rules/urls.https", Some(&cookie), None).await;
    assert!(signed_in.html.contains("Sign out") && signed_in.html.contains("aria-current=\"page\">Rules"));
    let missing = app.page(Method::GET, "/rules/no.such-rule", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_active_pack_is_served_as_files_that_verify_against_its_digest() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let app = app().await;
    let pack = app.call(Method::GET, "/v1/rules/pack", None, None).await;
    assert_eq!(pack.status, StatusCode::OK);
    let manifest = pack.body["manifest"].as_str().unwrap();
    assert_eq!(manifest, assay_builtin::PACK_TOML, "pack.toml as written");
    let files: Vec<(String, Vec<u8>)> = pack.body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(f["content"].as_str().unwrap()).unwrap();
            assert_eq!(f["sha256"].as_str().unwrap(), hex::encode(sha2::Sha256::digest(&bytes)));
            (f["name"].as_str().unwrap().to_owned(), bytes)
        })
        .collect();
    assert_eq!(files.len(), 68, "34 components and 34 documentation files");
    let parsed = assay_core::pack::PackManifest::parse("pack.toml", manifest).unwrap();
    let components: Vec<&[u8]> = parsed
        .rules
        .iter()
        .map(|r| files.iter().find(|(name, _)| *name == r.component).unwrap().1.as_slice())
        .collect();
    let digest = assay_service::rollout::pack_digest(manifest, &components);
    assert_eq!(pack.body["digest"], digest);
    assert_eq!(app.call(Method::GET, "/v1/rules", None, None).await.body["digest"], digest, "the same pack");
}

#[tokio::test]
async fn a_partner_reads_what_a_local_check_of_its_listing_needs() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let path = format!("/v1/listings/{slug}/check-context");
    let before = app.call(Method::GET, &path, Some(&app.acme), None).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert_eq!(before.body["previous"], Value::Null, "nothing approved yet");
    assert_eq!(before.body["pack"]["name"], "assay-builtin");
    let decided = app.decide(&app.reviewer, &slug, &version, "approve", "ok").await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    let waiver = json!({"slug": slug, "rule_id": "urls.https", "versions": ">=1.4.0", "expires_at": "2099-01-01T00:00:00Z", "justification": "moving hosts"});
    let granted = app.call(Method::POST, "/v1/waivers", Some(&app.reviewer), Some(waiver)).await;
    assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.body);
    let after = app.call(Method::GET, &path, Some(&app.acme), None).await;
    assert_eq!(after.body["previous"]["version"], version.as_str());
    assert!(after.body["previous"]["manifest"].as_str().unwrap().contains(&format!("slug = \"{slug}\"")));
    assert_eq!(after.body["waivers"].as_array().unwrap().len(), 1);
    assert_eq!(after.body["waivers"][0]["rule_id"], "urls.https");
    // Another partner sees nothing of it; without a token, nothing at all.
    assert_eq!(app.call(Method::GET, &path, Some(&app.globex), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::GET, &path, None, None).await.status, StatusCode::UNAUTHORIZED);
}
