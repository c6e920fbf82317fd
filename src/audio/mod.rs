//! The audio thread's own code: the [`sequencer`] that plays phrases against the host transport
//! at exact samples, and the [`control`] that decides when to ask the worker for a new phrase.
//!
//! Everything here is real-time safe: no allocation, lock, syscall, logging or unbounded loop.
//! It receives phrases already built and hands them back to be freed elsewhere.

pub mod control;
pub mod sequencer;
