//! `assay`: the command line. Glue only: parse arguments, call the libraries, render, pick
//! the exit code. See `assay --help`.

use assay_api::reviews::MoveAction;

mod args;
mod audit;
mod check;
mod client;
mod config;
mod conversation;
mod exceptions;
mod exit;
mod lifecycle;
mod people;
mod report;
mod review;
mod rules;
mod serve;
mod setup;
mod status;
mod submit;
mod token;
mod worker;

use std::process::ExitCode;

use clap::FromArgMatches as _;

use crate::args::{AuditCommand, ChecksCommand, Cli, Command, ConfigCommand, RulesCommand, TokenCommand};

fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&args::command().get_matches()).unwrap_or_else(|e| e.exit());
    // Commands that run checks, the service or the store read the configuration file; the API
    // clients and `config check` (whose subject is a file) do not.
    let file = match &cli.command {
        Command::Check(_)
        | Command::Replay(_)
        | Command::Rules {
            command: RulesCommand::List(_) | RulesCommand::Test(_) | RulesCommand::Show(_) | RulesCommand::Pull(_),
        }
        | Command::Serve(_)
        | Command::Worker(_)
        | Command::Token { .. }
        | Command::Audit { .. }
        | Command::Config { command: ConfigCommand::Show(_) } => config::File::Find(cli.global.config.as_deref()),
        _ => config::File::Skip,
    };
    let resolved = match config::resolve(file, args::flags(&cli.global, &cli.command)) {
        Ok(resolved) => resolved,
        Err(e) => {
            let failure = exit::Failure::Input(e.context("configuration"), None);
            let _ = failure.report(&mut anstream::stderr());
            return failure.exit_code();
        }
    };
    let config = &resolved.config;
    let server = matches!(cli.command, Command::Serve(_) | Command::Worker(_));
    setup::install_logging(cli.global.verbose, cli.global.color, config.log.format, server);
    match cli.global.color {
        args::ColorChoice::Auto => {}
        args::ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
        args::ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
    }
    let result = match &cli.command {
        Command::Check(args) => check::run(config, args),
        Command::Replay(args) => check::replay(config, args),
        Command::Rules { command: RulesCommand::List(args) } => rules::list(config, args),
        Command::Rules { command: RulesCommand::Publish(args) } => rules::publish(args),
        Command::Rules { command: RulesCommand::Status(args) } => rules::status(args),
        Command::Rules { command: RulesCommand::Test(args) } => rules::test(config, args),
        Command::Rules { command: RulesCommand::Show(args) } => rules::show(config, args),
        Command::Rules { command: RulesCommand::Pull(args) } => rules::pull::run(config, args),
        Command::Rules { command: RulesCommand::New(args) } => rules::new::run(args),
        Command::Worker(_) => worker::run(config),
        Command::Checks { command: ChecksCommand::Update(args) } => rules::update_checks(args),
        Command::Token { command: TokenCommand::Create(args) } if args.role.is_some() => token::create(config, args),
        Command::Token { command: TokenCommand::Create(args) } => people::create_token(args),
        Command::Token { command: TokenCommand::List { of, client, format } } => {
            people::list_tokens(*of, client, *format)
        }
        Command::Token { command: TokenCommand::Revoke(args) } if args.on_store => token::revoke(config, args),
        Command::Token { command: TokenCommand::Revoke(args) } => people::revoke_token(args.id, &args.client),
        Command::Token { command: TokenCommand::Rotate { id, grace_hours, client } } => {
            people::rotate_token(*id, *grace_hours, client)
        }
        Command::Whoami { client, format } => people::whoami(client, *format),
        Command::Member { command } => people::member(command),
        Command::Partner { command } => people::partner(command),
        Command::Audit { command: AuditCommand::Verify(args) } => audit::verify(config, args),
        Command::Serve(args) => serve::run(config, args),
        Command::Submit(args) => submit::run(args),
        Command::Status(args) => status::run(args),
        Command::Review { command } => review::run(command),
        Command::Exception { command } => exceptions::run(command),
        Command::Appeal { command } => conversation::appeal(command),
        Command::Conversation { command } => conversation::run(command),
        Command::Release { target, client } => review::move_version(target, MoveAction::Release, "", client),
        Command::Withdraw { target, note, client } => review::move_version(target, MoveAction::Withdraw, note, client),
        Command::AutoRelease { slug, off, client } => review::auto_release(slug, !off, client),
        Command::Rollback { target, client } => review::move_version(target, MoveAction::Rollback, "", client),
        Command::Notice { command } => lifecycle::notice(command),
        Command::Deprecate(args) => lifecycle::deprecate(args),
        Command::Webhook { command } => lifecycle::webhook(command),
        Command::Config { command: ConfigCommand::Show(_) } => {
            print!("{}", config::show(&resolved));
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { command: ConfigCommand::Check { file } } => config::check_file(file),
        Command::Openapi => {
            print!("{}", assay_server::openapi_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut args::command(), "assay", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", report::schema());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            let mut stderr = anstream::stderr();
            let _ = failure.report(&mut stderr);
            failure.exit_code()
        }
    }
}
