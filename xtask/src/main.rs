//! `cargo xtask bundle lofi_loom --release`: builds the CLAP and VST3 bundles with
//! nice-plug's bundler (settings in `bundler.toml`, output in `target/bundled/`) and copies
//! them into `bundles/` at the repository root.

use std::path::{Path, PathBuf};

fn main() -> nice_plug_xtask::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    nice_plug_xtask::chdir_workspace_root()?;
    nice_plug_xtask::main_with_args("cargo xtask", args.iter().cloned())?;
    if args.first().map(String::as_str) == Some("bundle") {
        copy_bundles(Path::new("target/bundled"), Path::new("bundles"))?;
    }
    Ok(())
}

/// Copies every built bundle (files and bundle folders) from `from` into `to`.
fn copy_bundles(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        copy_recursively(&path, &target)?;
        println!("Copied {} to {}", path.display(), target.display());
    }
    Ok(())
}

fn copy_recursively(from: &Path, to: &PathBuf) -> std::io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let path = entry?.path();
            copy_recursively(&path, &to.join(path.file_name().unwrap_or_default()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(|_| ())
    }
}
