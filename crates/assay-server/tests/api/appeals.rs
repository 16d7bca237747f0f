//! Appeals, the conversation on a version, and holds through the API: a partner appeals a
//! reviewer's rejection and a second reviewer overturns it (the decider may not), concurrent
//! hearings have one winner, messages go both ways while internal notes stay with staff, and a
//! hold shows to the partner with its reason until it is released or the version decided.

use super::*;

async fn appeal(app: &App, token: &str, slug: &str, version: &str, statement: &str) -> Reply {
    let path = format!("/v1/listings/{slug}/versions/{version}/appeals");
    app.call(Method::POST, &path, Some(token), Some(json!({"statement": statement}))).await
}

async fn hear(app: &App, token: &str, id: i64, action: &str, rationale: &str) -> Reply {
    let body = json!({"action": action, "rationale": rationale});
    app.call(Method::POST, &format!("/v1/appeals/{id}/decision"), Some(token), Some(body)).await
}

async fn state(app: &App, slug: &str, version: &str) -> Value {
    let path = format!("/v1/listings/{slug}/versions/{version}");
    app.call(Method::GET, &path, Some(&app.acme), None).await.body["state"].clone()
}

#[tokio::test]
async fn a_rejection_is_appealed_and_a_second_reviewer_overturns_it() {
    let app = app().await;
    let second = person_token(&app.store, "sam@platform.test", "Sam Second", None, Role::Reviewer).await;
    let (slug, version) = app.reviewed("clean").await;

    // Nothing to appeal before a reviewer decided.
    let early = appeal(&app, &app.acme, &slug, &version, "please").await;
    assert_problem(&early, StatusCode::CONFLICT, "transition_not_allowed");
    let rejected = app.decide(&app.reviewer, &slug, &version, "reject", "the support page is a parked domain").await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);

    // Refusals change nothing.
    let foreign = appeal(&app, &app.globex, &slug, &version, "let me").await;
    assert_problem(&foreign, StatusCode::NOT_FOUND, "not_found");
    let staff = appeal(&app, &app.reviewer, &slug, &version, "on their behalf").await;
    assert_problem(&staff, StatusCode::FORBIDDEN, "forbidden");
    let empty = appeal(&app, &app.acme, &slug, &version, "  ").await;
    assert_problem(&empty, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(app.call(Method::GET, "/v1/appeals", Some(&app.reviewer), None).await.body, json!([]));

    let filed = appeal(&app, &app.acme, &slug, &version, "support.example.com moved; it is live again").await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
    let id = filed.body["id"].as_i64().unwrap();
    assert_eq!(filed.headers[header::LOCATION], format!("/v1/appeals/{id}"));
    assert_eq!((filed.body["status"].as_str(), filed.body["decision"].as_str()), (Some("open"), Some("reject")));
    assert_eq!(filed.body["decision_note"], "the support page is a parked domain");
    let twice = appeal(&app, &app.acme, &slug, &version, "again").await;
    assert_problem(&twice, StatusCode::CONFLICT, "conflict");
    assert!(twice.body["detail"].as_str().unwrap().contains(&format!("appeal {id}")), "{}", twice.body);

    // The reviewer who decided may not hear it; the partner may not either.
    let own = hear(&app, &app.reviewer, id, "overturn", "I was wrong").await;
    assert_problem(&own, StatusCode::FORBIDDEN, "forbidden");
    assert!(own.body["detail"].as_str().unwrap().contains("other than"), "{}", own.body);
    let partner = hear(&app, &app.acme, id, "overturn", "we win").await;
    assert_problem(&partner, StatusCode::FORBIDDEN, "forbidden");
    let silent = hear(&app, &second, id, "overturn", "").await;
    assert_problem(&silent, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(state(&app, &slug, &version).await, "rejected");

    // A second reviewer overturns it: the version is approved, and the outcome is the partner's
    // to read.
    let overturned = hear(&app, &second, id, "overturn", "the support page answers; the rejection was stale").await;
    assert_eq!(overturned.status, StatusCode::OK, "{}", overturned.body);
    assert_eq!(overturned.body["status"], "overturned");
    assert_eq!(overturned.body["heard_by"].as_str().unwrap(), "Sam Second <sam@platform.test> (platform staff)");
    assert_eq!(state(&app, &slug, &version).await, "approved");
    let again = hear(&app, &second, id, "uphold", "changed my mind").await;
    assert_problem(&again, StatusCode::CONFLICT, "conflict");
    let seen = app.call(Method::GET, &format!("/v1/appeals/{id}"), Some(&app.acme), None).await;
    assert_eq!(seen.body["rationale"], "the support page answers; the rejection was stale");
    let hidden = app.call(Method::GET, &format!("/v1/appeals/{id}"), Some(&app.globex), None).await;
    assert_problem(&hidden, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.call(Method::GET, "/v1/appeals", Some(&app.globex), None).await.body, json!([]));
    let overturned = app.call(Method::GET, "/v1/appeals?status=overturned", Some(&app.reviewer), None).await;
    assert_eq!(overturned.body[0]["id"], id);
    let bad = app.call(Method::GET, "/v1/appeals?status=maybe", Some(&app.reviewer), None).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let approved = appeal(&app, &app.acme, &slug, &version, "more").await;
    assert_problem(&approved, StatusCode::CONFLICT, "transition_not_allowed");

    // A version the checks sent back is answered by a fix or an exception, not an appeal.
    let (failing, failing_version) = app.reviewed_manifest(example("http-urls").replace(&slug, "acme-http")).await;
    let by_checks = appeal(&app, &app.acme, &failing, &failing_version, "the checks are wrong").await;
    assert_problem(&by_checks, StatusCode::CONFLICT, "transition_not_allowed");
    assert!(by_checks.body["detail"].as_str().unwrap().contains("exception"), "{}", by_checks.body);
}

/// Eight hearings of one appeal at once: one wins, seven are told it was heard; an upheld
/// decision stands.
#[tokio::test]
async fn an_appeal_is_heard_once_and_an_upheld_decision_stands() {
    let app = app().await;
    let second = person_token(&app.store, "sam@platform.test", "Sam Second", None, Role::Reviewer).await;
    let (slug, version) = app.reviewed("clean").await;
    let sent_back = app.decide(&app.reviewer, &slug, &version, "request_changes", "add a changelog").await;
    assert_eq!(sent_back.body["state"], "changes_requested", "{}", sent_back.body);
    let filed = appeal(&app, &app.acme, &slug, &version, "the changelog is in the description").await;
    let id = filed.body["id"].as_i64().unwrap();
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let (app, token) = (app.clone(), second.clone());
        let action = if n % 2 == 0 { "uphold" } else { "overturn" };
        tasks.push(tokio::spawn(async move { hear(&app, &token, id, action, &format!("hearing {n}")).await }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    let winners: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert_eq!(winners.len(), 1, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count(), 7);
    let expected = if winners[0].body["status"] == "upheld" { "changes_requested" } else { "approved" };
    assert_eq!(state(&app, &slug, &version).await, expected);

    // An upheld request for changes stands.
    let (slug, version) = app.reviewed_manifest(example("clean").replace(&slug, "acme-upheld")).await;
    app.decide(&app.reviewer, &slug, &version, "reject", "copies a competitor's name").await;
    let id = appeal(&app, &app.acme, &slug, &version, "we own the mark").await.body["id"].as_i64().unwrap();
    let upheld = hear(&app, &second, id, "uphold", "the mark is registered to someone else").await;
    assert_eq!(upheld.body["status"], "upheld", "{}", upheld.body);
    assert_eq!(state(&app, &slug, &version).await, "rejected");
}

#[tokio::test]
async fn messages_go_both_ways_internal_notes_stay_with_staff_and_a_hold_shows_to_the_partner() {
    let app = app().await;
    let (slug, version) = app.reviewed("clean").await;
    let base = format!("/v1/listings/{slug}/versions/{version}");
    let post = |token: &str, body: Value| {
        let (path, token) = (format!("{base}/messages"), token.to_owned());
        let app = &app;
        async move { app.call(Method::POST, &path, Some(&token), Some(body)).await }
    };

    let asked = post(&app.reviewer, json!({"body": "Which account should we test with?"})).await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
    assert_eq!((asked.body["staff"].as_bool(), asked.body["internal"].as_bool()), (Some(true), Some(false)));
    let answered = post(&app.acme, json!({"body": "reviewer@acme.test, password in the vault"})).await;
    assert_eq!(answered.status, StatusCode::CREATED, "{}", answered.body);
    let note = post(&app.reviewer, json!({"body": "INTERNAL: their vault link is odd", "internal": true})).await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);

    // Refusals change nothing.
    assert_problem(&post(&app.globex, json!({"body": "hi"})).await, StatusCode::NOT_FOUND, "not_found");
    let secret = post(&app.acme, json!({"body": "psst", "internal": true})).await;
    assert_problem(&secret, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_problem(&post(&app.acme, json!({"body": " "})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let long = post(&app.acme, json!({"body": "x".repeat(10_001)})).await;
    assert_problem(&long, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let missing = app
        .call(
            Method::POST,
            &format!("/v1/listings/{slug}/versions/9.9.9/messages"),
            Some(&app.acme),
            Some(json!({"body": "x"})),
        )
        .await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "not_found");

    // The partner reads both messages and never the note, here or on the timeline.
    let theirs = app.call(Method::GET, &format!("{base}/conversation"), Some(&app.acme), None).await;
    let bodies: Vec<_> = theirs.body["messages"].as_array().unwrap().iter().map(|m| m["body"].clone()).collect();
    assert_eq!(
        bodies,
        [json!("Which account should we test with?"), json!("reviewer@acme.test, password in the vault")]
    );
    let timeline = app.call(Method::GET, &format!("/v1/listings/{slug}/timeline"), Some(&app.acme), None).await;
    assert!(timeline.body.to_string().contains("Which account"), "{}", timeline.body);
    assert!(!timeline.body.to_string().contains("INTERNAL"), "{}", timeline.body);
    let staff = app.call(Method::GET, &format!("{base}/conversation"), Some(&app.reviewer), None).await;
    assert_eq!(staff.body["messages"].as_array().unwrap().len(), 3, "{}", staff.body);
    assert_eq!(staff.body["messages"][2]["internal"], true);
    let hidden = app.call(Method::GET, &format!("{base}/conversation"), Some(&app.globex), None).await;
    assert_problem(&hidden, StatusCode::NOT_FOUND, "not_found");

    // A hold, with its reason, shows to the partner until it is released.
    let hold = |token: &str, reason: &str| {
        let (path, token, body) = (format!("{base}/hold"), token.to_owned(), json!({"reason": reason}));
        let app = &app;
        async move { app.call(Method::POST, &path, Some(&token), Some(body)).await }
    };
    assert_problem(&hold(&app.acme, "me too").await, StatusCode::FORBIDDEN, "forbidden");
    assert_problem(&hold(&app.reviewer, "").await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let placed = hold(&app.reviewer, "waiting for a test account").await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_problem(&hold(&app.reviewer, "twice").await, StatusCode::CONFLICT, "conflict");
    let seen = app.call(Method::GET, &base, Some(&app.acme), None).await;
    assert_eq!(seen.body["hold"]["reason"], "waiting for a test account", "{}", seen.body);
    let released = app.call(Method::DELETE, &format!("{base}/hold"), Some(&app.reviewer), None).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert!(released.body["released_at"].is_string(), "{}", released.body);
    assert_eq!(app.call(Method::GET, &base, Some(&app.acme), None).await.body["hold"], Value::Null);
    let not_held = app.call(Method::DELETE, &format!("{base}/hold"), Some(&app.reviewer), None).await;
    assert_problem(&not_held, StatusCode::CONFLICT, "transition_not_allowed");

    // A decision ends a hold; a decided version is not put on hold.
    assert_eq!(hold(&app.reviewer, "one more question").await.status, StatusCode::CREATED);
    app.decide(&app.reviewer, &slug, &version, "approve", "answered").await;
    let after = app.call(Method::GET, &base, Some(&app.acme), None).await;
    assert_eq!((after.body["state"].as_str(), &after.body["hold"]), (Some("approved"), &Value::Null));
    let holds =
        app.call(Method::GET, &format!("{base}/conversation"), Some(&app.acme), None).await.body["holds"].clone();
    assert_eq!(holds.as_array().unwrap().len(), 2);
    assert!(holds.as_array().unwrap().iter().all(|h| h["released_at"].is_string()), "{holds}");
    assert_problem(&hold(&app.reviewer, "late").await, StatusCode::CONFLICT, "transition_not_allowed");
}
