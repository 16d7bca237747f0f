//! `assay`: the command line. Glue only: parse arguments, call the libraries, render, pick
//! the exit code. See `assay --help`.

mod args;
mod check;
mod client;
mod exit;
mod lifecycle;
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

use clap::Parser;

use crate::args::{ChecksCommand, Cli, Command, RulesCommand, TokenCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let server = matches!(cli.command, Command::Serve(_) | Command::Worker(_));
    setup::install_logging(cli.global.verbose, cli.global.color, cli.global.log_format, server);
    match cli.global.color {
        args::ColorChoice::Auto => {}
        args::ColorChoice::Always => anstream::ColorChoice::Always.write_global(),
        args::ColorChoice::Never => anstream::ColorChoice::Never.write_global(),
    }
    let result = match &cli.command {
        Command::Check(args) => check::run(&cli.global, args),
        Command::Replay(args) => check::replay(&cli.global, args),
        Command::Rules { command: RulesCommand::List(args) } => rules::list(&cli.global, args),
        Command::Rules { command: RulesCommand::Publish(args) } => rules::publish(args),
        Command::Rules { command: RulesCommand::Status(args) } => rules::status(args),
        Command::Worker(args) => worker::run(&cli.global, args),
        Command::Checks { command: ChecksCommand::Update(args) } => rules::update_checks(args),
        Command::Token { command: TokenCommand::Create(args) } => token::create(args),
        Command::Serve(args) => serve::run(&cli.global, args),
        Command::Submit(args) => submit::run(args),
        Command::Status(args) => status::run(args),
        Command::Review { command } => review::run(command),
        Command::Notice { command } => lifecycle::notice(command),
        Command::Deprecate(args) => lifecycle::deprecate(args),
        Command::Webhook { command } => lifecycle::webhook(command),
        Command::Openapi => {
            print!("{}", assay_server::openapi_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(*shell, &mut Cli::command(), "assay", &mut std::io::stdout());
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
