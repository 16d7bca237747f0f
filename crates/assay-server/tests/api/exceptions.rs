//! Exception requests through the API: a partner asks, staff grant (narrower, shorter) or deny,
//! the grant waives the finding until it lapses, a blocker needs two reviewers, concurrent
//! deciders — exactly one wins — and every refusal is a clear problem that changes nothing.

use super::*;

fn later(days: i64) -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days)).to_string()
}

async fn request(app: &App, token: &str, slug: &str, version: &str, body: Value) -> Reply {
    let path = format!("/v1/listings/{slug}/versions/{version}/exceptions");
    app.call(Method::POST, &path, Some(token), Some(body)).await
}

async fn decide(app: &App, token: &str, id: i64, body: Value) -> Reply {
    app.call(Method::POST, &format!("/v1/exceptions/{id}/decision"), Some(token), Some(body)).await
}

#[tokio::test]
async fn a_partner_asks_a_reviewer_grants_for_less_and_the_finding_is_waived_until_it_lapses() {
    let app = app().await;
    let (slug, version) = app.reviewed("http-urls").await;
    let path = format!("/v1/listings/{slug}/versions/{version}");
    let before = app.call(Method::GET, &path, Some(&app.acme), None).await;
    assert_eq!(before.body["verdict"], "fail");

    // What is refused changes nothing.
    let ask = |rule: &str, versions: Option<&str>, days: i64| {
        let mut body =
            json!({"rule_id": rule, "justification": "the CDN moves to https in March", "expires_at": later(days)});
        if let Some(v) = versions {
            body["versions"] = json!(v);
        }
        body
    };
    let never_fired = request(&app, &app.acme, &slug, &version, ask("privacy.policy", None, 30)).await;
    assert_problem(&never_fired, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(never_fired.body.to_string().contains("reported no finding"), "{}", never_fired.body);
    let too_long = request(&app, &app.acme, &slug, &version, ask("urls.https", None, 400)).await;
    assert_problem(&too_long, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(too_long.body.to_string().contains("at most 180 days"), "{}", too_long.body);
    let elsewhere = request(&app, &app.acme, &slug, &version, ask("urls.https", Some(">=2.0.0"), 30)).await;
    assert_problem(&elsewhere, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let foreign = request(&app, &app.globex, &slug, &version, ask("urls.https", None, 30)).await;
    assert_problem(&foreign, StatusCode::NOT_FOUND, "not_found");
    let staff = request(&app, &app.reviewer, &slug, &version, ask("urls.https", None, 30)).await;
    assert_problem(&staff, StatusCode::FORBIDDEN, "forbidden");
    let none = app.call(Method::GET, "/v1/exceptions", Some(&app.reviewer), None).await;
    assert_eq!(none.body, json!([]), "nothing was recorded");

    // The partner asks for 60 days; the reviewer grants 30.
    let asked = request(&app, &app.acme, &slug, &version, ask("urls.https", Some("^1"), 60)).await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
    assert_eq!(asked.body["status"], "requested");
    let id = asked.body["id"].as_i64().unwrap();
    assert_eq!(asked.headers[header::LOCATION], format!("/v1/exceptions/{id}"));
    let longer =
        decide(&app, &app.reviewer, id, json!({"action": "grant", "rationale": "ok", "expires_at": later(90)})).await;
    assert_problem(&longer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let wider =
        decide(&app, &app.reviewer, id, json!({"action": "grant", "rationale": "ok", "versions": ">=0.1.0"})).await;
    assert_problem(&wider, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(wider.body.to_string().contains("fewer versions than `^1`"), "{}", wider.body);
    let beside =
        decide(&app, &app.reviewer, id, json!({"action": "grant", "rationale": "ok", "versions": ">=1.99.0, <2.0.0"}))
            .await;
    assert_problem(&beside, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(beside.body.to_string().contains("leaves out"), "{}", beside.body);
    let by_partner = decide(&app, &app.acme, id, json!({"action": "grant", "rationale": "please"})).await;
    assert_problem(&by_partner, StatusCode::FORBIDDEN, "forbidden");
    let until = later(30);
    let granted = decide(
        &app,
        &app.reviewer,
        id,
        json!({"action": "grant", "rationale": "booked migration", "expires_at": until}),
    )
    .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(
        (granted.body["status"].as_str(), granted.body["granted_versions"].as_str()),
        (Some("live"), Some("^1"))
    );
    assert_eq!(granted.body["rationale"], "booked migration");
    let waiver = granted.body["waiver"].as_i64().unwrap();

    // The finding is waived by it, with its expiry; the verdict passes.
    let after = app.call(Method::GET, &path, Some(&app.acme), None).await;
    assert_eq!(after.body["verdict"], "pass", "{}", after.body);
    let findings = after.body["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["waived_by"] == waiver), "{}", after.body);
    let waivers = app.call(Method::GET, &format!("/v1/listings/{slug}/waivers"), Some(&app.acme), None).await;
    assert_eq!(waivers.body[0]["expires_at"].as_str().unwrap()[..10], until[..10]);

    // The partner's standing counts it, with its expiry.
    let standing = app.call(Method::GET, "/v1/standing", Some(&app.acme), None).await;
    assert_eq!(
        (standing.body["exceptions"]["live"].as_i64(), standing.body["exceptions"]["pending"].as_i64()),
        (Some(1), Some(0)),
        "{}",
        standing.body
    );
    assert_eq!(standing.body["exceptions"]["nearest_expiry"].as_str().unwrap()[..10], until[..10]);

    // Decided once: a second decision is a conflict and changes nothing.
    let again = decide(&app, &app.reviewer, id, json!({"action": "deny", "rationale": "changed my mind"})).await;
    assert_problem(&again, StatusCode::CONFLICT, "conflict");
    // The register: the partner's own, staff's all, filtered.
    let own = app.call(Method::GET, "/v1/exceptions", Some(&app.acme), None).await;
    assert_eq!(own.body.as_array().unwrap().len(), 1);
    assert_eq!(app.call(Method::GET, "/v1/exceptions", Some(&app.globex), None).await.body, json!([]));
    let hidden = app.call(Method::GET, &format!("/v1/exceptions/{id}"), Some(&app.globex), None).await;
    assert_problem(&hidden, StatusCode::NOT_FOUND, "not_found");
    let live = app.call(Method::GET, "/v1/exceptions?status=live&rule=urls.https", Some(&app.reviewer), None).await;
    assert_eq!(live.body[0]["id"], id, "{}", live.body);
    let lapsed = app.call(Method::GET, "/v1/exceptions?status=lapsed", Some(&app.reviewer), None).await;
    assert_eq!(lapsed.body, json!([]));
    let by_partner = app.call(Method::GET, "/v1/exceptions?partner=acme", Some(&app.reviewer), None).await;
    assert_eq!(by_partner.body[0]["id"], id, "{}", by_partner.body);
    let other = app.call(Method::GET, "/v1/exceptions?partner=globex", Some(&app.reviewer), None).await;
    assert_eq!(other.body, json!([]));
    let other_rule = app.call(Method::GET, "/v1/exceptions?rule=copy.shouting", Some(&app.reviewer), None).await;
    assert_eq!(other_rule.body, json!([]));
    let bad = app.call(Method::GET, "/v1/exceptions?status=maybe", Some(&app.reviewer), None).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
}

/// An exception to a blocker needs a second reviewer; of concurrent deciders exactly one wins.
#[tokio::test]
async fn a_blockers_exception_needs_two_reviewers_and_concurrent_decisions_have_one_winner() {
    let app = app().await;
    let (slug, version) = app.reviewed("wildcard-scope").await;
    let got = app.call(Method::GET, &format!("/v1/listings/{slug}/versions/{version}"), Some(&app.acme), None).await;
    let blocker = got.body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "blocker")
        .unwrap_or_else(|| panic!("a blocker: {}", got.body))["rule_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"rule_id": blocker, "justification": "read-only in practice", "expires_at": later(20)});
    let asked = request(&app, &app.acme, &slug, &version, body.clone()).await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
    assert_eq!(asked.body["severity"], "blocker");
    let id = asked.body["id"].as_i64().unwrap();
    let first = decide(&app, &app.reviewer, id, json!({"action": "grant", "rationale": "scoped by contract"})).await;
    assert_eq!(first.body["status"], "confirming", "{}", first.body);
    assert!(first.body.get("waiver").is_none(), "not yet a waiver: {}", first.body);
    let same = decide(&app, &app.reviewer, id, json!({"action": "grant", "rationale": "me again"})).await;
    assert_problem(&same, StatusCode::FORBIDDEN, "forbidden");
    assert!(same.body["detail"].as_str().unwrap().contains("second reviewer"), "{}", same.body);
    let second_reviewer = person_token(&app.store, "sam@platform.test", "Sam Second", None, Role::Reviewer).await;
    let second = decide(&app, &second_reviewer, id, json!({"action": "grant", "rationale": "confirmed"})).await;
    assert_eq!(second.body["status"], "live", "{}", second.body);
    assert_eq!(second.body["first_grant"]["rationale"], "scoped by contract");

    // Eight reviewers decide one request at once: one wins, seven are told it was decided.
    let asked = request(&app, &app.acme, &slug, &version, body).await;
    let id = asked.body["id"].as_i64().unwrap();
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let token = app.reviewer.clone();
            decide(&app, &token, id, json!({"action": "deny", "rationale": format!("no ({n})")})).await.status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 7, "{statuses:?}");
}
