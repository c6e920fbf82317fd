//! What the editor sees of the engine, and how it asks the worker for things.
//!
//! Three writers, one reader:
//! - the **audio thread** stores plain numbers in atomics (which phrase plays, which is queued,
//!   where the cursor is, the host tempo and time signature) — never a lock, never an
//!   allocation;
//! - the **worker** publishes each phrase it sends as a [`PhraseView`] (a mutex shared only
//!   with the editor; the audio thread never touches it);
//! - the **editor** reads both and sends [`EditorToWorker`] commands to the worker through a
//!   bounded, mutex'd inbox (neither side is real-time).
//!
//! Phrases are matched by id: every rendered [`Phrase`] carries the id of its view.

use super::lock;
use super::messages::{EditorToWorker, EDITOR_INBOX_CAPACITY};
use crate::music::knobs::Knobs;
use crate::music::phrase::Phrase;
use crate::music::progression::Progression;
use atomic_float::AtomicF64;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many recent phrase views are kept (playing, queued, and a few older ones).
pub const RECENT_VIEWS: usize = 8;

/// Id meaning "no phrase".
pub const NO_PHRASE: u64 = 0;

/// One phrase the engine rendered, as the editor shows and exports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseView {
    /// Matches [`Phrase::id`] of the phrase the sequencer holds.
    pub id: u64,
    /// The seed it was written and humanized with.
    pub seed: u64,
    /// The progression as played (key and mode overrides applied).
    pub progression: Progression,
    /// The parameter values it was rendered with.
    pub knobs: Knobs,
    /// The rendered notes (a copy: the editor may keep it as long as it likes).
    pub phrase: Phrase,
}

/// Host transport as the audio thread last saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostView {
    /// Whether the transport is playing.
    pub playing: bool,
    /// Tempo in BPM, if the host reports one.
    pub tempo_bpm: Option<f64>,
    /// Time signature, if the host reports one.
    pub time_sig: Option<(u8, u8)>,
    /// Position in the playing phrase, in bars from its start (None when stopped).
    pub cursor_bars: Option<f64>,
}

/// Shared between the audio thread, the worker and the editor; see the module docs.
#[derive(Debug, Default)]
pub struct Views {
    /// Recent phrase views, oldest first (worker writes, editor reads).
    recent: Mutex<VecDeque<Arc<PhraseView>>>,
    /// Source of phrase ids.
    next_id: AtomicU64,
    /// Id of the phrase playing ([`NO_PHRASE`] if none).
    playing_id: AtomicU64,
    /// Id of the phrase waiting for its bar line ([`NO_PHRASE`] if none).
    queued_id: AtomicU64,
    /// Cursor in bars; NaN when stopped.
    cursor_bars: AtomicF64,
    /// Tempo in BPM; NaN when unknown.
    tempo_bpm: AtomicF64,
    /// Time signature as `numerator << 8 | denominator`; 0 when unknown.
    time_sig: AtomicU32,
    /// Whether the transport plays.
    playing: AtomicBool,
    /// Commands from the editor to the worker.
    inbox: Mutex<VecDeque<EditorToWorker>>,
    /// Counts commands ever sent (lets tests and the editor see that one was taken).
    commands_sent: AtomicU64,
}

impl Views {
    /// A fresh set of views.
    pub fn new() -> Arc<Views> {
        let views = Views::default();
        views.cursor_bars.store(f64::NAN, Ordering::Relaxed);
        views.tempo_bpm.store(f64::NAN, Ordering::Relaxed);
        Arc::new(views)
    }

    /// A new phrase id (never [`NO_PHRASE`]).
    pub fn next_phrase_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Publishes a rendered phrase (worker or main thread; may allocate).
    ///
    /// Keeps at most [`RECENT_VIEWS`] views, dropping the oldest first, but never the ones the
    /// sequencer plays or holds queued: a burst of re-renders (a Swing drag) must not leave
    /// the editor showing, or exporting, a phrase that is not the one playing.
    pub fn publish(&self, view: PhraseView) {
        let playing = self.playing_id.load(Ordering::Acquire);
        let queued = self.queued_id.load(Ordering::Acquire);
        let mut recent = lock(&self.recent);
        while recent.len() >= RECENT_VIEWS {
            let oldest_spare = recent
                .iter()
                .position(|v| v.id != playing && v.id != queued);
            match oldest_spare {
                Some(i) => {
                    recent.remove(i);
                }
                None => break,
            }
        }
        recent.push_back(Arc::new(view));
    }

    /// The view with this id, if it is still kept.
    pub fn phrase(&self, id: u64) -> Option<Arc<PhraseView>> {
        if id == NO_PHRASE {
            return None;
        }
        lock(&self.recent)
            .iter()
            .rev()
            .find(|v| v.id == id)
            .cloned()
    }

    /// The phrase playing (or, before the first swap, the latest one sent).
    pub fn playing(&self) -> Option<Arc<PhraseView>> {
        self.phrase(self.playing_id.load(Ordering::Acquire))
    }

    /// The phrase waiting for its bar line, if any.
    pub fn queued(&self) -> Option<Arc<PhraseView>> {
        self.phrase(self.queued_id.load(Ordering::Acquire))
    }

    /// The newest phrase the worker published.
    pub fn latest(&self) -> Option<Arc<PhraseView>> {
        lock(&self.recent).back().cloned()
    }

    /// Host transport as last seen by the audio thread.
    pub fn host(&self) -> HostView {
        let cursor = self.cursor_bars.load(Ordering::Relaxed);
        let tempo = self.tempo_bpm.load(Ordering::Relaxed);
        let sig = self.time_sig.load(Ordering::Relaxed);
        HostView {
            playing: self.playing.load(Ordering::Relaxed),
            tempo_bpm: tempo.is_finite().then_some(tempo),
            time_sig: (sig != 0).then_some(((sig >> 8) as u8, sig as u8)),
            cursor_bars: cursor.is_finite().then_some(cursor),
        }
    }

    /// Audio thread: which phrases the sequencer holds and where it is. Atomics only.
    pub fn store_playback(&self, playing_id: u64, queued_id: u64, host: HostView) {
        self.playing_id.store(playing_id, Ordering::Release);
        self.queued_id.store(queued_id, Ordering::Release);
        self.cursor_bars
            .store(host.cursor_bars.unwrap_or(f64::NAN), Ordering::Relaxed);
        self.tempo_bpm
            .store(host.tempo_bpm.unwrap_or(f64::NAN), Ordering::Relaxed);
        let sig = host.time_sig.map_or(0, |(n, d)| (n as u32) << 8 | d as u32);
        self.time_sig.store(sig, Ordering::Relaxed);
        self.playing.store(host.playing, Ordering::Relaxed);
    }

    /// Editor: asks the worker to do something.
    ///
    /// A model choice replaces one still waiting (only the last choice matters), so clicking
    /// around never piles up model loads; the inbox holds at most [`EDITOR_INBOX_CAPACITY`] commands,
    /// dropping the oldest.
    pub fn send(&self, command: EditorToWorker) {
        let mut inbox = lock(&self.inbox);
        if matches!(command, EditorToWorker::UseModel { .. }) {
            inbox.retain(|c| !matches!(c, EditorToWorker::UseModel { .. }));
        }
        while inbox.len() >= EDITOR_INBOX_CAPACITY {
            inbox.pop_front();
        }
        inbox.push_back(command);
        drop(inbox);
        self.commands_sent.fetch_add(1, Ordering::AcqRel);
    }

    /// How many commands the editor has sent.
    pub fn commands_sent(&self) -> u64 {
        self.commands_sent.load(Ordering::Acquire)
    }

    /// Worker: the next command, if any.
    pub fn take_command(&self) -> Option<EditorToWorker> {
        lock(&self.inbox).pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::progression::Mode;
    use crate::session::HistoryEntry;
    use std::path::PathBuf;

    fn view(id: u64) -> PhraseView {
        PhraseView {
            id,
            seed: id * 10,
            progression: Progression {
                key: 0,
                mode: Mode::Ionian,
                bars: Vec::new(),
            },
            knobs: Knobs::default(),
            phrase: Phrase::new(1),
        }
    }

    #[test]
    fn views_are_found_by_id_and_old_ones_are_dropped() {
        let views = Views::new();
        for _ in 0..RECENT_VIEWS + 2 {
            let id = views.next_phrase_id();
            views.publish(view(id));
        }
        assert_eq!(views.latest().map(|v| v.id), Some(RECENT_VIEWS as u64 + 2));
        assert!(views.phrase(1).is_none() && views.phrase(2).is_none());
        assert_eq!(views.phrase(3).map(|v| v.seed), Some(30));
        assert!(views.phrase(NO_PHRASE).is_none());
        views.store_playback(
            4,
            5,
            HostView {
                playing: true,
                tempo_bpm: Some(82.0),
                time_sig: Some((6, 8)),
                cursor_bars: Some(1.25),
            },
        );
        assert_eq!(views.playing().map(|v| v.id), Some(4));
        assert_eq!(views.queued().map(|v| v.id), Some(5));
        assert_eq!(
            views.host(),
            HostView {
                playing: true,
                tempo_bpm: Some(82.0),
                time_sig: Some((6, 8)),
                cursor_bars: Some(1.25),
            }
        );
        let stopped = HostView {
            playing: false,
            tempo_bpm: None,
            time_sig: None,
            cursor_bars: None,
        };
        views.store_playback(NO_PHRASE, NO_PHRASE, stopped);
        assert_eq!(views.host(), stopped);
        assert!(views.playing().is_none());
    }

    #[test]
    fn the_playing_and_queued_views_survive_a_burst_of_new_ones() {
        let views = Views::new();
        let first = views.next_phrase_id();
        views.publish(view(first));
        let second = views.next_phrase_id();
        views.publish(view(second));
        let host = HostView {
            playing: true,
            tempo_bpm: Some(90.0),
            time_sig: Some((4, 4)),
            cursor_bars: Some(0.5),
        };
        views.store_playback(first, second, host);
        for _ in 0..3 * RECENT_VIEWS {
            let id = views.next_phrase_id();
            views.publish(view(id));
        }
        assert_eq!(views.playing().map(|v| v.id), Some(first));
        assert_eq!(views.queued().map(|v| v.id), Some(second));
        let last = 2 + 3 * RECENT_VIEWS as u64;
        assert_eq!(views.latest().map(|v| v.id), Some(last));
        assert_eq!(lock(&views.recent).len(), RECENT_VIEWS);
        // Two slots are pinned; the other six hold the six newest views.
        assert_eq!(views.phrase(last - 5).map(|v| v.id), Some(last - 5));
        assert!(views.phrase(last - 6).is_none());
        assert!(views.phrase(second + 1).is_none());
    }

    #[test]
    fn only_the_last_model_choice_waits_and_the_inbox_is_bounded() {
        let views = Views::new();
        let knobs = Knobs::default();
        let entry = HistoryEntry {
            seed: 3,
            progression: Progression {
                key: 0,
                mode: Mode::Ionian,
                bars: Vec::new(),
            },
            energy: 0.5,
            valence: 0.5,
            groove: None,
            groove_seed: None,
        };
        for dir in ["a", "b", "c"] {
            views.send(EditorToWorker::UseModel {
                dir: Some(PathBuf::from(dir)),
                knobs,
            });
        }
        views.send(EditorToWorker::Restore {
            index: 0,
            entry: entry.clone(),
            knobs,
        });
        assert_eq!(
            views.take_command(),
            Some(EditorToWorker::UseModel {
                dir: Some(PathBuf::from("c")),
                knobs
            })
        );
        assert!(matches!(
            views.take_command(),
            Some(EditorToWorker::Restore { index: 0, .. })
        ));
        assert_eq!(views.take_command(), None);
        for i in 0..EDITOR_INBOX_CAPACITY + 4 {
            views.send(EditorToWorker::Restore {
                index: i,
                entry: entry.clone(),
                knobs,
            });
        }
        assert!(matches!(
            views.take_command(),
            Some(EditorToWorker::Restore { index: 4, .. })
        ));
        assert_eq!(
            views.commands_sent(),
            3 + 1 + EDITOR_INBOX_CAPACITY as u64 + 4
        );
    }
}
