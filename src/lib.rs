//! Lofi Loom: writes lo-fi hip-hop chord progressions and melodies and plays them into the
//! host as MIDI, locked to its tempo and bars.
//!
//! The format-free core (music theory, rendering, the sequencer, the worker) knows nothing of
//! plugin formats; [`plugin`] wires it to nice-plug and this file exports the CLAP and VST3
//! entry points.

pub mod control;
pub mod decoder;
pub mod descriptors;
pub mod dragout;
pub mod editor;
pub mod export;
pub mod params;
pub mod phrase;
pub mod plugin;
pub mod progression;
pub mod render;
pub mod sequencer;
pub mod sim;
pub mod state;
pub mod theory;
pub mod view;
pub mod worker;

pub use plugin::LofiLoom;

nice_plug::nice_export_clap!(LofiLoom);
nice_plug::nice_export_vst3!(LofiLoom);
