//! One configuration for every process: the file, the environment and flags, in that order;
//! `assay config show|check`; flags only where they mean something.

use super::{assay, run};

#[test]
fn config_show_says_where_each_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("assay.toml");
    std::fs::write(&file, "[service]\nworkers = 3\nlease_secs = 20\n\n[sandbox]\ntimeout_ms = 500\n").unwrap();
    let out = run(assay().env("ASSAY_CONFIG", &file).env("ASSAY_TIMEOUT_MS", "700").args([
        "config",
        "show",
        "--lease-secs",
        "9",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = |key: &str| out.stdout.lines().find(|l| l.starts_with(key)).unwrap_or_default().to_owned();
    assert!(line("workers = 3").ends_with(&format!("# {}:2", file.display())), "{}", out.stdout);
    assert!(line("lease_secs = 9").ends_with("# flag --lease-secs"), "{}", out.stdout);
    assert!(line("timeout_ms = 700").ends_with("# environment ASSAY_TIMEOUT_MS"), "{}", out.stdout);
    assert!(line("max_memory_mib = 64").ends_with("# default"), "{}", out.stdout);
    assert!(out.stdout.contains("# fuel (unset: no fuel budget)"), "{}", out.stdout);
    // What it prints is a configuration file.
    let printed = dir.path().join("printed.toml");
    std::fs::write(&printed, &out.stdout).unwrap();
    let check = run(assay().args(["config", "check"]).arg(&printed));
    assert_eq!(check.code, 0, "{}", check.stderr);
}

#[test]
fn config_check_names_the_line_of_each_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("assay.toml");
    for (text, says) in [
        ("[service]\nworkers = 0\n", "must be 1 to 64"),
        ("[sandbox]\ntimeout = 5\n", "unknown field `timeout`"),
        ("[server]\nlisten = \"8420\"\n", "not an address and port"),
        ("[service]\nresource_regression_factor = 0.5\n", "not a factor of 1 or more"),
        ("[service]\nworkers = \"four\"\n", "invalid type"),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = run(assay().args(["config", "check"]).arg(&file));
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert!(out.stderr.contains("line 2") && out.stderr.contains(says), "{text}: {}", out.stderr);
        // A process that reads the file refuses to start, with the same message.
        let out = run(assay().arg("--config").arg(&file).args(["check", "examples/listings/clean"]));
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{text}: {}", out.stderr);
    }
    let out = run(assay().env("ASSAY_WORKERS", "lots").args(["config", "show"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("environment variable ASSAY_WORKERS: `lots` is not a whole number"), "{}", out.stderr);
}

#[test]
fn the_file_configures_checks_and_a_flag_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("assay.toml");
    // One unit of fuel: no rule can run.
    std::fs::write(&file, "[sandbox]\nfuel = 1\n").unwrap();
    let starved = run(assay().arg("--config").arg(&file).args(["check", "examples/listings/clean"]));
    assert_eq!(starved.code, 3, "{}{}", starved.stdout, starved.stderr);
    let fed =
        run(assay().arg("--config").arg(&file).args(["check", "examples/listings/clean", "--fuel", "10000000000"]));
    assert_eq!(fed.code, 0, "{}{}", fed.stdout, fed.stderr);
}

#[test]
fn sandbox_flags_only_where_checks_run() {
    let help = |args: &[&str]| run(assay().args(args).arg("--help")).stdout;
    for command in [&["check"][..], &["rules", "list"], &["serve"], &["worker"]] {
        // Help wraps to the terminal's width; compare words, not lines.
        let text = help(command).split_whitespace().collect::<Vec<_>>().join(" ");
        for flag in ["--timeout-ms", "--fuel", "--max-memory-mib", "--cache-dir", "--no-cache"] {
            assert!(text.contains(flag), "{command:?} lacks {flag}");
        }
        assert!(text.contains("[env: ASSAY_TIMEOUT_MS] [default: 2000]"), "{command:?}: {text}");
    }
    let replay = help(&["replay"]);
    assert!(replay.contains("--cache-dir") && !replay.contains("--timeout-ms"), "{replay}");
    for command in [&["submit"][..], &["status"], &["review", "queue"], &["token", "create"], &["openapi"]] {
        let text = help(command);
        assert!(!text.contains("--timeout-ms") && !text.contains("--cache-dir"), "{command:?}: {text}");
    }
    let worker = help(&["worker"]);
    assert!(worker.contains("--resource-regression-factor"), "{worker}");
    // The token is optional on the command line: the environment can supply it.
    let submit = help(&["submit"]);
    let usage = submit.lines().find(|l| l.starts_with("Usage:")).unwrap();
    assert!(!usage.contains("--token"), "{usage}");
    assert!(submit.contains("[env: ASSAY_TOKEN"), "{submit}");
}

#[test]
fn a_missing_token_is_a_clear_error() {
    let out = run(assay().env_remove("ASSAY_TOKEN").args(["status", "--server", "http://127.0.0.1:9"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no API token: pass --token TOKEN or set ASSAY_TOKEN"), "{}", out.stderr);
}
