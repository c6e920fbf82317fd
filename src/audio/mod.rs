//! The audio thread's own code: the [`sequencer`] that plays phrases against the host transport
//! at exact samples, the [`control`] that decides when to ask the worker for a new phrase, the
//! built-in [`band`] (instruments and the lo-fi texture chain), and the [`engine`] that drives
//! the band with exactly the events the sequencer sends to the host, the MIDI [`input`] note
//! table with Thru, [`follow`], which listens to the input for the next phrase, and [`live`],
//! which moves the bass and melody to the chord held (Follow: Live).
//!
//! Everything the audio thread runs here is real-time safe: no allocation, lock, syscall,
//! logging or unbounded loop. It receives phrases already built and hands them back to be
//! freed elsewhere. The offline tools, [`bounce`] (a phrase to audio) and [`sim`] (a
//! simulated host for the command line and the tests), are the exception: they allocate and
//! never run on the audio thread.

pub mod band;
pub mod bounce;
pub(crate) mod control;
pub mod engine;
pub mod follow;
pub mod input;
pub(crate) mod live;
pub mod sequencer;
pub mod sim;
