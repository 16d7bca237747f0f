//! People, organisations and tokens from the command line, against a real `assay serve`: the
//! first admin bootstrapped on the store, everyone after through the server.

use super::serve::{Data, Server};
use super::{assay, run};

fn as_(server: &Server, token: &str, args: &[&str]) -> super::Output {
    run(assay().args(args).env("ASSAY_SERVER", &server.url).env("ASSAY_TOKEN", token))
}

fn ok(out: super::Output) -> super::Output {
    assert_eq!(out.code, 0, "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    out
}

fn secret(out: &super::Output) -> String {
    out.stdout.split_whitespace().last().unwrap().to_owned()
}

#[test]
fn an_admin_bootstraps_a_partner_whose_owner_runs_its_people_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data::Dir(dir.path().join("data"));
    let mut bootstrap = assay();
    bootstrap
        .args(["token", "create", "--role", "admin", "--email", "Ada@Example.com", "--name", "Ada Lovelace"])
        .args(data.args());
    let out = ok(run(&mut bootstrap));
    assert!(out.stdout.contains("for Ada Lovelace <ada@example.com> (platform staff)"), "{}", out.stdout);
    let admin = secret(&out);
    let server = Server::start_with(&data, None, &[]);

    let me = ok(as_(&server, &admin, &["whoami"]));
    assert!(me.stdout.starts_with("Ada Lovelace <ada@example.com> (platform staff)"), "{}", me.stdout);
    assert!(me.stdout.contains("admin in staff"), "{}", me.stdout);

    ok(as_(
        &server,
        &admin,
        &[
            "partner",
            "create",
            "acme",
            "--owner-email",
            "olu@acme.test",
            "--owner-name",
            "Olu Okafor",
            "--capability",
            "list",
        ],
    ));
    let first = ok(as_(&server, &admin, &["member", "token", "acme", "olu@acme.test"]));
    assert!(first.stderr.contains("for olu@acme.test"), "{}", first.stderr);
    let owner = secret(&first);

    // The owner adds a developer and makes a CI token for a service account.
    ok(as_(
        &server,
        &owner,
        &["member", "add", "acme", "dev@acme.test", "--name", "Dev Eloper", "--role", "developer"],
    ));
    let listed = ok(as_(&server, &owner, &["member", "list", "acme"]));
    assert!(listed.stdout.contains("dev@acme.test") && listed.stdout.contains("olu@acme.test"), "{}", listed.stdout);
    let ci = ok(as_(
        &server,
        &owner,
        &["token", "create", "ci", "--service-account", "--scope", "submit", "--expires-in-days", "30"],
    ));
    assert!(ci.stderr.contains("a service account of acme") && ci.stderr.contains("read, submit"), "{}", ci.stderr);
    let ci = secret(&ci);
    assert!(ok(as_(&server, &ci, &["whoami"])).stdout.starts_with("ci (service account, acme)"));
    let tokens = ok(as_(&server, &owner, &["token", "list", "--of", "organisation"]));
    assert!(tokens.stdout.contains(" ci ") && tokens.stdout.contains("first sign-in"), "{}", tokens.stdout);

    // Refusals carry their codes and change nothing.
    let viewer_scope = as_(&server, &ci, &["member", "add", "acme", "x@acme.test", "--name", "X", "--role", "viewer"]);
    assert_eq!(viewer_scope.code, 2, "{}", viewer_scope.stderr);
    assert!(viewer_scope.stderr.contains("forbidden"), "{}", viewer_scope.stderr);
    let last = as_(&server, &owner, &["member", "remove", "acme", "olu@acme.test"]);
    assert_eq!(last.code, 2);
    assert!(last.stderr.contains("last_owner"), "{}", last.stderr);
    let staff_only = as_(&server, &owner, &["partner", "grant", "acme", "certify", "--rationale", "please"]);
    assert!(staff_only.code == 2 && staff_only.stderr.contains("forbidden"), "{}", staff_only.stderr);

    // The admin's decisions show in the partner's history, with the admin's name.
    ok(as_(&server, &admin, &["partner", "grant", "acme", "certify", "--rationale", "Passed the audit"]));
    let shown = ok(as_(&server, &owner, &["partner", "show", "acme"]));
    assert!(shown.stdout.contains("capabilities certify, list"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains(
            "Ada Lovelace <ada@example.com> (platform staff): capabilities=certify,list (was list): Passed the audit"
        ),
        "{}",
        shown.stdout
    );

    // Rotation with no grace ends the old secret at once; revocation ends the new one.
    let id = tokens
        .stdout
        .lines()
        .find(|l| l.contains(" ci "))
        .unwrap()
        .trim_start_matches('#')
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let rotated = ok(as_(&server, &owner, &["token", "rotate", &id, "--grace-hours", "0"]));
    let new_ci = secret(&rotated);
    let old = as_(&server, &ci, &["whoami"]);
    assert!(old.code == 2 && old.stderr.contains("token_expired"), "{}", old.stderr);
    ok(as_(&server, &new_ci, &["whoami"]));
    let new_id: String =
        rotated.stderr.split("then use token #").nth(1).unwrap().chars().take_while(char::is_ascii_digit).collect();
    ok(as_(&server, &owner, &["token", "revoke", &new_id]));
    let revoked = as_(&server, &new_ci, &["whoami"]);
    assert!(revoked.code == 2 && revoked.stderr.contains("token_revoked"), "{}", revoked.stderr);
}
