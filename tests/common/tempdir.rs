//! A fresh directory for one test, removed with its contents when dropped (`tempfile`), and
//! paths inside it as strings for command-line arguments.
//!
//! Use it from a test file with `#[path = "common/tempdir.rs"] mod tempdir;`.

// Each test binary uses the part it needs.
#![allow(dead_code)]

pub use tempfile::TempDir;

/// A new, empty directory whose name starts with `test`.
pub fn temp_dir(test: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("lofi-loom-{test}-"))
        .tempdir()
        .expect("temp dir")
}

/// Paths inside a test directory.
pub trait Files {
    /// The path of `name` inside it, as a string.
    fn file(&self, name: &str) -> String;
}

impl Files for TempDir {
    fn file(&self, name: &str) -> String {
        self.path().join(name).to_string_lossy().into_owned()
    }
}
