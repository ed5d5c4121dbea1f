//! Embeds the migrations: `$OUT_DIR/migrations.rs` lists each backend's `migrations/<backend>/*.sql`
//! (file name and contents, by `include_str!`), in file-name order. A new migration file is picked
//! up by the next build; nothing to list by hand.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::new();
    for (name, backend) in [("SQLITE", "sqlite"), ("POSTGRES", "postgres")] {
        let dir = root.join(backend);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| {
                e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                    .path()
            })
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        let _ = writeln!(out, "/// The {backend} migrations: (file name, SQL).");
        let _ = writeln!(out, "pub(crate) const {name}: &[(&str, &str)] = &[");
        for f in files {
            let file = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let _ = writeln!(
                out,
                "    ({file:?}, include_str!({:?})),",
                f.display().to_string()
            );
        }
        let _ = writeln!(out, "];");
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("migrations.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
