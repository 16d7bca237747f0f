//! Exit codes and how errors reach the user.

use std::io::Write;
use std::process::ExitCode;

/// The documented exit codes (also in `assay --help`).
pub const PASS: u8 = 0;
/// Blocking findings.
pub const FAIL: u8 = 1;
/// Bad input or usage.
pub const INPUT: u8 = 2;
/// A plugin or the host failed.
pub const HOST: u8 = 3;

/// An error that ends the command, with the exit code it maps to.
#[derive(Debug)]
pub enum Failure {
    /// Bad input or usage (exit 2); may carry a pre-rendered diagnostic.
    Input(anyhow::Error, Option<String>),
    /// The host could not run (exit 3).
    Host(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Input(..) => INPUT,
            Failure::Host(_) => HOST,
        })
    }

    pub fn report(&self, out: &mut impl Write) -> std::io::Result<()> {
        match self {
            Failure::Input(_, Some(rendered)) => writeln!(out, "{rendered}"),
            Failure::Input(e, None) | Failure::Host(e) => {
                let style = anstyle::AnsiColor::Red.on_default().bold();
                writeln!(out, "{style}error{style:#}: {e:#}")
            }
        }
    }
}

/// `?` on input errors: `.input()?`.
pub trait InputContext<T> {
    fn input(self) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> InputContext<T> for Result<T, E> {
    fn input(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Input(e.into(), None))
    }
}
