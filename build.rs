//! Build script: on Linux, link the plugin with `-z nodelete`.
//!
//! nice-plug's CLAP wrapper touches `std::thread::current()` on the host's thread, which
//! registers a thread-local destructor that lives in this library. A host that unloads the
//! plugin (a plugin scanner, say) and keeps that thread running would later jump into unmapped
//! memory when the thread exits. `nodelete` keeps the library mapped after `dlclose`, as most
//! hosts do anyway.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
