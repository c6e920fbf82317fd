//! The format-free music core: the token vocabulary, music theory, rendering of progressions
//! into timed notes, and the knobs that shape them. Pure data and functions, usable on any
//! thread; it knows nothing of plugin formats, threads or the decoder.
//!
//! - [`progression`]: keys, modes, chords as numerals, melody steps, the token vocabulary;
//! - [`theory`]: scales, chord names, lo-fi voicings with voice leading;
//! - [`knobs`]: the settings that shape a phrase, their defaults and ranges;
//! - [`names`]: chord lines, key labels and chord names for people;
//! - [`render`]: progression + knobs → [`phrase::Phrase`] (swing, humanize, velocity);
//! - [`phrase`]: fixed-capacity timed notes and their sorted note-on/off edges;
//! - [`descriptors`]: energy and valence of a phrase (the training labels' twin);
//! - [`drums`]: the drum part: a seeded, rule-based groove grammar and its performance;
//! - [`harmony`]: what a musician plays, heard back: chord recognition and key estimation.

pub mod descriptors;
pub mod drums;
pub mod harmony;
pub mod knobs;
pub(crate) mod names;
pub mod phrase;
pub mod progression;
pub mod render;
pub mod theory;
