//! MIDI files: [`export`] plays a phrase through the real sequencer over a simulated host
//! (`audio::sim`) and writes a Standard MIDI File, so a file holds note for note what the
//! plugin plays; [`files`] names and saves exported phrases. Used by the command line, the
//! editor's Export and drag-out, and the tests; never by the audio thread.

pub mod export;
pub mod files;
pub(crate) mod recent;
