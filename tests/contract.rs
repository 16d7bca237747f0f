//! The WIT contract (`wit/`): rendered as a snapshot so every change to the interface shows in
//! review, and held to its documentation rule — every item has a `///` doc comment.

#![allow(clippy::unwrap_used)] // test code fails by panicking

use std::path::Path;

use wit_parser::{Docs, Resolve, TypeDefKind};

fn resolve() -> (Resolve, wit_parser::PackageId) {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")).unwrap();
    (resolve, pkg)
}

#[test]
fn contract_snapshot() {
    let (resolve, pkg) = resolve();
    let mut printer = wit_component::WitPrinter::default();
    printer.print(&resolve, pkg, &[]).unwrap();
    let name = &resolve.packages[pkg].name;
    assert_eq!(name.to_string(), "assay:plugin@0.1.1");
    insta::assert_snapshot!("assay-plugin", printer.output.to_string());
}

#[test]
fn every_item_is_documented() {
    let (resolve, pkg) = resolve();
    let mut missing = Vec::new();
    let mut need = |docs: &Docs, what: String| {
        if docs.contents.as_deref().is_none_or(|d| d.trim().is_empty()) {
            missing.push(what);
        }
    };
    let package = &resolve.packages[pkg];
    need(&package.docs, "package".into());
    for (name, &id) in &package.interfaces {
        let interface = &resolve.interfaces[id];
        need(&interface.docs, format!("interface {name}"));
        for (fname, f) in &interface.functions {
            need(&f.docs, format!("{name}.{fname}"));
        }
        for (tname, &tid) in &interface.types {
            let ty = &resolve.types[tid];
            // `use`d types are documented where they are defined.
            if ty.owner != wit_parser::TypeOwner::Interface(id) {
                continue;
            }
            if matches!(ty.kind, TypeDefKind::Type(wit_parser::Type::Id(other)) if resolve.types[other].owner != ty.owner)
            {
                continue;
            }
            need(&ty.docs, format!("{name}.{tname}"));
            match &ty.kind {
                TypeDefKind::Record(r) => {
                    r.fields.iter().for_each(|f| need(&f.docs, format!("{name}.{tname}.{}", f.name)))
                }
                TypeDefKind::Enum(e) => {
                    e.cases.iter().for_each(|c| need(&c.docs, format!("{name}.{tname}.{}", c.name)))
                }
                TypeDefKind::Variant(v) => {
                    v.cases.iter().for_each(|c| need(&c.docs, format!("{name}.{tname}.{}", c.name)))
                }
                TypeDefKind::Flags(f) => {
                    f.flags.iter().for_each(|c| need(&c.docs, format!("{name}.{tname}.{}", c.name)))
                }
                _ => {}
            }
        }
    }
    for (name, &id) in &package.worlds {
        need(&resolve.worlds[id].docs, format!("world {name}"));
    }
    assert!(missing.is_empty(), "undocumented WIT items: {missing:?}");
}

/// Released versions are frozen: every line of `assay:plugin@0.1.0` (kept in `tests/frozen/`)
/// is still in the contract, in order. Additive changes only add lines (marked `@since`).
#[test]
fn released_versions_are_frozen() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let frozen = std::fs::read_to_string(root.join("tests/frozen/assay-plugin@0.1.0.wit")).unwrap();
    let current = std::fs::read_to_string(root.join("wit/assay-plugin.wit")).unwrap();
    let mut lines = current.lines().map(str::trim);
    for line in
        frozen.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("package "))
    {
        assert!(
            lines.any(|l| l == line),
            "`{line}` of assay:plugin@0.1.0 is gone or moved: released versions are frozen"
        );
    }
    // And the frozen copy still parses as the package it claims to be.
    let mut resolve = Resolve::default();
    let pkg = resolve.push_file(root.join("tests/frozen/assay-plugin@0.1.0.wit")).unwrap();
    assert_eq!(resolve.packages[pkg].name.to_string(), "assay:plugin@0.1.0");
}
