//! The persisted session: what, besides the parameters, makes a reopened project play exactly
//! the same notes (the seed and the progression), with a version number and a safe fallback
//! for corrupt or unknown state.
//!
//! Stored by the host as one string field (`"session"`) of the plugin state, so that parsing —
//! and rejecting — it is ours: a bad session never fails the whole state load, is logged, and
//! leaves the current session (and the phrase it plays) untouched. Read and written on the main
//! and worker threads only; the audio thread never touches it.

use crate::progression::Progression;
use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Version of the session format written by this build.
pub const SESSION_VERSION: u32 = 1;

/// Seed and progression of the phrase being played.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Format version ([`SESSION_VERSION`]).
    pub version: u32,
    /// Seed of the current phrase (humanize, and the generator's sampling).
    pub seed: u64,
    /// The progression being played, if one was loaded or generated.
    pub progression: Option<Progression>,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            version: SESSION_VERSION,
            seed: 1,
            progression: None,
        }
    }
}

impl Session {
    /// Parses a saved session; the error says what was wrong in plain words.
    pub fn from_json(text: &str) -> Result<Session, String> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("the saved session is not valid JSON ({e})"))?;
        match value.get("version").and_then(|v| v.as_u64()) {
            None => return Err("the saved session has no version number".into()),
            Some(v) if v > SESSION_VERSION as u64 => {
                return Err(format!(
                    "the saved session was written by a newer Lofi Loom (format {v}, this one reads up to {SESSION_VERSION})"
                ))
            }
            Some(_) => {}
        }
        let session: Session = serde_json::from_value(value)
            .map_err(|e| format!("the saved session is damaged ({e})"))?;
        if let Some(p) = &session.progression {
            p.validate()
                .map_err(|e| format!("the saved progression is damaged: {e}"))?;
        }
        Ok(session)
    }

    /// The saved form.
    pub fn to_json(&self) -> String {
        // Plain integers, enums and arrays always serialise.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The session shared between the host's state calls and the worker; clones share it.
#[derive(Debug, Default, Clone)]
pub struct SessionCell {
    /// The shared session.
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// The current session.
    session: Mutex<Session>,
    /// Bumped each time the host restores a session (the worker re-renders when it moves).
    restored: AtomicU64,
    /// Why the last restore was refused, for the user to read.
    last_error: Mutex<Option<String>>,
}

/// Locks a mutex whose value is always replaced whole (never left half-written), so a lock
/// poisoned by a panic elsewhere still holds a consistent value. Main and worker threads only.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a Session half-written (it is replaced whole),
    // so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SessionCell {
    /// A copy of the current session.
    pub fn get(&self) -> Session {
        lock(&self.shared.session).clone()
    }

    /// Changes the session in place (the worker records new seeds and progressions).
    pub fn update(&self, f: impl FnOnce(&mut Session)) {
        f(&mut lock(&self.shared.session));
    }

    /// How many sessions the host has restored so far.
    pub fn restored(&self) -> u64 {
        self.shared.restored.load(Ordering::Acquire)
    }

    /// Replaces the session with one restored by the host.
    pub fn restore(&self, session: Session) {
        *lock(&self.shared.session) = session;
        self.shared.restored.fetch_add(1, Ordering::AcqRel);
    }

    /// Restores from saved text; on failure logs why, keeps the current session, and remembers
    /// the message. Returns whether it was accepted.
    pub fn restore_json(&self, text: &str) -> bool {
        match Session::from_json(text) {
            Ok(session) => {
                self.restore(session);
                *lock(&self.shared.last_error) = None;
                true
            }
            Err(message) => {
                nice_plug::nice_warn!("Lofi Loom kept its current phrase: {message}");
                *lock(&self.shared.last_error) = Some(message);
                false
            }
        }
    }

    /// Why the last restore was refused, if it was.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.shared.last_error).clone()
    }
}

impl<'a> PersistentField<'a, String> for SessionCell {
    fn set(&self, new_value: String) {
        self.restore_json(&new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&String) -> R,
    {
        f(&self.get().to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progression::{Bar, Chord, Mode, Step};

    fn session() -> Session {
        let bar = Bar {
            chord: Some(Chord::diatonic(Mode::Dorian, 2)),
            melody: [Step::Note(3); 8],
        };
        Session {
            version: 1,
            seed: 42,
            progression: Some(Progression {
                key: 9,
                mode: Mode::Dorian,
                bars: vec![bar; 2],
            }),
        }
    }

    #[test]
    fn session_round_trips() {
        let cell = SessionCell::default();
        assert!(cell.restore_json(&session().to_json()));
        assert_eq!(cell.get(), session());
        assert_eq!(cell.restored(), 1);
        assert_eq!(cell.map(|s| s.clone()), session().to_json());
    }

    #[test]
    fn bad_sessions_keep_the_current_one_and_say_why() {
        let cell = SessionCell::default();
        assert!(cell.restore_json(&session().to_json()));
        let cases = [
            ("{not json", "not valid JSON"),
            (r#"{"seed": 3, "progression": null}"#, "no version"),
            (
                r#"{"version": 99, "seed": 3, "progression": null}"#,
                "newer Lofi Loom",
            ),
            (
                r#"{"version": 1, "seed": "x", "progression": null}"#,
                "damaged",
            ),
            (
                r#"{"version": 1, "seed": 3, "progression": {"key": 40, "mode": "Ionian", "bars": []}}"#,
                "`key`",
            ),
        ];
        for (text, why) in cases {
            assert!(!cell.restore_json(text), "{text}");
            assert!(
                cell.last_error().unwrap_or_default().contains(why),
                "{text}: {:?}",
                cell.last_error()
            );
            assert_eq!(cell.get(), session(), "{text}");
        }
        assert_eq!(cell.restored(), 1);
    }
}
