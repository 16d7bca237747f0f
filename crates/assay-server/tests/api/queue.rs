//! The review queue people plan around: claims and assignments (a claim never takes a version
//! another reviewer has), filters, holds that stop the clock, and the place a partner sees.

use super::*;

async fn assign(app: &App, token: &str, slug: &str, version: &str, reviewer: &str) -> Reply {
    let path = format!("/v1/listings/{slug}/versions/{version}/assignee");
    app.call(Method::PUT, &path, Some(token), Some(json!({"reviewer": reviewer}))).await
}

async fn queue(app: &App, token: &str, query: &str) -> Vec<String> {
    let reply = app.call(Method::GET, &format!("/v1/review-queue{query}"), Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body.as_array().unwrap().iter().map(|i| i["slug"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn reviewers_claim_assign_and_filter_the_queue_and_partners_see_their_place() {
    let app = app().await;
    let sam = person_token(&app.store, "sam@platform.test", "Sam Second", None, Role::Reviewer).await;
    person_token(&app.store, "ada@acme.test", "Ada Lovelace", Some("acme"), Role::Owner).await;
    let clean = example("clean");
    let original = slug_of(&clean);
    let mut waiting = Vec::new();
    for (name, slug) in [("clean", "acme-a"), ("clean", "acme-b"), ("shouting", "acme-c")] {
        let manifest = example(name).replace(&original, slug);
        waiting.push(app.reviewed_manifest(manifest).await);
    }
    let [(a, va), (b, vb), (c, vc)] = [&waiting[0], &waiting[1], &waiting[2]];

    // The partner sees where its version stands, and when to expect a decision.
    let got = app.call(Method::GET, &format!("/v1/listings/{b}/versions/{vb}"), Some(&app.acme), None).await;
    let place = &got.body["review_queue"];
    assert_eq!((place["position"].as_i64(), place["waiting"].as_i64()), (Some(2), Some(3)), "{}", got.body);
    let expected: jiff::Timestamp = place["expected_by"].as_str().unwrap().parse().unwrap();
    let days = (expected - jiff::Timestamp::now()).get_seconds() / 86_400;
    assert!((6..=9).contains(&days), "5 business days ahead, weekends aside: {days} days");
    assert!(place.get("assignee").is_none(), "the reviewer's name is staff's: {place}");

    // Claims: one reviewer each; a reviewer gives one to another; refusals change nothing.
    assert_eq!(assign(&app, &app.reviewer, a, va, "me").await.status, StatusCode::OK);
    let taken = assign(&app, &sam, a, va, "me").await;
    assert_problem(&taken, StatusCode::CONFLICT, "conflict");
    assert!(taken.body["detail"].as_str().unwrap().contains("is assigned to"), "{}", taken.body);
    assert_eq!(
        assign(&app, &sam, b, vb, "me").await.body["assignee"],
        "Sam Second <sam@platform.test> (platform staff)"
    );
    assert_eq!(assign(&app, &app.reviewer, c, vc, "sam@platform.test").await.status, StatusCode::OK);
    let partner = assign(&app, &app.reviewer, c, vc, "ada@acme.test").await;
    assert_problem(&partner, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let nobody = assign(&app, &app.reviewer, c, vc, "nobody@platform.test").await;
    assert_problem(&nobody, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_problem(&assign(&app, &app.acme, c, vc, "me").await, StatusCode::FORBIDDEN, "forbidden");

    // Filters.
    assert_eq!(queue(&app, &app.reviewer, "").await, ["acme-a", "acme-b", "acme-c"]);
    assert_eq!(queue(&app, &app.reviewer, "?assignee=me").await, ["acme-a"]);
    assert_eq!(queue(&app, &sam, "?assignee=me").await, ["acme-b", "acme-c"]);
    assert_eq!(queue(&app, &app.reviewer, "?assignee=sam%40platform.test").await, ["acme-b", "acme-c"]);
    assert!(queue(&app, &app.reviewer, "?state=unassigned").await.is_empty());
    let unassigned =
        app.call(Method::DELETE, &format!("/v1/listings/{c}/versions/{vc}/assignee"), Some(&sam), None).await;
    assert_eq!(unassigned.status, StatusCode::NO_CONTENT, "{}", unassigned.body);
    assert_eq!(queue(&app, &app.reviewer, "?state=unassigned").await, ["acme-c"]);
    assert_eq!(queue(&app, &app.reviewer, "?rule=copy.shouting").await, ["acme-c"]);
    assert_eq!(queue(&app, &app.reviewer, "?partner=acme&verdict=pass").await.len(), 3);
    assert!(queue(&app, &app.reviewer, "?partner=globex").await.is_empty());
    let bad = app.call(Method::GET, "/v1/review-queue?state=sleeping", Some(&app.reviewer), None).await;
    assert_problem(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");

    // A hold shows in the queue and stops the clock: its due date moves with the time held.
    let hold_path = format!("/v1/listings/{b}/versions/{vb}/hold");
    let placed =
        app.call(Method::POST, &hold_path, Some(&sam), Some(json!({"reason": "waiting for a test account"}))).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(queue(&app, &app.reviewer, "?state=held").await, ["acme-b"]);
    assert_eq!(queue(&app, &app.reviewer, "?state=waiting").await, ["acme-a", "acme-c"]);
    let items = app.call(Method::GET, "/v1/review-queue?state=held", Some(&app.reviewer), None).await.body;
    assert_eq!(items[0]["hold"], "waiting for a test account");
    assert!(items[0]["time_left_secs"].as_i64().unwrap() > 4 * 86_400, "{items}");
    assert!(queue(&app, &app.reviewer, "?state=past_target").await.is_empty());
    let page = app.call(Method::GET, &format!("/v1/listings/{b}/versions/{vb}"), Some(&app.acme), None).await;
    assert_eq!(page.body["hold"]["reason"], "waiting for a test account");

    // Deciding takes a version off the queue; the others move up.
    let decide = format!("/v1/listings/{a}/versions/{va}/decisions");
    app.call(Method::POST, &decide, Some(&app.reviewer), Some(json!({"action": "approve", "note": "ok"}))).await;
    let got = app.call(Method::GET, &format!("/v1/listings/{c}/versions/{vc}"), Some(&app.acme), None).await;
    assert_eq!(got.body["review_queue"]["position"], 2, "{}", got.body);
    let gone = app.call(Method::GET, &format!("/v1/listings/{a}/versions/{va}"), Some(&app.acme), None).await;
    assert_eq!(gone.body["review_queue"], Value::Null);

    // Operators read the queue's clock in /metrics.
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(text.contains("assay_reviews_past_target 0"), "{text}");
    assert!(text.contains("assay_review_first_decision_seconds_bucket"), "a histogram, not a summary: {text}");
}
