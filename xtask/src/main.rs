//! `cargo xtask bundle lofi_loom --release`: builds the CLAP and VST3 bundles (see `bundler.toml`).

fn main() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main()
}
