//! The persisted session: what, besides the parameters, makes a reopened project play exactly
//! the same notes (the seed and the progression), with a version number and a safe fallback
//! for corrupt or unknown state.
//!
//! Stored by the host as one field (`"session"`) of the plugin state, as a JSON object (older
//! versions wrote it as a JSON string, which is still read). Parsing — and rejecting — it is
//! ours: a bad session never fails the whole state load, is logged, and leaves the current
//! session (and the phrase it plays) untouched. Read and written on the main and worker threads
//! only; the audio thread never touches it.

use crate::bridge::lock;
use crate::music::drums::Groove;
use crate::music::harmony::HeardChord;
use crate::music::progression::{Progression, MAX_BARS};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Version of the session format written by this build. Version 1 (seed and progression only)
/// is still read: it has an empty history and the embedded model; version 2 adds those, and
/// version 3 the drum groove. A session without a groove plays no drums until a new phrase
/// is written, so a reopened older project plays exactly what it did.
pub const SESSION_VERSION: u32 = 3;

/// How many generated phrases the history keeps.
pub const HISTORY_LEN: usize = 32;

/// One generated phrase in the history: enough to play it again exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The seed it was written and humanized with.
    pub seed: u64,
    /// Its progression (tokens, key and mode).
    pub progression: Progression,
    /// Energy knob when it was written (for the editor's list).
    pub energy: f32,
    /// Valence knob when it was written.
    pub valence: f32,
    /// Its drum groove (None: no drums, as in sessions saved before version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groove: Option<Groove>,
    /// The seed its groove was written with, when not [`HistoryEntry::seed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groove_seed: Option<u64>,
}

/// Seed and progression of the phrase being played, the history, and the model choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Format version ([`SESSION_VERSION`]).
    pub version: u32,
    /// Seed of the current phrase (humanize, and the generator's sampling).
    pub seed: u64,
    /// The progression being played, if one was loaded or generated.
    pub progression: Option<Progression>,
    /// The drum groove being played (None: no drums).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groove: Option<Groove>,
    /// The seed the groove is written with, when it is not [`Session::seed`] (after "Drums
    /// only" or with Lock drums).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groove_seed: Option<u64>,
    /// The last generated phrases, oldest first, at most [`HISTORY_LEN`].
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Which history entry plays (None: the latest, or nothing generated yet).
    #[serde(default)]
    pub history_pos: Option<usize>,
    /// A folder with a custom model chosen by the user (None: the embedded model).
    #[serde(default)]
    pub model_dir: Option<String>,
    /// The progression Follow captured from the musician's playing, bar by bar (None: a bar
    /// not heard; empty: nothing captured). Given back to Follow when the project reopens, so
    /// the next phrase is still written over it until the musician plays again or presses
    /// Regenerate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub captured: Vec<Option<HeardChord>>,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            version: SESSION_VERSION,
            seed: 1,
            progression: None,
            groove: None,
            groove_seed: None,
            history: Vec::new(),
            history_pos: None,
            model_dir: None,
            captured: Vec::new(),
        }
    }
}

impl Session {
    /// Parses a saved session; the error says what was wrong in plain words.
    pub fn from_json(text: &str) -> Result<Session, String> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| format!("the saved session is not valid JSON ({e})"))?;
        Session::from_value(value)
    }

    /// Reads a saved session from its stored form: a JSON object, or the JSON text of one (the
    /// form versions up to 0.1 stored).
    pub fn from_value(value: Value) -> Result<Session, String> {
        let value = match value {
            Value::String(text) => serde_json::from_str(&text)
                .map_err(|e| format!("the saved session is not valid JSON ({e})"))?,
            value => value,
        };
        match value.get("version").and_then(|v| v.as_u64()) {
            None | Some(0) => return Err("the saved session has no valid version number".into()),
            Some(v) if v > SESSION_VERSION as u64 => {
                return Err(format!(
                    "the saved session was written by a newer Lofi Loom (format {v}, this one reads up to {SESSION_VERSION})"
                ))
            }
            Some(_) => {}
        }
        let mut session: Session = serde_json::from_value(value)
            .map_err(|e| format!("the saved session is damaged ({e})"))?;
        if let Some(p) = &session.progression {
            p.validate()
                .map_err(|e| format!("the saved progression is damaged: {e}"))?;
        }
        for (i, entry) in session.history.iter().enumerate() {
            entry
                .progression
                .validate()
                .map_err(|e| format!("phrase {} of the saved history is damaged: {e}", i + 1))?;
        }
        if session.history.len() > HISTORY_LEN {
            let extra = session.history.len() - HISTORY_LEN;
            session.history.drain(..extra);
            session.history_pos = session.history_pos.and_then(|i| i.checked_sub(extra));
        }
        if session
            .history_pos
            .is_some_and(|i| i >= session.history.len())
        {
            session.history_pos = None;
        }
        session.version = SESSION_VERSION;
        Ok(session)
    }

    /// Saves the progression Follow holds captured (trailing bars never heard are left out).
    pub fn set_captured(&mut self, captured: &[Option<HeardChord>]) {
        let len = captured
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1);
        self.captured.clear();
        self.captured.extend_from_slice(&captured[..len]);
    }

    /// The saved captured progression as Follow holds it, bar by bar. Bars beyond
    /// [`MAX_BARS`] and chords no musician could have played (a root or bass that is not a
    /// pitch class, a confidence outside 0..=1) are dropped, so a hand-edited or damaged
    /// session cannot feed Follow nonsense.
    pub fn captured_chords(&self) -> [Option<HeardChord>; MAX_BARS] {
        let mut out = [None; MAX_BARS];
        for (slot, chord) in out.iter_mut().zip(&self.captured) {
            *slot =
                chord.filter(|c| c.root < 12 && c.bass < 12 && (0.0..=1.0).contains(&c.confidence));
        }
        out
    }

    /// Adds a newly generated phrase to the history (dropping the oldest beyond
    /// [`HISTORY_LEN`]) and makes it the one playing.
    pub fn push_history(&mut self, entry: HistoryEntry) {
        if self.history.len() >= HISTORY_LEN {
            self.history.remove(0);
        }
        self.history.push(entry);
        self.history_pos = Some(self.history.len() - 1);
    }

    /// Plays history entry `entry` again, exactly: its seed and progression. `index` is where
    /// the editor saw it; the history may have moved on since (and entries can repeat), so the
    /// index is trusted only if it still holds this entry, else the newest equal entry is
    /// marked (or none).
    pub fn restore_history(&mut self, index: usize, entry: &HistoryEntry) {
        self.history_pos = if self.history.get(index) == Some(entry) {
            Some(index)
        } else {
            self.history.iter().rposition(|e| e == entry)
        };
        self.seed = entry.seed;
        self.progression = Some(entry.progression.clone());
        self.groove = entry.groove.clone();
        self.groove_seed = entry.groove_seed;
    }

    /// The seed the groove is written with.
    pub fn groove_seed(&self) -> u64 {
        self.groove_seed.unwrap_or(self.seed)
    }

    /// Records a variation of the playing phrase (same seed, knobs moved): while the newest
    /// entry plays and has this seed, the variation replaces it, so sweeping a knob leaves one
    /// entry instead of flooding the history; otherwise it is added like a new phrase.
    pub fn refine_history(&mut self, entry: HistoryEntry) {
        let newest = self.history.len().checked_sub(1);
        match (newest, self.history.last_mut()) {
            (Some(i), Some(last)) if self.history_pos == Some(i) && last.seed == entry.seed => {
                *last = entry;
            }
            _ => self.push_history(entry),
        }
    }

    /// The saved form.
    pub fn to_value(&self) -> Value {
        // Plain integers, floats, enums and arrays always serialise.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The saved form as text.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
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

impl SessionCell {
    /// A copy of the current session.
    pub fn get(&self) -> Session {
        lock(&self.shared.session).clone()
    }

    /// Reads part of the session without copying all of it (the editor, every frame).
    pub fn read<R>(&self, f: impl FnOnce(&Session) -> R) -> R {
        f(&lock(&self.shared.session))
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

    /// Restores from saved text; see [`SessionCell::restore_value`].
    pub fn restore_json(&self, text: &str) -> bool {
        let parsed = serde_json::from_str(text)
            .map_err(|e| format!("the saved session is not valid JSON ({e})"));
        self.accept(parsed.and_then(Session::from_value))
    }

    /// Restores from the stored form; on failure logs why, keeps the current session, and
    /// remembers the message. Returns whether it was accepted.
    pub fn restore_value(&self, value: Value) -> bool {
        self.accept(Session::from_value(value))
    }

    /// The stored form of the current session.
    pub fn saved_value(&self) -> Value {
        self.read(Session::to_value)
    }

    fn accept(&self, parsed: Result<Session, String>) -> bool {
        match parsed {
            Ok(session) => {
                self.restore(session);
                *lock(&self.shared.last_error) = None;
                true
            }
            Err(message) => {
                tracing::warn!("Lofi Loom kept its current phrase: {message}");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::progression::{Bar, Chord, Mode, Step};

    fn session() -> Session {
        let bar = Bar {
            chord: Some(Chord::diatonic(Mode::Dorian, 2)),
            melody: [Step::Note(3); 8],
        };
        let progression = Progression {
            key: 9,
            mode: Mode::Dorian,
            bars: vec![bar; 2],
        };
        let mut s = Session {
            version: SESSION_VERSION,
            seed: 42,
            progression: Some(progression.clone()),
            model_dir: Some("/home/me/models/my lofi".into()),
            ..Session::default()
        };
        s.push_history(HistoryEntry {
            seed: 41,
            progression: Progression {
                key: 2,
                ..progression.clone()
            },
            energy: 0.25,
            valence: 0.75,
            groove: None,
            groove_seed: None,
        });
        s.push_history(HistoryEntry {
            seed: 42,
            progression,
            energy: 0.5,
            valence: 0.5,
            groove: None,
            groove_seed: None,
        });
        s
    }

    #[test]
    fn version_1_sessions_are_still_read() {
        let v1 = r#"{"version": 1, "seed": 7, "progression": null}"#;
        let s = Session::from_json(v1).expect("version 1");
        assert_eq!(
            s,
            Session {
                seed: 7,
                ..Session::default()
            }
        );
    }

    #[test]
    fn history_keeps_the_last_32_and_points_at_the_newest() {
        let mut s = session();
        let entry = s.history[0].clone();
        for i in 0..40 {
            s.push_history(HistoryEntry {
                seed: 100 + i,
                ..entry.clone()
            });
        }
        assert_eq!(s.history.len(), HISTORY_LEN);
        assert_eq!(s.history[0].seed, 108);
        assert_eq!(s.history[HISTORY_LEN - 1].seed, 139);
        assert_eq!(s.history_pos, Some(HISTORY_LEN - 1));
    }

    #[test]
    fn a_long_saved_history_keeps_its_newest_entries_and_the_one_playing() {
        let mut s = session();
        let entry = s.history[0].clone();
        s.history = (0..HISTORY_LEN as u64 + 3)
            .map(|i| HistoryEntry {
                seed: 200 + i,
                ..entry.clone()
            })
            .collect();
        s.history_pos = Some(10);
        let back = Session::from_json(&s.to_json()).expect("loads");
        assert_eq!(back.history.len(), HISTORY_LEN);
        assert_eq!(back.history[0].seed, 203);
        assert_eq!(back.history_pos, Some(7));
        assert_eq!(back.history[7].seed, 210);
        // The one playing was among the dropped: none is marked.
        s.history_pos = Some(1);
        assert_eq!(Session::from_json(&s.to_json()).unwrap().history_pos, None);
    }

    #[test]
    fn knob_variations_refine_the_newest_entry_instead_of_piling_up() {
        let mut s = session();
        let newest = s.history[1].clone();
        for energy in [0.6, 0.7, 0.8] {
            s.refine_history(HistoryEntry {
                energy,
                ..newest.clone()
            });
        }
        assert_eq!(s.history.len(), 2);
        assert_eq!((s.history[1].seed, s.history[1].energy), (42, 0.8));
        assert_eq!(s.history_pos, Some(1));
        // Back on the older entry, a variation is a new entry at the end.
        s.history_pos = Some(0);
        let older = s.history[0].clone();
        s.refine_history(HistoryEntry {
            energy: 0.9,
            ..older.clone()
        });
        assert_eq!(s.history.len(), 3);
        assert_eq!((s.history[2].seed, s.history[2].energy), (41, 0.9));
        assert_eq!(s.history[0], older);
        assert_eq!(s.history_pos, Some(2));
        // A different seed is never folded into the newest entry.
        s.refine_history(HistoryEntry { seed: 7, ..older });
        assert_eq!(s.history.len(), 4);
    }

    #[test]
    fn session_round_trips() {
        let cell = SessionCell::default();
        assert!(cell.restore_json(&session().to_json()));
        assert_eq!(cell.get(), session());
        assert_eq!(cell.restored(), 1);
        assert_eq!(cell.saved_value(), session().to_value());
        // The string form older versions stored is read too.
        let cell = SessionCell::default();
        assert!(cell.restore_value(Value::String(session().to_json())));
        assert_eq!(cell.get(), session());
    }

    #[test]
    fn bad_sessions_keep_the_current_one_and_say_why() {
        let cell = SessionCell::default();
        assert!(cell.restore_json(&session().to_json()));
        let cases = [
            ("{not json", "not valid JSON"),
            (r#"{"seed": 3, "progression": null}"#, "no valid version"),
            (
                r#"{"version": 0, "seed": 3, "progression": null}"#,
                "no valid version",
            ),
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
            (
                r#"{"version": 2, "seed": 3, "progression": null, "history": [{"seed": 1, "energy": 0.5, "valence": 0.5, "progression": {"key": 40, "mode": "Ionian", "bars": []}}]}"#,
                "phrase 1 of the saved history",
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

    #[test]
    fn a_saved_capture_round_trips_and_damaged_chords_are_dropped() {
        let dm7 = crate::music::harmony::recognize(0b0010_0010_0101, Some(2)).expect("Dm7");
        let mut s = Session::default();
        s.set_captured(&[Some(dm7), None, Some(dm7), None, None]);
        assert_eq!(
            s.captured,
            [Some(dm7), None, Some(dm7)],
            "trailing bars left out"
        );
        let text = serde_json::to_string(&s).expect("serialises");
        let back: Session = serde_json::from_str(&text).expect("reads back");
        assert_eq!(
            back.captured_chords()[..4],
            [Some(dm7), None, Some(dm7), None]
        );
        // A root that is no pitch class, a confidence beyond 1, more bars than a phrase has.
        let mut damaged = back;
        damaged.captured = vec![Some(dm7); MAX_BARS + 3];
        damaged.captured[0] = Some(HeardChord { root: 14, ..dm7 });
        damaged.captured[1] = Some(HeardChord {
            confidence: 7.0,
            ..dm7
        });
        let chords = damaged.captured_chords();
        assert_eq!(chords[..3], [None, None, Some(dm7)]);
        assert_eq!(chords.len(), MAX_BARS);
        // A session saved before captures existed reads as none.
        let old: Session = serde_json::from_str(r#"{"version":3,"seed":1,"progression":null}"#)
            .expect("an old session reads");
        assert!(old.captured.is_empty());
    }
}
