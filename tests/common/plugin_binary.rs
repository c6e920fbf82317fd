//! Where the plugin binary under test is.
//!
//! Use it from a test file with `#[path = "common/plugin_binary.rs"] mod plugin_binary;`.

use std::path::PathBuf;

/// The plugin binary cargo built for this test run. Integration tests depend on the package's
/// library target, which rustc builds with all its crate types (`cdylib` and `lib`) at once into
/// `target/<profile>/deps/`, next to the test executable. Only `cargo build` copies the `cdylib`
/// up to `target/<profile>/`, so that copy may be stale: it is the fallback, not the choice.
pub fn plugin_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the test executable's directory");
    let profile = deps.parent().expect("the profile directory");
    let name = format!(
        "{}lofi_loom{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    [deps.join(&name), profile.join(&name)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no {name} next to {}", exe.display()))
}
