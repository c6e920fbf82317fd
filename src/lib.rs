//! Lofi Loom: writes lo-fi hip-hop chord progressions and melodies and plays them into the
//! host as MIDI, locked to its tempo and bars.
//!
//! The tree is split by owner (see `ARCHITECTURE.md`):
//! - [`music`]: the format-free music core (any thread);
//! - [`audio`]: the audio thread (sequencer, regeneration control);
//! - [`worker`]: the per-instance worker thread (phrase sources, the one generation path);
//! - [`decoder`]: the neural decoder, the only tract user;
//! - [`bridge`]: what crosses between threads (messages, views, status, recent notes);
//! - [`session`]: the persisted session (main and worker threads);
//! - [`midi`]: MIDI files;
//! - `plugin` and `editor`: the nice-plug wiring and the egui editor, the only modules that
//!   import nice-plug;
//! - [`dragout`]: dragging exported files out of the editor.
//!
//! The public API is what the command line, the tests and the benchmarks use.

pub mod audio;
pub mod bridge;
pub mod decoder;
pub mod dragout;
pub mod editor;
pub mod midi;
pub mod music;
mod plugin;
pub mod session;
pub mod worker;

pub use plugin::LofiLoom;
