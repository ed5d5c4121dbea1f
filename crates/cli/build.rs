//! Names the commit the binary was built from, for `twofold --version`: `TWOFOLD_COMMIT` from the
//! environment (a package build without the repository), else `git rev-parse`, else "unknown".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=TWOFOLD_COMMIT");
    let commit = std::env::var("TWOFOLD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            // Rebuild when HEAD moves: the HEAD file, and the branch it points to.
            if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
                println!("cargo:rerun-if-changed={head}");
            }
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                if let Some(path) = git(&["rev-parse", "--git-path", &branch]) {
                    println!("cargo:rerun-if-changed={path}");
                }
                if let Some(packed) = git(&["rev-parse", "--git-path", "packed-refs"]) {
                    println!("cargo:rerun-if-changed={packed}");
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"])
        })
        .unwrap_or_else(|| "unknown".to_owned());
    // Not TWOFOLD_*: cargo also sets this in the environment of `cargo run` and `cargo test`,
    // where the configuration would take a TWOFOLD_ name for a misspelt setting.
    println!("cargo:rustc-env=TF_BUILD_COMMIT={commit}");
}
