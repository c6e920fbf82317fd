//! What crosses between the threads, and nothing else: the typed messages of the audio
//! thread's queues ([`messages`]), the views the editor reads ([`views`]), the status line
//! ([`status`]) and the recorder of the notes the host received ([`recent`]). Each owner
//! imports this module instead of another owner's.

pub mod messages;
pub(crate) mod recent;
pub(crate) mod status;
pub mod views;

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex whose value is always replaced or updated whole (never left half-written), so
/// a lock poisoned by a panic elsewhere still holds a consistent value. Never called on the
/// audio thread.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
