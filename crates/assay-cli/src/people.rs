//! `assay whoami`, `assay member …`, `assay partner …` and the server side of `assay token …`:
//! people, organisations and credentials through the review service, with the caller's own
//! authority.

use std::process::ExitCode;

use assay_api::people::{
    AddMember, CapabilityDecided, CapabilityName, ChangeMember, CreatePartner, CreateToken, DecideCapabilities,
    IssuedToken, Me, Member, NewOwner, Partner, PartnerDetail, RoleName, RotateToken, ScopeName, Token,
};
use serde_json::Value;

use crate::args::{
    CapabilityArg, CapabilityDecisionArgs, ClientArgs, ClientFormat, MemberCommand, MemberRoleArg, PartnerCommand,
    PartnerDecisionArgs, ScopeArg, TokenCreateArgs, TokensOfArg,
};
use crate::client::{Client, expect, print_json};
use crate::exit::Failure;

fn role(arg: MemberRoleArg) -> RoleName {
    match arg {
        MemberRoleArg::Admin => RoleName::Admin,
        MemberRoleArg::Reviewer => RoleName::Reviewer,
        MemberRoleArg::Owner => RoleName::Owner,
        MemberRoleArg::Developer => RoleName::Developer,
        MemberRoleArg::Viewer => RoleName::Viewer,
    }
}

fn capability(arg: CapabilityArg) -> CapabilityName {
    match arg {
        CapabilityArg::List => CapabilityName::List,
        CapabilityArg::Certify => CapabilityName::Certify,
        CapabilityArg::Checks => CapabilityName::Checks,
    }
}

/// A wire enum's name as it is sent (`owner`, `submit`, `certify`).
fn name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn names<T: serde::Serialize>(values: &[T]) -> String {
    let all: Vec<String> = values.iter().map(name).collect();
    if all.is_empty() { "none".into() } else { all.join(", ") }
}

/// A name as a path segment: unreserved characters and `@` as they are, every other byte
/// percent-encoded.
pub(crate) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

pub fn whoami(client: &ClientArgs, format: ClientFormat) -> Result<ExitCode, Failure> {
    let me: Me = expect(Client::new(client)?.get("/v1/me")?)?;
    if format == ClientFormat::Json {
        return print_json(&me).map(|()| ExitCode::SUCCESS);
    }
    println!("{}", me.actor);
    println!("  role:         {} in {}", name(&me.role), me.organisation);
    println!("  token:        #{} `{}`, scopes {}", me.token.id, me.token.name, names(&me.scopes));
    if let Some(expires) = &me.token.expires {
        println!("  expires:      {expires}");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_tokens(tokens: &[Token]) {
    if tokens.is_empty() {
        println!("no tokens; `assay token create NAME` issues one");
    }
    for t in tokens {
        let owner = t.owner.clone().unwrap_or_else(|| format!("service account of {}", t.organisation));
        let used = t.last_used.as_deref().map_or("never used".to_owned(), |at| format!("last used {at}"));
        let expires = t.expires.as_deref().unwrap_or("never");
        println!(
            "#{:<5} {:<16} {:<8} {:<28} scopes {:<24} expires {expires}, {used}",
            t.id,
            t.name,
            t.state,
            owner,
            names(&t.scopes)
        );
    }
}

fn scope(arg: ScopeArg) -> ScopeName {
    match arg {
        ScopeArg::Read => ScopeName::Read,
        ScopeArg::Submit => ScopeName::Submit,
        ScopeArg::Review => ScopeName::Review,
        ScopeArg::Admin => ScopeName::Admin,
    }
}

pub fn create_token(args: &TokenCreateArgs) -> Result<ExitCode, Failure> {
    let scopes = args.scopes.iter().copied().map(scope).collect();
    let body = CreateToken {
        name: args.token_name.clone().unwrap_or_default(),
        scopes,
        expires_in_days: Some(u32::from(args.expires_in_days)),
        service_account: args.service_account,
    };
    let issued: IssuedToken = expect(Client::new(&args.client)?.post("/v1/tokens", &body)?)?;
    announce(&issued);
    Ok(ExitCode::SUCCESS)
}

/// Print a new token: what it is on stderr, the secret alone as the last word on stdout.
fn announce(issued: &IssuedToken) {
    let t = &issued.token;
    let owner = t.owner.clone().unwrap_or_else(|| format!("a service account of {}", t.organisation));
    eprintln!(
        "Token #{} `{}` for {owner}, scopes {}, expires {}. Store it now: it is shown once and only its hash is kept.",
        t.id,
        t.name,
        names(&t.scopes),
        t.expires.as_deref().unwrap_or("never")
    );
    println!("{}", issued.secret);
}

pub fn list_tokens(of: TokensOfArg, client: &ClientArgs, format: ClientFormat) -> Result<ExitCode, Failure> {
    let of = match of {
        TokensOfArg::Mine => "mine",
        TokensOfArg::Organisation => "organisation",
        TokensOfArg::All => "all",
    };
    let tokens: Vec<Token> = expect(Client::new(client)?.get(&format!("/v1/tokens?of={of}"))?)?;
    if format == ClientFormat::Json {
        return print_json(&tokens).map(|()| ExitCode::SUCCESS);
    }
    print_tokens(&tokens);
    Ok(ExitCode::SUCCESS)
}

pub fn revoke_token(id: i64, client: &ClientArgs) -> Result<ExitCode, Failure> {
    let token: Token = expect(Client::new(client)?.delete(&format!("/v1/tokens/{id}"))?)?;
    println!("revoked token #{} `{}`", token.id, token.name);
    Ok(ExitCode::SUCCESS)
}

pub fn rotate_token(id: i64, grace_hours: u32, client: &ClientArgs) -> Result<ExitCode, Failure> {
    let body = RotateToken { grace_hours: Some(grace_hours) };
    let issued: IssuedToken = expect(Client::new(client)?.post(&format!("/v1/tokens/{id}/rotate"), &body)?)?;
    eprintln!("Token #{id} keeps working for {grace_hours} hours; then use token #{}.", issued.token.id);
    announce(&issued);
    Ok(ExitCode::SUCCESS)
}

fn print_members(members: &[Member]) {
    if members.is_empty() {
        println!("no members");
    }
    for m in members {
        println!("{:<32} {:<24} {:<9} joined {}", m.email, m.name, name(&m.role), m.joined);
    }
}

pub fn member(command: &MemberCommand) -> Result<ExitCode, Failure> {
    match command {
        MemberCommand::List { organisation, client, format } => {
            let path = format!("/v1/organisations/{}/members", segment(organisation));
            let members: Vec<Member> = expect(Client::new(client)?.get(&path)?)?;
            if *format == ClientFormat::Json {
                return print_json(&members).map(|()| ExitCode::SUCCESS);
            }
            print_members(&members);
        }
        MemberCommand::Add { organisation, email, name: person, role: r, client } => {
            let body = AddMember { email: email.clone(), name: person.clone(), role: role(*r) };
            let path = format!("/v1/organisations/{}/members", segment(organisation));
            let added: Member = expect(Client::new(client)?.post(&path, &body)?)?;
            println!("added {} <{}> to {} as {}", added.name, added.email, added.organisation, name(&added.role));
        }
        MemberCommand::SetRole { organisation, email, role: r, client } => {
            let path = format!("/v1/organisations/{}/members/{}", segment(organisation), segment(email));
            let changed: Member = expect(Client::new(client)?.patch(&path, &ChangeMember { role: role(*r) })?)?;
            println!("{} is now {} in {}", changed.email, name(&changed.role), changed.organisation);
        }
        MemberCommand::Token { organisation, email, name: token_name, scopes, expires_in_days, client } => {
            let body = CreateToken {
                name: token_name.clone(),
                scopes: scopes.iter().copied().map(scope).collect(),
                expires_in_days: Some(*expires_in_days),
                service_account: false,
            };
            let path = format!("/v1/organisations/{}/members/{}/tokens", segment(organisation), segment(email));
            let issued: IssuedToken = expect(Client::new(client)?.post(&path, &body)?)?;
            announce(&issued);
        }
        MemberCommand::Remove { organisation, email, client } => {
            let path = format!("/v1/organisations/{}/members/{}", segment(organisation), segment(email));
            let removed: Member = expect(Client::new(client)?.delete(&path)?)?;
            println!("{} left {}; their tokens no longer work", removed.email, removed.organisation);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_partner(p: &Partner) {
    let suspended = p.suspended.as_deref().map(|at| format!(", suspended since {at}")).unwrap_or_default();
    println!("{:<24} capabilities {}{suspended}", p.name, names(&p.capabilities));
}

fn decide(partner: &str, client: &ClientArgs, body: &DecideCapabilities) -> Result<ExitCode, Failure> {
    let path = format!("/v1/partners/{}/capabilities", segment(partner));
    let decided: CapabilityDecided = expect(Client::new(client)?.post(&path, body)?)?;
    print_partner(&decided.partner);
    for v in &decided.uncertified {
        println!("  certified mark removed: {v}");
    }
    Ok(ExitCode::SUCCESS)
}

fn capability_decision(args: &CapabilityDecisionArgs, grant: bool) -> Result<ExitCode, Failure> {
    let capabilities: Vec<CapabilityName> = args.capabilities.iter().copied().map(capability).collect();
    let (grant, revoke) = if grant { (capabilities, Vec::new()) } else { (Vec::new(), capabilities) };
    let body = DecideCapabilities { grant, revoke, suspend: None, rationale: args.rationale.clone() };
    decide(&args.name, &args.client, &body)
}

pub fn partner(command: &PartnerCommand) -> Result<ExitCode, Failure> {
    match command {
        PartnerCommand::List { client, format } => {
            let partners: Vec<Partner> = expect(Client::new(client)?.get("/v1/partners")?)?;
            if *format == ClientFormat::Json {
                return print_json(&partners).map(|()| ExitCode::SUCCESS);
            }
            partners.iter().for_each(print_partner);
        }
        PartnerCommand::Show { name: partner, client, format } => {
            let detail: PartnerDetail =
                expect(Client::new(client)?.get(&format!("/v1/partners/{}", segment(partner)))?)?;
            if *format == ClientFormat::Json {
                return print_json(&detail).map(|()| ExitCode::SUCCESS);
            }
            print_partner(&detail.partner);
            println!("members:");
            print_members(&detail.members);
            println!("capability history:");
            for h in &detail.history {
                println!("  {}  {}: {}", h.at, h.actor, h.detail);
            }
        }
        PartnerCommand::Create { name: partner, owner_email, owner_name, capabilities, client } => {
            let body = CreatePartner {
                name: partner.clone(),
                capabilities: capabilities.iter().copied().map(capability).collect(),
                owner: NewOwner { email: owner_email.clone(), name: owner_name.clone() },
            };
            let created: PartnerDetail = expect(Client::new(client)?.post("/v1/partners", &body)?)?;
            print_partner(&created.partner);
            println!("owner: {} <{}>", owner_name, created.members.first().map_or(owner_email, |m| &m.email));
        }
        PartnerCommand::Grant(args) => return capability_decision(args, true),
        PartnerCommand::Revoke(args) => return capability_decision(args, false),
        PartnerCommand::Suspend(args) => return suspension(args, true),
        PartnerCommand::Restore(args) => return suspension(args, false),
    }
    Ok(ExitCode::SUCCESS)
}

fn suspension(args: &PartnerDecisionArgs, suspend: bool) -> Result<ExitCode, Failure> {
    let body =
        DecideCapabilities { grant: vec![], revoke: vec![], suspend: Some(suspend), rationale: args.rationale.clone() };
    decide(&args.name, &args.client, &body)
}
