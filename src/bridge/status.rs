//! What the worker (and activation) tell the user: which model writes phrases, the last
//! problem, how long the last phrase took. Written by the worker and the main thread, read by
//! the editor and tests; never touched by the audio thread, so it may lock.

use super::lock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What the worker tells the user (read by the GUI and tests; never by the audio thread).
#[derive(Debug, Default)]
pub struct Status {
    /// Which source writes phrases, e.g. "embedded model", once it is ready.
    source: Mutex<Option<String>>,
    /// The last problem, in plain words.
    error: Mutex<Option<String>>,
    /// How long the last phrase took to write and render, in microseconds.
    last_generation_us: AtomicU64,
    /// How many phrases the worker has sent.
    phrases_sent: AtomicU64,
}

impl Status {
    /// Which source writes phrases, once it is ready.
    pub fn source(&self) -> Option<String> {
        lock(&self.source).clone()
    }

    /// The last problem, if any.
    pub fn error(&self) -> Option<String> {
        lock(&self.error).clone()
    }

    /// Time the last phrase took, in microseconds.
    pub fn last_generation_us(&self) -> u64 {
        self.last_generation_us.load(Ordering::Relaxed)
    }

    /// Phrases sent so far.
    pub fn phrases_sent(&self) -> u64 {
        self.phrases_sent.load(Ordering::Acquire)
    }

    /// Replaces the message shown to the user (None clears it).
    pub fn set_error(&self, message: Option<String>) {
        *lock(&self.error) = message;
    }

    /// Names the source that writes phrases from now on.
    pub fn set_source(&self, name: &str) {
        *lock(&self.source) = Some(name.to_owned());
    }

    /// Counts a phrase sent and how long it took, in microseconds.
    pub fn record_phrase(&self, elapsed_us: u64) {
        self.last_generation_us.store(elapsed_us, Ordering::Relaxed);
        self.phrases_sent.fetch_add(1, Ordering::AcqRel);
    }
}
